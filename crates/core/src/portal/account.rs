//! The person's own account in the portal: the coupons merchants assigned them (the merchant's
//! `list_coupons`, filtered to the person's row), their display name, and a password change
//! that needs the current password (the login's check and throttle, `Core::check_password`)
//! and ends every other portal session.

use refline_domain::{first_forbidden_char, password_problem};
use refline_store::{Coupon, CouponFilter, PageRequest};

use super::PortalSignedIn;
use crate::{
    sign_in::{SessionContext, SignInKind},
    team::password,
    Core, CoreError, CoreResult, Issue,
};

/// One coupon of the person's.
#[derive(Debug, Clone)]
pub struct PersonCoupon {
    /// The merchant's business name.
    pub business_name: String,
    /// The campaign's name.
    pub campaign_name: String,
    /// The coupon.
    pub coupon: Coupon,
}

impl Core {
    /// The coupons assigned to the person's affiliate rows, per program.
    pub async fn portal_coupons(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<PersonCoupon>> {
        let mut out = Vec::new();
        for scoped in self.portal_scopes(signed_in).await? {
            let m = &scoped.membership;
            let filter = CouponFilter {
                campaign_id: Some(m.campaign_id.clone()),
                affiliate_id: Some(m.affiliate_id.clone()),
                ..CouponFilter::default()
            };
            let page = PageRequest { limit: 100, offset: 0, sort: (), descending: false };
            let coupons = self.list_coupons(&scoped.actor, &filter, page).await?.items;
            let campaign_name = self
                .store
                .get_campaign(&m.merchant_id, &m.campaign_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            out.extend(coupons.into_iter().map(|coupon| PersonCoupon {
                business_name: m.business_name.clone(),
                campaign_name: campaign_name.clone(),
                coupon,
            }));
        }
        Ok(out)
    }

    /// Sets the person's display name (1 to 200 characters, no control characters: the join
    /// page's rule). Audited as `portal.profile`.
    pub async fn portal_set_name(&self, signed_in: &PortalSignedIn, name: &str) -> CoreResult<()> {
        let name = name.trim().to_string();
        let result = async {
            let chars = name.chars().count();
            if chars == 0 || chars > 200 {
                return Err(CoreError::validation(vec![Issue::field(
                    "name",
                    "name must be 1 to 200 characters",
                )]));
            }
            if first_forbidden_char(&name).is_some() {
                return Err(CoreError::validation(vec![Issue::field(
                    "name",
                    "name contains a character that is not allowed",
                )]));
            }
            Ok(self.store.set_person_name(&signed_in.person.id, &name).await?)
        }
        .await;
        let id = signed_in.person.id.as_str();
        self.record_audit(None, &signed_in.door(), "portal.profile", Some(id), &result).await;
        result
    }

    /// Changes the person's password: the current one must match (failures count toward the
    /// login throttle), the new one follows the password rule; every other session ends.
    /// Audited as `portal.password_change`.
    pub async fn portal_change_password(
        &self,
        signed_in: &PortalSignedIn,
        current: &str,
        new_password: &str,
        context: &SessionContext,
    ) -> CoreResult<()> {
        let person = &signed_in.person;
        let result = async {
            if let Some(problem) = password_problem(new_password, &person.email) {
                return Err(CoreError::validation(vec![Issue::field("new_password", problem)]));
            }
            let stored = self.store.get_person(&person.id).await?.and_then(|p| p.password_hash);
            if let Err(err) =
                self.check_password(SignInKind::Person, &person.email, current, stored, context).await
            {
                return Err(if err.code == "invalid_credentials" {
                    CoreError::validation(vec![Issue::field(
                        "current_password",
                        "the current password is wrong",
                    )])
                } else {
                    err
                });
            }
            let hash = password::hash(new_password.to_string()).await?;
            let keep = signed_in.session.id_hash.as_str();
            Ok(self.store.change_person_password(&person.id, &hash, keep, self.now()).await?)
        }
        .await;
        self.record_audit(None, &signed_in.door(), "portal.password_change", Some(&person.id), &result).await;
        result
    }
}
