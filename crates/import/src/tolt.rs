//! Tolt (`https://api.tolt.com/v1`, or v2 at `https://platform.tolt.com/v2`): a bearer API key,
//! lists of one program (`program_id`, required by v1) paged with the cursor `starting_after`,
//! up to 100 a page.
//!
//! Both answer shapes are read, told apart by shape alone (so `--base-url` may point at either
//! version): v1 `{success, has_more, total_count, data: [...]}`, where the next page starts after
//! the last object's id (and customers come as `{data: {data: [...]}}`); v2 `{success, message,
//! data: [...], has_more, next_cursor}`, where the next page starts at the opaque
//! `next_cursor`. See `paging.rs`.
//!
//! Mapping (spec §C.3): Tolt's API has no commission terms for a program, so the program becomes
//! what `--campaign` or `--commission` says ([`CampaignPlan`]); partner (`status`) → affiliate on
//! it (active/approved → approved, pending → pending, anything else → rejected; no status →
//! approved); link (`value`) → a short link with that code; customer (`customer_id`, the
//! processor's id) → the customer remembered for renewals; commission (`amount` in cents, often
//! as text; `revenue` the sale) → pending, approved, paid, rejected or refunded as Tolt says. A
//! negative commission (Tolt's refund deduction) is skipped: the refunded commission itself
//! comes across as refunded. Promotion code (`/promotion-codes`: `code`, `partner_id`) → coupon
//! of the partner; an inactive one (`active: false`) is skipped as archived. Tolt gives no
//! processor id of a code, so the coupon matches sales by its code.

use refline_core::import::{
    kind, ImportedAffiliate, ImportedCommission, ImportedCoupon, ImportedCustomer, ImportedLink,
};
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

/// Tolt's v1 API (the v2 base is `https://platform.tolt.com/v2`).
pub const DEFAULT_BASE_URL: &str = "https://api.tolt.com/v1";

/// The Tolt source: one program.
pub struct Tolt {
    client: SourceClient,
    settings: SourceSettings,
    program: String,
}

impl Tolt {
    /// A Tolt source reading program `program_id` with the API key in `settings`.
    pub fn new(settings: SourceSettings, program_id: &str) -> Result<Tolt, ImportError> {
        let program = program_id.trim().to_string();
        if program.is_empty() {
            return Err(ImportError::Usage("--program-id: the Tolt program to import is required".into()));
        }
        let client = SourceClient::new(
            "tolt",
            settings.base.as_deref().unwrap_or(DEFAULT_BASE_URL),
            Auth::Bearer(settings.key.clone()),
            Vec::new(),
            settings.policy.clone(),
            None,
        )?;
        Ok(Tolt { client, settings, program })
    }
}

#[async_trait::async_trait]
impl Source for Tolt {
    fn name(&self) -> &'static str {
        "tolt"
    }

    fn steps(&self) -> Vec<Step> {
        vec![
            Step::Campaigns,
            Step::Affiliates,
            Step::Links,
            Step::Coupons,
            Step::Customers,
            Step::Commissions,
        ]
    }

    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError> {
        let program = &self.program;
        let (path, expand): (&str, &[&str]) = match step {
            Step::Campaigns => {
                // The program itself: nothing to read (its terms are not in the API).
                let name = format!("Tolt program {program}");
                let record =
                    self.settings.campaigns.record(program.clone(), name, None, &self.settings.currency);
                return Ok(Batch { records: vec![record], next: None, total: Some(1) });
            }
            Step::Affiliates => ("/partners", &[]),
            Step::Links => ("/links", &["partner"]),
            Step::Customers => ("/customers", &["partner"]),
            Step::Commissions => ("/commissions", &["partner", "customer", "transaction"]),
            Step::Coupons => ("/promotion-codes", &[]),
        };
        let mut query = vec![("program_id", program.clone()), ("limit", self.settings.limit())];
        query.extend(expand.iter().map(|e| ("expand[]", (*e).to_string())));
        if let Some(after) = cursor {
            query.push(("starting_after", after.to_string()));
        }
        let answer = self.client.get_json(path, &query).await?;
        let records = paging::items(&answer)
            .iter()
            .map(|item| match step {
                Step::Affiliates => partner(item, program),
                Step::Links => link(item, program),
                Step::Coupons => promotion_code(item, program),
                Step::Customers => customer(item, program),
                _ => commission(item, program, &self.settings.currency),
            })
            .collect();
        Ok(Batch { records, next: paging::next_cursor(&answer, "id"), total: paging::total(&answer) })
    }
}

