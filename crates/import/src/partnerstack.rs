//! PartnerStack's v2 API (`https://api.partnerstack.com/api/v2`): HTTP Basic with the public key
//! as user and the secret key as password (`--api-key public:secret`, as PartnerStack documents);
//! a key without a colon is sent as a bearer token. Lists answer `{data: {items: [...],
//! has_more}}` and page with the cursor `starting_after=<last object's key>`, up to 100 a page;
//! timestamps are epoch milliseconds.
//!
//! Mapping (spec §C.3): a group carries no commission terms in the API, so it becomes what
//! `--campaign` or `--commission` says ([`CampaignPlan`]), named as at PartnerStack; partnership
//! → affiliate on its group (`approved_status` approved → approved, pending → pending, anything
//! else → rejected; none → approved); each link of a partnership (`/links/partnership/<key>`) →
//! a short link whose code is the last path segment of its URL (the partner's share link);
//! customer (`provider_key`, the billing provider's customer id) → the customer remembered for
//! renewals, test customers skipped; reward → conversion of its transaction (`reward_status`
//! hold and pending → pending, approved and scheduled → approved, paid → paid, declined →
//! rejected). A reward without a transaction (a bonus) has no sale and is skipped (`no_sale`).

use refline_core::import::{kind, ImportedAffiliate, ImportedCommission, ImportedCustomer, ImportedLink};
use refline_domain::{ConversionStatus, MembershipStatus};
use serde_json::Value;

use crate::{
    client::{Auth, SourceClient},
    mapping::{full_name, negative, related, skip},
    paging,
    settings::SourceSettings,
    values::{int, obj, text, time},
    Batch, ImportError, Record, Source, Step,
};

/// PartnerStack's v2 API.
pub const DEFAULT_BASE_URL: &str = "https://api.partnerstack.com/api/v2";

/// The PartnerStack source.
pub struct PartnerStack {
    client: SourceClient,
    settings: SourceSettings,
}

impl PartnerStack {
    /// A PartnerStack source with the key pair `public:secret` (or a bearer token) in `settings`.
    pub fn new(settings: SourceSettings) -> Result<PartnerStack, ImportError> {
        let auth = match settings.key.split_once(':') {
            Some((public, secret)) => {
                Auth::Basic { user: public.to_string(), password: Some(secret.to_string()) }
            }
            None => Auth::Bearer(settings.key.clone()),
        };
        let base = settings.base.as_deref().unwrap_or(DEFAULT_BASE_URL);
        let client =
            SourceClient::new("partnerstack", base, auth, Vec::new(), settings.policy.clone(), None)?;
        Ok(PartnerStack { client, settings })
    }

    /// One page of `path` starting after `cursor`.
    async fn page(&self, path: &str, cursor: Option<&str>) -> Result<Value, ImportError> {
        let mut query = vec![("limit", self.settings.limit())];
        if let Some(after) = cursor {
            query.push(("starting_after", after.to_string()));
        }
        self.client.get_json(path, &query).await
    }

    /// Every link of one partnership (paged like any list).
    async fn links_of(&self, partnership: &str, into: &mut Vec<Record>) -> Result<(), ImportError> {
        let path = format!("/links/partnership/{partnership}");
        let mut cursor: Option<String> = None;
        loop {
            let answer = self.page(&path, cursor.as_deref()).await?;
            into.extend(paging::items(&answer).iter().map(|item| link(item, partnership)));
            cursor = paging::next_cursor(&answer, "key");
            if cursor.is_none() {
                return Ok(());
            }
        }
    }
}

