//! What the portal lists: every campaign the person is on, across merchants, with its status
//! and terms. Only rows linked to the person count (see `0014_affiliate_accounts.sql`).

use refline_domain::MembershipStatus;
use refline_store::Campaign;

use super::PortalSignedIn;
use crate::{affiliates::tracking_link, terms, Core, CoreResult};

/// One program of the person.
#[derive(Debug, Clone)]
pub struct Program {
    /// The person's affiliate row at this merchant.
    pub affiliate_id: String,
    /// The merchant's business name.
    pub business_name: String,
    /// The campaign.
    pub campaign: Campaign,
    /// The membership's status.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
    /// The commission terms in a sentence.
    pub terms: String,
    /// The hosted tracking link; `None` for a rejected membership (its clicks are not credited).
    pub tracking_link: Option<String>,
}

impl Core {
    /// The person's programs, oldest membership first.
    pub async fn portal_programs(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<Program>> {
        let memberships = self.store.person_memberships(&signed_in.person.id).await?;
        let mut programs = Vec::with_capacity(memberships.len());
        for m in memberships {
            let Some(campaign) = self.store.get_campaign(&m.merchant_id, &m.campaign_id).await? else {
                continue;
            };
            let link = (m.status != MembershipStatus::Rejected)
                .then(|| tracking_link(&self.public_url, &campaign.tracking_code, &m.affiliate_id));
            programs.push(Program {
                affiliate_id: m.affiliate_id,
                business_name: m.business_name,
                terms: terms::summary(&campaign),
                campaign,
                status: m.status,
                joined_at: m.joined_at,
                tracking_link: link,
            });
        }
        Ok(programs)
    }
}
