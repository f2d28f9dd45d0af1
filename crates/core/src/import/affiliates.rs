//! Importing affiliates with their memberships, their referral links (the source token becomes
//! a short-link code, so `/l/<token>` keeps attributing) and their coupons.

use refline_domain::{canonical_email, is_valid_email, is_valid_short_code, MembershipStatus};
use refline_processors::Provider;
use refline_store::Affiliate;

use super::{kind, skip, Change, Earlier, Imported};
use crate::{
    coupons::CouponInput, ids::new_id, links::LinkInput, payouts::PayoutMethod, Actor, Core, CoreError,
    CoreResult,
};

/// A source affiliate (partner, promoter, partnership) in Refline's terms.
#[derive(Debug, Clone)]
pub struct ImportedAffiliate {
    /// The source's id.
    pub source_id: String,
    /// Email, in any form (the canonical one is stored).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// The source campaigns it is on, with its status on each.
    pub campaigns: Vec<(String, MembershipStatus)>,
    /// When it joined at the source (unix ms).
    pub created_at: Option<i64>,
}

/// A referral link of an affiliate: its token becomes the code of a short link.
#[derive(Debug, Clone)]
pub struct ImportedLink {
    /// The source's id (the token itself where links have no id).
    pub source_id: String,
    /// The affiliate's source id.
    pub affiliate_source_id: String,
    /// The campaign's source id; the affiliate's first campaign when `None`.
    pub campaign_source_id: Option<String>,
    /// The token (`?via=`, `?ref=`…).
    pub token: String,
}

/// A coupon registered to an affiliate at the source.
#[derive(Debug, Clone)]
pub struct ImportedCoupon {
    /// The source's id.
    pub source_id: String,
    /// The code customers type.
    pub code: String,
    /// The affiliate's source id.
    pub affiliate_source_id: String,
    /// The campaign's source id; the affiliate's first campaign when `None`.
    pub campaign_source_id: Option<String>,
    /// The payment processor's coupon id.
    pub provider_coupon_id: Option<String>,
    /// The payment processor's promotion-code id.
    pub provider_promotion_code_id: Option<String>,
}

/// How an imported affiliate is paid, as the source has it.
#[derive(Debug, Clone)]
pub struct ImportedPayoutMethod {
    /// The affiliate's source id (it is also this object's: one method per affiliate).
    pub affiliate_source_id: String,
    /// The method.
    pub method: PayoutMethod,
}

impl Core {
    /// Creates the affiliate (or finds the merchant's affiliate with its email) and puts it on
    /// its campaigns with the source's statuses. Announces nothing.
    pub async fn import_affiliate(&self, actor: &Actor, input: ImportedAffiliate) -> CoreResult<Imported> {
        self.audited(actor, "affiliate.import", None, self.import_affiliate_work(actor, input)).await
    }

