//! Affiliates, their campaign memberships and fingerprints.

use refline_domain::{MembershipStatus, Mode};

use crate::{
    Affiliate, AffiliateFilter, AffiliateFingerprints, AffiliateSort, Membership, MembershipView, Page,
    PageRequest, StoreResult,
};

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
    /// `mode` is live; false when it was not `from`.
    async fn update_membership_status(
        &self,
        membership: &Membership,
        from: MembershipStatus,
        to: MembershipStatus,
        now: i64,
        mode: Mode,
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
