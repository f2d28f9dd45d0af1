//! The portal's links page: per program, the hosted tracking link and the person's short
//! links; creating a short link runs the API's `create_link` (same code rule, same `code_taken`)
//! for the person's own affiliate row, through the portal door.

use refline_store::{LinkFilter, PageRequest};

use super::PortalSignedIn;
use crate::{affiliates::tracking_link, links::LinkInput, links::LinkOut, Core, CoreResult};

/// One program's links.
#[derive(Debug, Clone)]
pub struct ProgramLinks {
    /// The merchant's business name.
    pub business_name: String,
    /// The campaign.
    pub campaign_id: String,
    /// Its name.
    pub campaign_name: String,
    /// The hosted tracking link.
    pub tracking_link: String,
    /// The person's short links on it, newest first (at most 100).
    pub short_links: Vec<LinkOut>,
}

impl Core {
    /// The links of every program the person may promote (rejected memberships left out).
    pub async fn portal_links(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<ProgramLinks>> {
        let mut out = Vec::new();
        for scoped in self.portal_scopes(signed_in).await? {
            let m = &scoped.membership;
            let Some(campaign) = self.store.get_campaign(&m.merchant_id, &m.campaign_id).await? else {
                continue;
            };
            let filter = LinkFilter {
                campaign_id: Some(m.campaign_id.clone()),
                affiliate_id: Some(m.affiliate_id.clone()),
            };
            let page = PageRequest { limit: 100, offset: 0, sort: (), descending: true };
            let short_links = self.list_links(&scoped.actor, &filter, page).await?.items;
            out.push(ProgramLinks {
                business_name: m.business_name.clone(),
                campaign_id: campaign.id.clone(),
                campaign_name: campaign.name.clone(),
                tracking_link: tracking_link(&self.public_url, &campaign.tracking_code, &m.affiliate_id),
                short_links,
            });
        }
        Ok(out)
    }

    /// Creates a short link on one of the person's campaigns, with `code` or a generated one.
    /// Another person's campaign answers 404; the rest (validation, `code_taken`, the audit
    /// entry `link.create`) is `create_link`'s.
    pub async fn portal_create_link(
        &self,
        signed_in: &PortalSignedIn,
        campaign_id: &str,
        code: Option<String>,
    ) -> CoreResult<LinkOut> {
        let scoped = self.portal_scope(signed_in, campaign_id).await?;
        let input = LinkInput {
            campaign_id: Some(scoped.membership.campaign_id.clone()),
            affiliate_id: Some(scoped.membership.affiliate_id.clone()),
            code,
            unreadable: Vec::new(),
        };
        self.create_link(&scoped.actor, input).await
    }
}
