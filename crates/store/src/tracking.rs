//! Clicks, short links and what a tracking link resolves to.

use std::collections::BTreeMap;

use refline_domain::{CampaignStatus, MembershipStatus};
use sqlx::FromRow;

use crate::{Page, PageRequest, StoreResult};

/// A recorded click.
#[derive(Debug, Clone, FromRow)]
pub struct Click {
    /// `click_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Visitor IP, kept only for the fraud window, then cleared.
    pub ip: Option<String>,
    /// Hash of the visitor's device signature (user agent).
    pub device_hash: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// The short link clicked, if any.
    pub link_id: Option<String>,
    /// `redirect`, `short_link` or `beacon`.
    pub source: String,
    /// `human` or `bot`.
    pub kind: String,
    /// First click of this visitor on this link within the hour.
    pub is_unique: bool,
    /// Page the visitor landed on (beacon clicks; `None` for redirects, whose destination is
    /// the campaign's landing page).
    pub landing_url: Option<String>,
    /// `Referer` of the click.
    pub referrer: Option<String>,
}

/// Click counts of a link, affiliate or campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct ClickTotals {
    /// Clicks by people (bots and HEAD requests excluded).
    pub clicks: i64,
    /// Of those, first visits of a visitor to the link within an hour.
    pub unique_clicks: i64,
    /// Clicks by crawlers, link previews and headless clients.
    pub bot_clicks: i64,
    /// `HEAD` requests (never clicks).
    pub head_requests: i64,
}

impl ClickTotals {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: ClickTotals) {
        self.clicks += other.clicks;
        self.unique_clicks += other.unique_clicks;
        self.bot_clicks += other.bot_clicks;
        self.head_requests += other.head_requests;
    }
}

/// Counts to add to one (campaign, affiliate, link) total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickTally {
    /// Owner.
    pub merchant_id: String,
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Short link id, or empty for the plain tracking link and the beacon.
    pub link_id: String,
    /// Counts to add.
    pub totals: ClickTotals,
}

/// Folds stored clicks and HEAD counts into one tally per (campaign, affiliate, link), in key
/// order so concurrent writers lock total rows in the same order.
pub fn tally_clicks(stored: &[&Click], heads: &[ClickTally]) -> Vec<ClickTally> {
    // Borrowed keys while counting: one tally per link, not three strings per click.
    type Key<'a> = (&'a str, &'a str, &'a str);
    let mut by_key: BTreeMap<Key<'_>, (&str, ClickTotals)> = BTreeMap::new();
    for click in stored {
        let counts = if click.kind == "bot" {
            ClickTotals { bot_clicks: 1, ..Default::default() }
        } else {
            ClickTotals { clicks: 1, unique_clicks: i64::from(click.is_unique), ..Default::default() }
        };
        let key =
            (click.campaign_id.as_str(), click.affiliate_id.as_str(), click.link_id.as_deref().unwrap_or(""));
        by_key.entry(key).or_insert((click.merchant_id.as_str(), ClickTotals::default())).1.add(counts);
    }
    for head in heads {
        let key = (head.campaign_id.as_str(), head.affiliate_id.as_str(), head.link_id.as_str());
        by_key.entry(key).or_insert((head.merchant_id.as_str(), ClickTotals::default())).1.add(head.totals);
    }
    by_key
        .into_iter()
        .map(|((campaign, affiliate, link), (merchant, totals))| ClickTally {
            merchant_id: merchant.to_string(),
            campaign_id: campaign.to_string(),
            affiliate_id: affiliate.to_string(),
            link_id: link.to_string(),
            totals,
        })
        .collect()
}

/// [`Click::source`] of a hosted link's click (`/redirect`).
pub const SOURCE_REDIRECT: &str = "redirect";
/// [`Click::source`] of a short link's click (`/l/<code>`).
pub const SOURCE_SHORT_LINK: &str = "short_link";
/// [`Click::source`] of a click the tracking script reported (`/api/track/click`).
pub const SOURCE_BEACON: &str = "beacon";