/// A Tolt partner: an affiliate on the program.
pub fn partner(item: &Value, program: &str) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::AFFILIATE, id, "missing_id", "the partner has no id");
    };
    let Some(email) = text(item, "email") else {
        return skip(kind::AFFILIATE, id, "invalid_email", "the partner has no email");
    };
    let status = match text(item, "status").as_deref() {
        None | Some("active" | "approved") => MembershipStatus::Approved,
        Some("pending") => MembershipStatus::Pending,
        Some(_) => MembershipStatus::Rejected,
    };
    Record::Affiliate(ImportedAffiliate {
        source_id,
        email,
        name: full_name(item, "first_name", "last_name").or_else(|| text(item, "company_name")),
        campaigns: vec![(program.to_string(), status)],
        created_at: time(item, "created_at"),
    })
}

/// A Tolt link: its `value` (`?ref=<value>`) becomes a short-link code.
pub fn link(item: &Value, program: &str) -> Record {
    let id = text(item, "id");
    let Some(token) = text(item, "value") else {
        return skip(kind::LINK, id, "invalid_token", "the link has no value");
    };
    let Some(affiliate) = related(item, "partner", "id") else {
        return skip(kind::LINK, id, "affiliate_not_imported", "the link names no partner");
    };
    Record::Link(ImportedLink {
        source_id: id.unwrap_or_else(|| token.clone()),
        affiliate_source_id: affiliate,
        campaign_source_id: Some(program.to_string()),
        token,
    })
}

/// A Tolt promotion code: a coupon of its partner.
pub fn promotion_code(item: &Value, program: &str) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::COUPON, id, "missing_id", "the promotion code has no id");
    };
    if item.get("active").and_then(Value::as_bool) == Some(false) {
        return skip(kind::COUPON, id, "coupon_archived", "inactive at the source");
    }
    let Some(code) = text(item, "code") else {
        return skip(kind::COUPON, id, "missing_code", "the promotion code has no code");
    };
    let Some(affiliate) = related(item, "partner", "id") else {
        return skip(kind::COUPON, id, "affiliate_not_imported", "the promotion code names no partner");
    };
    Record::Coupon(ImportedCoupon {
        source_id,
        code,
        affiliate_source_id: affiliate,
        campaign_source_id: Some(program.to_string()),
        provider_coupon_id: None,
        provider_promotion_code_id: None,
    })
}

/// A Tolt customer: `customer_id` is the payment processor's id of the customer.
pub fn customer(item: &Value, program: &str) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::CUSTOMER, id, "missing_id", "the customer has no id");
    };
    let Some(affiliate) = related(item, "partner", "id") else {
        return skip(kind::CUSTOMER, id, "affiliate_not_imported", "the customer names no partner");
    };
    Record::Customer(ImportedCustomer {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: Some(program.to_string()),
        provider: text(item, "source").unwrap_or_else(|| "stripe".into()),
        processor_customer_id: text(item, "customer_id"),
        email: text(item, "email"),
    })
}