    pub(super) async fn import_affiliate_work(
        &self,
        actor: &Actor,
        input: ImportedAffiliate,
    ) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::AFFILIATE, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, found: before } = earlier;
        let email = canonical_email(&input.email);
        if !is_valid_email(&email) {
            return Err(skip("invalid_email", format!("{:?} is not a valid email address", input.email)));
        }
        let mut campaigns = Vec::with_capacity(input.campaigns.len());
        for (campaign, status) in &input.campaigns {
            let id =
                self.imported_id(actor, &source, kind::CAMPAIGN, campaign, "campaign_not_imported").await?;
            campaigns.push((id, *status));
        }
        if campaigns.is_empty() {
            return Err(skip("campaign_not_imported", "the affiliate is on no campaign at the source"));
        }
        let now = self.now();
        let (id, created) = match &before {
            Some(found) => (found.refline_id.clone(), false),
            None => {
                let affiliate = Affiliate {
                    id: new_id("aff"),
                    merchant_id: actor.merchant_id.clone(),
                    email,
                    name: input.name.clone().filter(|n| !n.trim().is_empty()),
                    created_via: "import".into(),
                    created_at: input.created_at.unwrap_or(now),
                    payout_method: None,
                };
                self.store.import_affiliate(&affiliate).await?
            }
        };
        let mut changed = false;
        for (campaign, status) in campaigns {
            changed |= self.store.import_membership(&actor.merchant_id, &campaign, &id, status, now).await?;
        }
        if changed {
            self.effects.links_changed();
        }
        self.remember_import(actor, &source, kind::AFFILIATE, &input.source_id, &id, print).await?;
        let change = match (created, changed) {
            (true, _) => Change::Created,
            (false, true) => Change::Updated,
            (false, false) => Change::Unchanged,
        };
        Ok(Imported { id, change })
    }

    /// Makes the affiliate's source token a short-link code: `/l/<token>` then attributes to
    /// the imported affiliate. A code already taken by someone else is skipped
    /// (`link_code_taken`); one the same affiliate holds already counts as imported.
    pub async fn import_link(&self, actor: &Actor, input: ImportedLink) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::LINK, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, .. } = earlier;
        if !is_valid_short_code(&input.token) {
            return Err(skip(
                "invalid_token",
                format!(
                    "token {:?} cannot be a short-link code (3 to 32 letters, digits, - or _)",
                    input.token
                ),
            ));
        }
        let affiliate = self
            .imported_id(
                actor,
                &source,
                kind::AFFILIATE,
                &input.affiliate_source_id,
                "affiliate_not_imported",
            )
            .await?;
        let campaign =
            self.campaign_for(actor, &source, input.campaign_source_id.as_deref(), &affiliate).await?;
        let link = LinkInput {
            campaign_id: Some(campaign.clone()),
            affiliate_id: Some(affiliate.clone()),
            code: Some(input.token.clone()),
            unreadable: Vec::new(),
        };
        let imported = match self.create_link(actor, link).await {
            Ok(out) => Imported { id: out.view.link.id, change: Change::Created },
            Err(err) if err.code == "code_taken" => {
                self.held_link(actor, &input.token, &affiliate, err).await?
            }
            Err(err) => return Err(err),
        };
        self.remember_import(actor, &source, kind::LINK, &input.source_id, &imported.id, print).await?;
        Ok(imported)
    }

    /// The link holding `code` when it is already the affiliate's; else the refusal.
    async fn held_link(
        &self,
        actor: &Actor,
        code: &str,
        affiliate: &str,
        taken: CoreError,
    ) -> CoreResult<Imported> {
        let held = self.store.resolve_short_link(code).await?;
        match held {
            Some(t) if t.merchant_id == actor.merchant_id && t.affiliate_id == affiliate => {
                let id = t.link_id.unwrap_or_default();
                Ok(Imported { id, change: Change::Unchanged })
            }
            _ => {
                Err(skip("link_code_taken", format!("short-link code {code:?} is taken: {}", taken.message)))
            }
        }
    }

    /// Registers the affiliate's coupon (Stripe unless said otherwise) through the ordinary
    /// coupon registration: a sale carrying it is credited to the imported affiliate.
    pub async fn import_coupon(&self, actor: &Actor, input: ImportedCoupon) -> CoreResult<Imported> {
        let earlier = self.earlier(actor, kind::COUPON, &input.source_id, &input).await?;
        if let Some(same) = earlier.unchanged() {
            return Ok(same);
        }
        let Earlier { source, print, .. } = earlier;
        let affiliate = self
            .imported_id(
                actor,
                &source,
                kind::AFFILIATE,
                &input.affiliate_source_id,
                "affiliate_not_imported",
            )
            .await?;
        let campaign =
            self.campaign_for(actor, &source, input.campaign_source_id.as_deref(), &affiliate).await?;
        let coupon = CouponInput {
            code: Some(input.code.clone()),
            campaign_id: Some(campaign),
            affiliate_id: Some(affiliate),
            provider: Some(Provider::Stripe),
            provider_coupon_id: input.provider_coupon_id.clone(),
            provider_promotion_code_id: input.provider_promotion_code_id.clone(),
            ..CouponInput::default()
        };
        let registered = self.register_coupon(actor, coupon).await.map_err(|err| match err.code {
            "duplicate" => skip(
                "coupon_code_taken",
                format!("coupon {:?} is registered to another affiliate", input.code),
            ),
            _ => err,
        })?;
        let change = if registered.created { Change::Created } else { Change::Unchanged };
        let imported = Imported { id: registered.coupon.id, change };
        self.remember_import(actor, &source, kind::COUPON, &input.source_id, &imported.id, print).await?;
        Ok(imported)
    }
}

impl Core {
    /// Sets the imported affiliate's payout details as the source has them (quietly: no
    /// announcement; audited as the import of them).
    pub async fn import_payout_method(
        &self,
        actor: &Actor,
        input: ImportedPayoutMethod,
    ) -> CoreResult<Imported> {
        self.audited(actor, "affiliate.payout_method.import", None, async {
            let earlier =
                self.earlier(actor, kind::PAYOUT_METHOD, &input.affiliate_source_id, &input).await?;
            if let Some(same) = earlier.unchanged() {
                return Ok(same);
            }
            let Earlier { source, print, found: before } = earlier;
            let affiliate = self
                .imported_id(
                    actor,
                    &source,
                    kind::AFFILIATE,
                    &input.affiliate_source_id,
                    "affiliate_not_imported",
                )
                .await?;
            let stored = input.method.to_json().to_string();
            if !self.store.set_payout_method(&actor.merchant_id, &affiliate, Some(&stored)).await? {
                return Err(skip("affiliate_not_imported", "the affiliate is gone"));
            }
            self.remember_import(
                actor,
                &source,
                kind::PAYOUT_METHOD,
                &input.affiliate_source_id,
                &affiliate,
                print,
            )
            .await?;
            let change = if before.is_some() { Change::Updated } else { Change::Created };
            Ok(Imported { id: affiliate, change })
        })
        .await
    }
}