/// Whether this server made the click's id when it took the click (redirects and short links
/// always do; a beacon may carry the id its redirect put in the landing URL, so it may repeat a
/// stored click). A made id carries the time and 71 random bits, so it is never already stored.
pub fn id_made_here(click: &Click) -> bool {
    click.source != SOURCE_BEACON
}

/// Click rows per INSERT statement, largest first. A batch is cut into these fixed sizes so the
/// few distinct statement texts stay in the driver's prepared-statement cache; preparing a
/// fresh thousand-row statement for every batch cost more than inserting the rows.
pub const CLICK_CHUNKS: [usize; 4] = [512, 64, 8, 1];

/// `rows` cut into runs of the sizes in [`CLICK_CHUNKS`].
pub fn click_chunks<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    for size in CLICK_CHUNKS {
        while rows.len() >= size {
            let (chunk, rest) = rows.split_at(size);
            chunks.push(chunk);
            rows = rest;
        }
    }
    chunks
}

/// A short link (`/l/<code>`) for one affiliate on one campaign.
#[derive(Debug, Clone, FromRow)]
pub struct Link {
    /// `link_…`
    pub id: String,
    /// The path segment after `/l/`.
    pub code: String,
    /// Owner.
    pub merchant_id: String,
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A link with what API objects show beside it.
#[derive(Debug, Clone, FromRow)]
pub struct LinkView {
    /// The link.
    #[sqlx(flatten)]
    pub link: Link,
    /// Campaign tracking code.
    pub tracking_code: String,
    /// Its clicks.
    #[sqlx(flatten)]
    pub totals: ClickTotals,
}

/// What a tracking link or short link leads to.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TrackingTarget {
    /// Owner.
    pub merchant_id: String,
    /// Campaign.
    pub campaign_id: String,
    /// Campaign tracking code.
    pub tracking_code: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Campaign landing page.
    pub target_url: Option<String>,
    /// Days the browser remembers the referral.
    pub cookie_window_days: i64,
    /// Campaign status.
    pub campaign_status: CampaignStatus,
    /// The affiliate's membership status on the campaign.
    pub membership_status: MembershipStatus,
    /// The short link, when resolved from one.
    pub link_id: Option<String>,
}

/// Filters of click lists.
#[derive(Debug, Clone, Default)]
pub struct ClickFilter {
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this affiliate.
    pub affiliate_id: Option<String>,
    /// Only this short link.
    pub link_id: Option<String>,
    /// Only `human` or `bot`.
    pub kind: Option<String>,
    /// Only unique (true) or repeat (false) clicks.
    pub unique: Option<bool>,
    /// Created at or after, unix ms.
    pub from: Option<i64>,
    /// Created at or before, unix ms.
    pub to: Option<i64>,
}

/// Filters of link lists.
#[derive(Debug, Clone, Default)]
pub struct LinkFilter {
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this affiliate.
    pub affiliate_id: Option<String>,
}