/// A Tolt commission (amounts in cents, as numbers or text).
pub fn commission(item: &Value, program: &str, currency: &str) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::COMMISSION, id, "missing_id", "the commission has no id");
    };
    let Some(amount) = int(item, "amount") else {
        return skip(kind::COMMISSION, id, "invalid_amount", "the commission has no amount in cents");
    };
    if let Some(skipped) = negative(kind::COMMISSION, &source_id, amount) {
        return skipped;
    }
    let status = match text(item, "status").as_deref() {
        Some("pending") => ConversionStatus::Pending,
        Some("approved") => ConversionStatus::Approved,
        Some("paid") => ConversionStatus::Paid,
        Some("rejected") => ConversionStatus::Rejected,
        Some("refunded") => ConversionStatus::Refunded,
        other => {
            return skip(kind::COMMISSION, id, "unknown_status", format!("status {other:?} is not known"))
        }
    };
    let Some(affiliate) = related(item, "partner", "id") else {
        return skip(kind::COMMISSION, id, "affiliate_not_imported", "the commission names no partner");
    };
    let Some(created_at) = time(item, "created_at") else {
        return skip(kind::COMMISSION, id, "missing_date", "the commission has no date");
    };
    let transaction = obj(item, "transaction");
    let sale = int(item, "revenue").or_else(|| int(transaction, "amount")).unwrap_or(0);
    let currency =
        text(item, "currency").or_else(|| text(transaction, "currency")).unwrap_or_else(|| currency.into());
    let buyer = obj(item, "customer");
    let provider = text(item, "source").unwrap_or_else(|| "stripe".into());
    Record::Commission(ImportedCommission {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: Some(program.to_string()),
        sale_amount_minor: sale,
        commission_minor: amount,
        currency: currency.to_lowercase(),
        status,
        created_at,
        // Tolt gives no payment date on a commission: its last change is when it became paid.
        paid_at: (status == ConversionStatus::Paid)
            .then(|| time(item, "paid_at").or_else(|| time(item, "updated_at")))
            .flatten(),
        customer_email: text(buyer, "email"),
        customer: text(buyer, "customer_id").map(|c| (provider, c)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn partners_map_their_status() {
        let status = |s: Value| match partner(&json!({"id": "p", "email": "a@b.test", "status": s}), "prg") {
            Record::Affiliate(a) => Some(a.campaigns[0].1),
            _ => None,
        };
        assert_eq!(status(json!("active")), Some(MembershipStatus::Approved));
        assert_eq!(status(Value::Null), Some(MembershipStatus::Approved));
        assert_eq!(status(json!("pending")), Some(MembershipStatus::Pending));
        assert_eq!(status(json!("suspended")), Some(MembershipStatus::Rejected));
    }

    #[test]
    fn commissions_read_text_cents_and_every_status() {
        let base = |status: &str, amount: Value| {
            json!({"id": "c", "amount": amount, "revenue": 10000, "status": status, "created_at": "2024-01-01T00:00:00Z",
                   "updated_at": "2024-02-01T00:00:00Z", "partner": {"id": "p1"},
                   "customer": {"customer_id": "cus_1", "email": "b@c.test"}})
        };
        let Record::Commission(c) = commission(&base("paid", json!("1999")), "prg", "USD") else {
            panic!("a commission")
        };
        assert_eq!((c.commission_minor, c.sale_amount_minor, c.currency.as_str()), (1999, 10000, "usd"));
        assert_eq!(c.paid_at, Some(1_706_745_600_000));
        assert_eq!(c.customer, Some(("stripe".into(), "cus_1".into())));
        for (s, want) in [
            ("pending", ConversionStatus::Pending),
            ("approved", ConversionStatus::Approved),
            ("rejected", ConversionStatus::Rejected),
            ("refunded", ConversionStatus::Refunded),
        ] {
            assert!(
                matches!(commission(&base(s, json!(5)), "prg", "USD"), Record::Commission(c) if c.status == want)
            );
        }
        assert!(matches!(
            commission(&base("approved", json!("-500")), "prg", "USD"),
            Record::Skipped { code: "negative_commission", .. }
        ));
        assert!(matches!(
            commission(&base("lost", json!(5)), "prg", "USD"),
            Record::Skipped { code: "unknown_status", .. }
        ));
    }
}