#[async_trait::async_trait]
impl Source for PartnerStack {
    fn name(&self) -> &'static str {
        "partnerstack"
    }

    fn steps(&self) -> Vec<Step> {
        vec![Step::Campaigns, Step::Affiliates, Step::Links, Step::Customers, Step::Commissions]
    }

    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError> {
        let path = match step {
            Step::Campaigns => "/groups",
            // Links are read per partnership: the step pages through partnerships again.
            Step::Affiliates | Step::Links => "/partnerships",
            Step::Customers => "/customers",
            Step::Commissions => "/rewards",
            Step::Coupons => return Ok(Batch::default()),
        };
        let answer = self.page(path, cursor).await?;
        let mut records = Vec::new();
        for item in paging::items(&answer) {
            match step {
                Step::Campaigns => records.push(self.group(item)),
                Step::Affiliates => records.push(partnership(item)),
                Step::Links => match text(item, "key") {
                    Some(key) => self.links_of(&key, &mut records).await?,
                    None => continue,
                },
                Step::Customers => records.push(customer(item)),
                _ => records.push(reward(item, &self.settings.currency)),
            }
        }
        let total = if step == Step::Links { None } else { paging::total(&answer) };
        Ok(Batch { records, next: paging::next_cursor(&answer, "key"), total })
    }
}

impl PartnerStack {
    fn group(&self, item: &Value) -> Record {
        let key = text(item, "key");
        let Some(source_id) = key.clone() else {
            return skip(kind::CAMPAIGN, key, "missing_id", "the group has no key");
        };
        let name = text(item, "name").filter(|n| n.chars().count() >= 2);
        let name = name.unwrap_or_else(|| format!("PartnerStack group {source_id}"));
        self.settings.campaigns.record(source_id, name, None, &self.settings.currency)
    }
}

/// A PartnerStack partnership: an affiliate on its group.
pub fn partnership(item: &Value) -> Record {
    let key = text(item, "key");
    let Some(source_id) = key.clone() else {
        return skip(kind::AFFILIATE, key, "missing_id", "the partnership has no key");
    };
    let Some(email) = text(item, "email") else {
        return skip(kind::AFFILIATE, key, "invalid_email", "the partnership has no email");
    };
    let Some(group) = related(item, "group", "key") else {
        return skip(kind::AFFILIATE, key, "campaign_not_imported", "the partnership is in no group");
    };
    let status = match text(item, "approved_status").as_deref() {
        None | Some("approved") => MembershipStatus::Approved,
        Some("pending") => MembershipStatus::Pending,
        Some(_) => MembershipStatus::Rejected,
    };
    Record::Affiliate(ImportedAffiliate {
        source_id,
        email,
        name: full_name(item, "first_name", "last_name"),
        campaigns: vec![(group, status)],
        created_at: time(item, "created_at"),
    })
}

/// A link of partnership `partnership`: the last path segment of its share URL is the token.
pub fn link(item: &Value, partnership: &str) -> Record {
    let key = text(item, "key");
    let from_url = text(item, "url").and_then(|url| {
        let path = url.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/').to_string();
        let segment = path.rsplit('/').next().unwrap_or_default().to_string();
        (!segment.is_empty() && path.matches('/').count() > 2).then_some(segment)
    });
    let Some(token) = from_url.or_else(|| key.clone()) else {
        return skip(kind::LINK, key, "invalid_token", "the link has neither a URL path nor a key");
    };
    Record::Link(ImportedLink {
        source_id: key.unwrap_or_else(|| format!("{partnership}:{token}")),
        affiliate_source_id: partnership.to_string(),
        campaign_source_id: None,
        token,
    })
}

/// A PartnerStack customer: `provider_key` is the billing provider's id of the customer.
pub fn customer(item: &Value) -> Record {
    let key = text(item, "key");
    let Some(source_id) = key.clone() else {
        return skip(kind::CUSTOMER, key, "missing_id", "the customer has no key");
    };
    if item.get("test").and_then(Value::as_bool) == Some(true) {
        return skip(kind::CUSTOMER, key, "test_data", "a test customer at the source");
    }
    let Some(affiliate) = related(item, "partnership", "key") else {
        return skip(kind::CUSTOMER, key, "affiliate_not_imported", "the customer names no partnership");
    };
    Record::Customer(ImportedCustomer {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: None,
        provider: "stripe".into(),
        processor_customer_id: text(item, "provider_key"),
        email: text(item, "email"),
    })
}

