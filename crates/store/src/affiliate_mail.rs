//! What the affiliate mails need besides the outbox: the pending "new commission credited"
//! digests (written by the conversion batch writer, sent at most once an hour per affiliate
//! row) and people's unsubscribes from non-essential mails.

use refline_domain::ConversionStatus;
use sqlx::FromRow;

use crate::{Conversion, OutgoingMail, Person, StoreResult};

/// The mail kind of the commission digest (also its unsubscribe kind).
pub const COMMISSION_MAIL: &str = "commission_credited";

/// Whether a newly recorded sale goes into its affiliate's next "new commission credited"
/// mail: a live sale with a commission above zero that is not rejected. Test-key sales never
/// do. Pure, so the batch writer and its tests agree on it.
pub fn credits_commission(c: &Conversion) -> bool {
    c.mode.is_live() && c.commission_minor > 0 && c.status != ConversionStatus::Rejected
}

/// Digests and unsubscribes.
#[async_trait::async_trait]
pub trait AffiliateMailStore {
    /// Claims up to `limit` affiliates with sales waiting since `settled_before` or earlier,
    /// whose last digest is older than `mailed_before` (or who never had one) and whom no other
    /// node is writing for: each is leased until `lease_until`. Answers (merchant id,
    /// affiliate id) pairs.
    async fn claim_commission_digests(
        &self,
        now: i64,
        mailed_before: i64,
        settled_before: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    /// What waits for an affiliate's next digest, one row per campaign, currency and shard.
    async fn commission_digest_items(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
    ) -> StoreResult<Vec<DigestItem>>;
    /// Ends a digest in one transaction: subtracts `items` (what the mail says; anything added
    /// since stays for the next), queues `mail` (none when the affiliate gets no mail), and
    /// records `now` as the last digest and the lease as released.
    async fn finish_commission_digest(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        items: &[DigestItem],
        mail: Option<&OutgoingMail>,
        now: i64,
    ) -> StoreResult<()>;
    /// The person an affiliate row belongs to (its portal login), if any.
    async fn person_of_affiliate(&self, merchant_id: &str, affiliate_id: &str)
        -> StoreResult<Option<Person>>;
    /// Whether the person stopped `kind` mails of the merchant.
    async fn mail_unsubscribed(&self, person_id: &str, merchant_id: &str, kind: &str) -> StoreResult<bool>;
    /// Stops (`subscribed = false`) or restarts `kind` mails of the merchant for the person;
    /// answers whether anything changed.
    async fn set_mail_subscription(
        &self,
        person_id: &str,
        merchant_id: &str,
        kind: &str,
        subscribed: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// Every (merchant id, kind) the person unsubscribed from.
    async fn mail_unsubscribes(&self, person_id: &str) -> StoreResult<Vec<(String, String)>>;
}

/// Sales waiting for an affiliate's next digest, on one campaign in one currency (one shard's
/// share: the digest adds the shards up).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DigestItem {
    /// The campaign.
    pub campaign_id: String,
    /// Its currency.
    pub currency: String,
    /// The writer's shard row.
    pub shard: i64,
    /// Sales.
    pub conversions: i64,
    /// Their commissions, minor units.
    pub commission_minor: i64,
    /// The oldest (unix ms).
    pub first_at: i64,
}

/// What one batch adds to the digests: per (merchant, affiliate, campaign, currency), sales
/// and commission, in key order (so parallel writers lock rows in one order), for the rows
/// [`credits_commission`] accepts.
pub fn digest_delta<'a>(
    written: impl IntoIterator<Item = &'a Conversion>,
) -> Vec<((String, String, String, String), i64, i64, i64)> {
    let mut sums: std::collections::BTreeMap<(String, String, String, String), (i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for c in written.into_iter().filter(|c| credits_commission(c)) {
        let key = (c.merchant_id.clone(), c.affiliate_id.clone(), c.campaign_id.clone(), c.currency.clone());
        let entry = sums.entry(key).or_insert((0, 0, c.created_at));
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(c.commission_minor);
        entry.2 = entry.2.min(c.created_at);
    }
    sums.into_iter().map(|(k, (n, minor, first))| (k, n, minor, first)).collect()
}
