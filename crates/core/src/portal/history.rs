//! Paged lists of the portal: every commission of one program and every payout at one
//! business, newest first, 50 a page (the store's offset paging with its total). The
//! performance and payouts pages show the first page and link here for the rest.

use refline_domain::Mode;
use refline_store::{ConversionFilter, ConversionSort, PageRequest, PayoutFilter};

use super::{
    performance::{commission_line, CommissionLine},
    PortalSignedIn,
};
use crate::{payouts::render::PayoutView, Core, CoreError, CoreResult};

/// Rows per page.
pub const PER_PAGE: i64 = 50;
/// The last page anyone may ask for (bounds the offset).
const MAX_PAGE: i64 = 100_000;

/// Where a paged list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// This page, from 1.
    pub page: i64,
    /// Pages in all (at least 1).
    pub pages: i64,
    /// Rows in all.
    pub total: i64,
}

impl Paging {
    fn of(page: i64, total: i64) -> Paging {
        Paging { page, pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1), total }
    }
}

/// One page of a program's commissions.
#[derive(Debug, Clone)]
pub struct CommissionsPage {
    /// The business.
    pub business_name: String,
    /// The campaign.
    pub campaign_name: String,
    /// This page's commissions, newest first.
    pub lines: Vec<CommissionLine>,
    /// Where it stands.
    pub paging: Paging,
}

/// One page of the payouts at one business.
#[derive(Debug, Clone)]
pub struct PayoutsPage {
    /// The business.
    pub business_name: String,
    /// This page's payouts, newest first.
    pub payouts: Vec<PayoutView>,
    /// Where it stands.
    pub paging: Paging,
}

/// The request for `page` (clamped to 1..=MAX_PAGE).
fn request<S>(page: i64, sort: S) -> (i64, PageRequest<S>) {
    let page = page.clamp(1, MAX_PAGE);
    (page, PageRequest { limit: PER_PAGE, offset: (page - 1) * PER_PAGE, sort, descending: true })
}

impl Core {
    /// Page `page` of the person's commissions on `campaign_id` (live; 404 for a campaign that
    /// is not theirs).
    pub async fn portal_commissions(
        &self,
        signed_in: &PortalSignedIn,
        campaign_id: &str,
        page: i64,
    ) -> CoreResult<CommissionsPage> {
        let scoped = self.portal_scope(signed_in, campaign_id).await?;
        let m = &scoped.membership;
        let filter = ConversionFilter {
            mode: Mode::Live,
            status: None,
            campaign_id: Some(m.campaign_id.clone()),
            affiliate_id: Some(m.affiliate_id.clone()),
            from: None,
            to: None,
        };
        let (page, request) = request(page, ConversionSort::CreatedAt);
        let found = self.list_conversions(&scoped.actor, &filter, request).await?;
        let campaign_name = self
            .store
            .get_campaign(&m.merchant_id, &m.campaign_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        Ok(CommissionsPage {
            business_name: m.business_name.clone(),
            campaign_name,
            lines: found.items.into_iter().map(commission_line).collect(),
            paging: Paging::of(page, found.total),
        })
    }

    /// Page `page` of the payouts of the person's affiliate row `affiliate_id` (live; 404 for a
    /// row that is not theirs).
    pub async fn portal_payout_history(
        &self,
        signed_in: &PortalSignedIn,
        affiliate_id: &str,
        page: i64,
    ) -> CoreResult<PayoutsPage> {
        let scoped = self
            .portal_scopes(signed_in)
            .await?
            .into_iter()
            .find(|s| s.membership.affiliate_id == affiliate_id)
            .ok_or_else(|| CoreError::not_found("Affiliate"))?;
        let filter = PayoutFilter { affiliate_id: Some(affiliate_id.to_string()), ..PayoutFilter::default() };
        let (page, request) = request(page, ());
        let found = self.list_payouts(&scoped.actor, filter, request).await?;
        Ok(PayoutsPage {
            business_name: scoped.membership.business_name.clone(),
            payouts: found.items,
            paging: Paging::of(page, found.total),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{request, Paging};

    #[test]
    fn pages_count_and_clamp() {
        assert_eq!(Paging::of(1, 0).pages, 1);
        assert_eq!(Paging::of(1, 50).pages, 1);
        assert_eq!(Paging::of(2, 51).pages, 2);
        assert_eq!(request(0, ()).0, 1);
        assert_eq!(request(i64::MAX, ()).1.offset, (100_000 - 1) * 50);
    }
}