/// Tracking data of a merchant.
#[async_trait::async_trait]
pub trait TrackingStore {
    /// What `tc` + `aff` lead to, when the affiliate is on that campaign.
    async fn resolve_tracking_link(
        &self,
        tracking_code: &str,
        affiliate_id: &str,
    ) -> StoreResult<Option<TrackingTarget>>;
    /// [`TrackingStore::resolve_tracking_link`] for many `(tracking code, affiliate)` pairs in
    /// one read; one answer per pair, in order.
    async fn resolve_tracking_links(
        &self,
        pairs: &[(String, String)],
    ) -> StoreResult<Vec<Option<TrackingTarget>>>;
    /// What a short-link code leads to, while its affiliate is on the campaign.
    async fn resolve_short_link(&self, code: &str) -> StoreResult<Option<TrackingTarget>>;
    /// Stores clicks (an id already stored is skipped, so a replayed beacon is not counted
    /// twice) and adds them and `heads` (HEAD-request counts) to the running totals, in one
    /// transaction. Returns how many clicks were new.
    async fn record_clicks(&self, clicks: &[Click], heads: &[ClickTally]) -> StoreResult<usize>;
    /// A merchant's click by id.
    async fn find_click(&self, merchant_id: &str, click_id: &str) -> StoreResult<Option<Click>>;
    /// A page of a merchant's clicks, newest first.
    async fn list_clicks(
        &self,
        merchant_id: &str,
        filter: &ClickFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Click>>;
    /// Click totals of a merchant, narrowed to a campaign and/or affiliate.
    async fn click_totals(
        &self,
        merchant_id: &str,
        campaign_id: Option<&str>,
        affiliate_id: Option<&str>,
    ) -> StoreResult<ClickTotals>;
    /// Inserts a short link; a taken code is a `Conflict` on `code`.
    async fn insert_link(&self, link: &Link) -> StoreResult<()>;
    /// A merchant's link by id.
    async fn get_link(&self, merchant_id: &str, id: &str) -> StoreResult<Option<LinkView>>;
    /// A page of a merchant's links, newest first.
    async fn list_links(
        &self,
        merchant_id: &str,
        filter: &LinkFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<LinkView>>;
    /// Deletes a link (its clicks stay); false when it did not exist.
    async fn delete_link(&self, merchant_id: &str, id: &str) -> StoreResult<bool>;
    /// The visitor-hash salt of `day` (days since the epoch): `candidate` if none was chosen
    /// yet. Salts older than yesterday are deleted, so old hashes cannot be recomputed.
    async fn visitor_salt(&self, day: i64, candidate: &str) -> StoreResult<String>;
    /// Tracking codes of a merchant's campaigns whose referral window is not `default_days`.
    async fn cookie_windows(&self, merchant_id: &str, default_days: i64) -> StoreResult<Vec<(String, i64)>>;
    /// Records that the merchant's tracking script ran; true the first time.
    async fn mark_tracking_seen(&self, merchant_id: &str, now: i64) -> StoreResult<bool>;
    /// Clears raw IPs of clicks created before `before`; returns how many were cleared.
    async fn scrub_click_ips(&self, before: i64) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_fixed_sizes() {
        let rows: Vec<u32> = (0..1_100).collect();
        let sizes: Vec<usize> = click_chunks(&rows).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [512, 512, 64, 8, 1, 1, 1, 1]);
        assert_eq!(click_chunks(&rows).concat(), rows);
        assert!(click_chunks::<u32>(&[]).is_empty());
    }

    fn stored(campaign: &str, link: Option<&str>, kind: &str, unique: bool) -> Click {
        Click {
            merchant_id: "mer_1".into(),
            id: "click_1".into(),
            campaign_id: campaign.into(),
            affiliate_id: "aff_1".into(),
            link_id: link.map(str::to_string),
            source: "redirect".into(),
            kind: kind.into(),
            is_unique: unique,
            ip: None,
            device_hash: None,
            landing_url: None,
            referrer: None,
            created_at: 0,
        }
    }

    #[test]
    fn folds_clicks_per_link_in_key_order() {
        let heads = [ClickTally {
            merchant_id: "mer_1".into(),
            campaign_id: "cmp_a".into(),
            affiliate_id: "aff_1".into(),
            link_id: String::new(),
            totals: ClickTotals { head_requests: 2, ..Default::default() },
        }];
        let clicks = [
            stored("cmp_b", None, "human", true),
            stored("cmp_a", None, "human", true),
            stored("cmp_a", None, "human", false),
            stored("cmp_a", None, "bot", false),
            stored("cmp_a", Some("link_1"), "human", true),
        ];
        let tallies = tally_clicks(&clicks.iter().collect::<Vec<_>>(), &heads);
        let keys: Vec<_> = tallies.iter().map(|t| (t.campaign_id.as_str(), t.link_id.as_str())).collect();
        assert_eq!(keys, [("cmp_a", ""), ("cmp_a", "link_1"), ("cmp_b", "")]);
        assert_eq!(
            tallies[0].totals,
            ClickTotals { clicks: 2, unique_clicks: 1, bot_clicks: 1, head_requests: 2 }
        );
        assert_eq!(tallies[1].totals, ClickTotals { clicks: 1, unique_clicks: 1, ..Default::default() });
    }
}
