//! Affiliates, their campaign memberships and fingerprints.

use refline_domain::{MembershipStatus, Mode};
use sqlx::FromRow;

use crate::{Page, PageRequest, StoreResult};

/// What creating an affiliate did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateAffiliateOutcome {
    /// Created together with its membership.
    Created,
    /// This merchant already has an affiliate with that email.
    EmailTaken {
        /// The existing affiliate.
        existing_id: String,
    },
}

impl AffiliateFingerprints {
    /// Fingerprint rows (kind, value) sorted into their lists; kinds this version does not know
    /// are skipped.
    pub fn from_rows(rows: Vec<(String, String)>) -> Self {
        let mut prints = AffiliateFingerprints::default();
        for (kind, value) in rows {
            match kind.as_str() {
                "ip" => prints.ips.push(value),
                "device" => prints.devices.push(value),
                _ => {}
            }
        }
        prints
    }
}

/// Affiliates and memberships of a merchant.
#[async_trait::async_trait]
pub trait AffiliateStore {
    /// Creates an affiliate and its first membership in one transaction, announcing
    /// `affiliate.joined` when `mode` is live.
    async fn create_affiliate(
        &self,
        affiliate: &Affiliate,
        membership: &Membership,
        mode: Mode,
    ) -> StoreResult<CreateAffiliateOutcome>;
    /// Adds a membership (join flow, invitations); a repeat is a `Conflict`.
    async fn insert_membership(&self, membership: &Membership) -> StoreResult<()>;
    /// A merchant's affiliate by id.
    async fn get_affiliate(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Affiliate>>;
    /// One membership.
    async fn get_membership(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
    ) -> StoreResult<Option<Membership>>;
    /// Moves a membership from `from` to `to` (compare-and-set), announcing the change when
    /// `mode` is live and queueing `mail` (the approved / rejected mail) in the same
    /// transaction; false (and nothing written) when it was not `from`.
    async fn update_membership_status(
        &self,
        membership: &Membership,
        from: MembershipStatus,
        to: MembershipStatus,
        now: i64,
        mode: Mode,
        mail: Option<&crate::OutgoingMail>,
    ) -> StoreResult<bool>;
    /// Removes an affiliate from a campaign (its conversions stay), announcing
    /// `affiliate.removed` when `mode` is live; false when it was not on the campaign.
    async fn remove_membership(&self, membership: &Membership, now: i64, mode: Mode) -> StoreResult<bool>;
    /// All memberships of one affiliate with earnings (live or test) and clicks.
    async fn affiliate_memberships(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        mode: Mode,
    ) -> StoreResult<Vec<MembershipView>>;
    /// A page of memberships (one row per affiliate and campaign).
    async fn list_memberships(
        &self,
        merchant_id: &str,
        filter: &AffiliateFilter,
        mode: Mode,
        page: PageRequest<AffiliateSort>,
    ) -> StoreResult<Page<MembershipView>>;
    /// Remembers an IP or device seen from the affiliate's own activity.
    async fn record_fingerprint(
        &self,
        affiliate_id: &str,
        kind: &str,
        value: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// IPs and devices seen from the affiliate's own activity.
    async fn affiliate_fingerprints(&self, affiliate_id: &str) -> StoreResult<AffiliateFingerprints>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// An affiliate of one merchant. Email is unique per merchant.
#[derive(Debug, Clone, FromRow)]
pub struct Affiliate {
    /// `aff_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// `api`, `portal`, `invite`…
    pub created_via: String,
    /// Unix ms.
    pub created_at: i64,
    /// How the affiliate is paid (JSON, `refline_core::payouts::PayoutMethod`), if set.
    #[sqlx(default)]
    pub payout_method: Option<String>,
}

/// An affiliate's place on a campaign.
#[derive(Debug, Clone, FromRow)]
pub struct Membership {
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Owner.
    pub merchant_id: String,
    /// `pending`, `approved` or `rejected`.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A membership row with what lists and detail views show beside it.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipView {
    /// Affiliate.
    pub affiliate_id: String,
    /// Affiliate email.
    pub email: String,
    /// Affiliate name.
    pub name: Option<String>,
    /// How the affiliate was created.
    pub created_via: String,
    /// Campaign.
    pub campaign_id: String,
    /// Campaign name.
    pub campaign_name: String,
    /// Campaign tracking code (for links).
    pub tracking_code: String,
    /// Campaign currency (earnings are in it).
    pub currency: String,
    /// Membership status.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
    /// Commission on this campaign that is not rejected or refunded, minor units.
    pub earnings_minor: i64,
    /// Clicks of this affiliate on this campaign.
    #[sqlx(flatten)]
    pub clicks: crate::ClickTotals,
}

/// Filters for affiliate (membership) lists.
#[derive(Debug, Clone, Default)]
pub struct AffiliateFilter {
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this membership status.
    pub status: Option<MembershipStatus>,
    /// Only affiliates whose email or name contains this text (case-insensitive; `%` and `_`
    /// match themselves). Blank means no search.
    pub search: Option<String>,
}

impl AffiliateFilter {
    /// The `LIKE` pattern of `search` (trimmed, lower-cased, with `%`, `_` and `\` escaped by `\`),
    /// if any. SQLite's `LOWER` folds ASCII only: there, a stored non-ASCII capital (É) is not
    /// found by its small letter.
    pub fn search_pattern(&self) -> Option<String> {
        let text = self.search.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
        let mut pattern = String::from("%");
        for ch in text.to_lowercase().chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        Some(pattern)
    }
}

/// Sort columns for affiliate lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AffiliateSort {
    /// Membership `joined_at`.
    JoinedAt,
    /// Affiliate name.
    Name,
    /// Affiliate email.
    Email,
}

/// IPs and device hashes seen from the affiliate's own activity.
#[derive(Debug, Clone, Default)]
pub struct AffiliateFingerprints {
    /// IP addresses.
    pub ips: Vec<String>,
    /// Device hashes.
    pub devices: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_rows_are_sorted_by_kind() {
        let rows = [("ip", "1.2.3.4"), ("device", "d1"), ("later", "x"), ("ip", "5.6.7.8")];
        let prints = AffiliateFingerprints::from_rows(
            rows.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        );
        assert_eq!(prints.ips, ["1.2.3.4", "5.6.7.8"]);
        assert_eq!(prints.devices, ["d1"]);
    }
}