/// A PartnerStack reward on a transaction: a commission.
pub fn reward(item: &Value, currency: &str) -> Record {
    let key = text(item, "key");
    let Some(source_id) = key.clone() else {
        return skip(kind::COMMISSION, key, "missing_id", "the reward has no key");
    };
    let Some(amount) = int(item, "amount") else {
        return skip(kind::COMMISSION, key, "invalid_amount", "the reward has no amount in cents");
    };
    if let Some(skipped) = negative(kind::COMMISSION, &source_id, amount) {
        return skipped;
    }
    let status = match text(item, "reward_status").as_deref() {
        Some("hold" | "pending") => ConversionStatus::Pending,
        Some("approved" | "scheduled") => ConversionStatus::Approved,
        Some("paid") => ConversionStatus::Paid,
        Some("declined") => ConversionStatus::Rejected,
        other => {
            return skip(
                kind::COMMISSION,
                key,
                "unknown_status",
                format!("reward_status {other:?} is not known"),
            )
        }
    };
    let transaction = obj(item, "transaction");
    let Some(sale) = int(transaction, "amount") else {
        return skip(
            kind::COMMISSION,
            key,
            "no_sale",
            "a reward without a transaction (a bonus) is not a sale's commission",
        );
    };
    let Some(affiliate) = related(item, "partnership", "key") else {
        return skip(kind::COMMISSION, key, "affiliate_not_imported", "the reward names no partnership");
    };
    let Some(created_at) = time(item, "created_at") else {
        return skip(kind::COMMISSION, key, "missing_date", "the reward has no date");
    };
    let buyer = obj(item, "customer");
    let currency = text(item, "currency")
        .or_else(|| text(transaction, "currency"))
        .unwrap_or_else(|| currency.to_string());
    Record::Commission(ImportedCommission {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: None,
        sale_amount_minor: sale,
        commission_minor: amount,
        currency: currency.to_lowercase(),
        status,
        created_at,
        paid_at: (status == ConversionStatus::Paid)
            .then(|| time(item, "paid_at").or_else(|| time(item, "updated_at")))
            .flatten(),
        customer_email: text(buyer, "email"),
        customer: text(buyer, "provider_key").map(|c| ("stripe".to_string(), c)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn links_take_the_share_urls_last_segment() {
        let token = |v: Value| match link(&v, "part_1") {
            Record::Link(l) => Some(l.token),
            _ => None,
        };
        assert_eq!(
            token(json!({"key": "lnk_1", "url": "https://shop.partnerlinks.io/alice?x=1"})).as_deref(),
            Some("alice")
        );
        assert_eq!(
            token(json!({"key": "lnk_2", "url": "https://shop.partnerlinks.io/"})).as_deref(),
            Some("lnk_2")
        );
        assert_eq!(token(json!({"key": "lnk_3"})).as_deref(), Some("lnk_3"));
    }

    #[test]
    fn rewards_map_every_status() {
        let base = |status: &str| {
            json!({"key": "r", "amount": 300, "currency": "USD", "created_at": 1_704_067_200_000_i64,
                   "reward_status": status, "partnership": {"key": "part_1"},
                   "transaction": {"amount": 1500}, "customer": {"provider_key": "cus_1"}})
        };
        for (s, want) in [
            ("hold", ConversionStatus::Pending),
            ("pending", ConversionStatus::Pending),
            ("approved", ConversionStatus::Approved),
            ("scheduled", ConversionStatus::Approved),
            ("paid", ConversionStatus::Paid),
            ("declined", ConversionStatus::Rejected),
        ] {
            assert!(matches!(reward(&base(s), "USD"), Record::Commission(c) if c.status == want), "{s}");
        }
        let Record::Commission(c) = reward(&base("paid"), "USD") else { panic!("a commission") };
        assert_eq!(
            (c.created_at, c.sale_amount_minor, c.customer),
            (1_704_067_200_000, 1500, Some(("stripe".into(), "cus_1".into())))
        );
        let mut bonus = base("paid");
        bonus["transaction"] = Value::Null;
        assert!(matches!(reward(&bonus, "USD"), Record::Skipped { code: "no_sale", .. }));
    }
}
