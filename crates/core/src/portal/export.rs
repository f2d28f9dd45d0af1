//! The person's own data, for the portal's export (JSON or CSV, rendered by the door): their
//! login, programs, short links, commissions (customers masked: they are the merchant's data,
//! not the person's), payouts and payout details. Built from the portal's other reads, so it
//! holds exactly what the portal shows, nothing of other people.

use refline_domain::{mask_email, Mode};
use refline_store::{ConversionFilter, ConversionSort, PageRequest};

use super::{links::ProgramLinks, payouts::MerchantPayouts, programs::Program, PortalSignedIn};
use crate::{Core, CoreResult};

/// Commissions read per program at most (pages of 100).
const MAX_COMMISSIONS: i64 = 10_000;

/// One commission in the export.
#[derive(Debug, Clone)]
pub struct ExportedCommission {
    /// The merchant's business name.
    pub business_name: String,
    /// The campaign's id.
    pub campaign_id: String,
    /// Unix ms.
    pub created_at: i64,
    /// Its status.
    pub status: &'static str,
    /// Minor units.
    pub commission_minor: i64,
    /// Currency.
    pub currency: String,
    /// Masked customer email, or empty.
    pub customer: String,
}

/// Everything the export holds.
#[derive(Debug, Clone)]
pub struct PortalExport {
    /// The login's email.
    pub email: String,
    /// The display name.
    pub name: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Programs, with status and terms.
    pub programs: Vec<Program>,
    /// Links per program.
    pub links: Vec<ProgramLinks>,
    /// Every commission (live), newest first.
    pub commissions: Vec<ExportedCommission>,
    /// Balances, payouts and payout details per merchant.
    pub payouts: Vec<MerchantPayouts>,
}

impl Core {
    /// The person's data. Audited as `portal.export`.
    pub async fn portal_export(&self, signed_in: &PortalSignedIn) -> CoreResult<PortalExport> {
        let result = self.portal_export_work(signed_in).await;
        let audit = result.as_ref().map(|_| ()).map_err(Clone::clone);
        let id = signed_in.person.id.as_str();
        self.record_audit(None, &signed_in.door(), "portal.export", Some(id), &audit).await;
        result
    }

    async fn portal_export_work(&self, signed_in: &PortalSignedIn) -> CoreResult<PortalExport> {
        let mut commissions = Vec::new();
        for scoped in self.portal_scopes(signed_in).await? {
            let m = &scoped.membership;
            let filter = ConversionFilter {
                mode: Mode::Live,
                campaign_id: Some(m.campaign_id.clone()),
                affiliate_id: Some(m.affiliate_id.clone()),
                ..ConversionFilter::default()
            };
            let mut offset = 0;
            while offset < MAX_COMMISSIONS {
                let page =
                    PageRequest { limit: 100, offset, sort: ConversionSort::CreatedAt, descending: true };
                let found = self.list_conversions(&scoped.actor, &filter, page).await?;
                let got = found.items.len();
                commissions.extend(found.items.into_iter().map(|c| ExportedCommission {
                    business_name: m.business_name.clone(),
                    campaign_id: c.campaign_id,
                    created_at: c.created_at,
                    status: c.status.as_str(),
                    commission_minor: c.commission_minor,
                    customer: c.customer_email.as_deref().map(mask_email).unwrap_or_default(),
                    currency: c.currency,
                }));
                if got < 100 {
                    break;
                }
                offset += 100;
            }
        }
        commissions.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        let person = &signed_in.person;
        Ok(PortalExport {
            email: person.email.clone(),
            name: person.name.clone(),
            created_at: person.created_at,
            programs: self.portal_programs(signed_in).await?,
            links: self.portal_links(signed_in).await?,
            commissions,
            payouts: self.portal_payouts(signed_in).await?,
        })
    }
}
