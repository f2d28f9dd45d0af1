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

/// A digest row's key: (merchant id, affiliate id, campaign id, currency).
pub type DigestKey = (String, String, String, String);

/// What one batch adds to one digest row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestAddition {
    /// The row.
    pub key: DigestKey,
    /// Sales added.
    pub conversions: i64,
    /// Their commissions, minor units.
    pub commission_minor: i64,
    /// The oldest of them (unix ms).
    pub first_at: i64,
}

/// What one batch adds to the digests: per (merchant, affiliate, campaign, currency), sales
/// and commission, in key order (so parallel writers lock rows in one order), for the rows
/// [`credits_commission`] accepts.
pub fn digest_delta<'a>(written: impl IntoIterator<Item = &'a Conversion>) -> Vec<DigestAddition> {
    let mut sums: std::collections::BTreeMap<DigestKey, DigestAddition> = std::collections::BTreeMap::new();
    for c in written.into_iter().filter(|c| credits_commission(c)) {
        let key = (c.merchant_id.clone(), c.affiliate_id.clone(), c.campaign_id.clone(), c.currency.clone());
        let entry = sums.entry(key.clone()).or_insert(DigestAddition {
            key,
            conversions: 0,
            commission_minor: 0,
            first_at: c.created_at,
        });
        entry.conversions += 1;
        entry.commission_minor = entry.commission_minor.saturating_add(c.commission_minor);
        entry.first_at = entry.first_at.min(c.created_at);
    }
    sums.into_values().collect()
}

#[cfg(test)]
mod tests {
    use refline_domain::{ConversionStatus, ConversionType, Mode};

    use super::digest_delta;
    use crate::Conversion;

    fn sale(affiliate: &str, commission: i64, mode: Mode, status: ConversionStatus, at: i64) -> Conversion {
        Conversion {
            id: format!("c{at}"),
            merchant_id: "m".into(),
            campaign_id: "camp".into(),
            affiliate_id: affiliate.into(),
            amount_minor: 1000,
            commission_minor: commission,
            currency: "usd".into(),
            status,
            order_id: None,
            click_id: None,
            customer_email: None,
            customer_name: None,
            conversion_type: ConversionType::OneTime,
            parent_conversion_id: None,
            payment_number: 1,
            source: "api".into(),
            mode,
            fraud_score: None,
            fraud_signals: None,
            created_at: at,
            updated_at: at,
            approved_at: None,
            earned_minor: 0,
            paid_minor: 0,
        }
    }

    #[test]
    fn only_live_credited_sales_are_added_per_affiliate_in_key_order() {
        let sales = [
            sale("b", 100, Mode::Live, ConversionStatus::Pending, 5),
            sale("a", 100, Mode::Live, ConversionStatus::Pending, 7),
            sale("a", 50, Mode::Live, ConversionStatus::Approved, 3),
            sale("a", 900, Mode::Test, ConversionStatus::Pending, 1),
            sale("a", 0, Mode::Live, ConversionStatus::Pending, 1),
            sale("a", 700, Mode::Live, ConversionStatus::Rejected, 1),
        ];
        let delta = digest_delta(sales.iter());
        assert_eq!(delta.len(), 2);
        assert_eq!(delta[0].key.1, "a");
        assert_eq!((delta[0].conversions, delta[0].commission_minor, delta[0].first_at), (2, 150, 3));
        assert_eq!((delta[1].key.1.as_str(), delta[1].commission_minor), ("b", 100));
    }
}
