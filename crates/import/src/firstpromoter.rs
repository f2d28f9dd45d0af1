//! FirstPromoter's v2 company API (`https://api.firstpromoter.com/api/v2/company`): a bearer
//! API key plus the `ACCOUNT-ID` header (`--account-id`), `page`/`per_page` paging (up to 100 a
//! page). Lists come as bare arrays, or as `{data: [...], meta: {pagination}}` (promoters): a
//! `meta.pagination.next_page` is followed when present, else the next page is asked for while
//! pages come full.
//!
//! Mapping (spec §C.3): FirstPromoter's campaigns carry their rewards as separate objects, not
//! terms Refline can read, so a campaign becomes what `--campaign` or `--commission` says
//! ([`CampaignPlan`]), named and landing as at FirstPromoter; promoter → affiliate on each of its
//! `promoter_campaigns` (`state` accepted/active → approved, pending → pending, anything else →
//! rejected), each `ref_token` → a short link; referral with a processor customer id
//! (`customer_id`, or a Stripe `cus_…` `uid`) → the customer remembered for renewals;
//! commission → conversion (`is_paid` → paid, else `status` pending → pending, approved →
//! approved, denied → rejected). Only `unit: cash` rewards are money: credits, points, free
//! months and discounts are skipped (`non_cash_reward`), as are negative commissions. Promo code
//! → coupon of its promoter (`ext_id`: the Stripe promotion code `promo_…` or coupon id); a
//! promo code names only its promoter campaign, so the coupons step first reads the promoters
//! once more to know whose each one is (archived codes are skipped).

use std::collections::HashMap;

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
    values::{int, list, obj, text, time},
    Batch, ImportError, Record, Source, Step,
};

/// FirstPromoter's v2 company API.
pub const DEFAULT_BASE_URL: &str = "https://api.firstpromoter.com/api/v2/company";

/// The FirstPromoter source.
pub struct FirstPromoter {
    client: SourceClient,
    settings: SourceSettings,
    /// Promoter campaign id → (promoter id, campaign id), read once for the coupons step.
    memberships: tokio::sync::Mutex<Option<HashMap<String, (String, String)>>>,
}

impl FirstPromoter {
    /// A FirstPromoter source of account `account_id`.
    pub fn new(settings: SourceSettings, account_id: &str) -> Result<FirstPromoter, ImportError> {
        let account = account_id.trim();
        if account.is_empty() {
            return Err(ImportError::Usage("--account-id: FirstPromoter's ACCOUNT-ID is required".into()));
        }
        let client = SourceClient::new(
            "firstpromoter",
            settings.base.as_deref().unwrap_or(DEFAULT_BASE_URL),
            Auth::Bearer(settings.key.clone()),
            vec![("ACCOUNT-ID".to_string(), account.to_string())],
            settings.policy.clone(),
            None,
        )?;
        Ok(FirstPromoter { client, settings, memberships: tokio::sync::Mutex::new(None) })
    }
}

#[async_trait::async_trait]
impl Source for FirstPromoter {
    fn name(&self) -> &'static str {
        "firstpromoter"
    }

    fn steps(&self) -> Vec<Step> {
        vec![Step::Campaigns, Step::Affiliates, Step::Coupons, Step::Customers, Step::Commissions]
    }

    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError> {
        let path = match step {
            Step::Campaigns => "/campaigns",
            Step::Affiliates => "/promoters",
            Step::Coupons => "/promo_codes",
            Step::Customers => "/referrals",
            Step::Commissions => "/commissions",
            Step::Links => return Ok(Batch::default()),
        };
        let page: i64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(1).max(1);
        let answer = self.page(path, page).await?;
        let mut records = Vec::new();
        for item in paging::items(&answer) {
            match step {
                Step::Campaigns => records.push(self.campaign(item)),
                Step::Affiliates => records.extend(promoter(item)),
                Step::Coupons => records.push(self.promo_code(item).await?),
                Step::Customers => records.push(referral(item)),
                _ => records.push(commission(item, &self.settings.currency)),
            }
        }
        let next = paging::next_page(&answer, page, self.per_page());
        Ok(Batch { records, next, total: paging::total(&answer) })
    }
}

impl FirstPromoter {
    fn per_page(&self) -> usize {
        self.settings.limit().parse().unwrap_or(100)
    }

    /// Page `page` of `path`.
    async fn page(&self, path: &str, page: i64) -> Result<Value, ImportError> {
        let query = [("page", page.to_string()), ("per_page", self.settings.limit())];
        self.client.get_json(path, &query).await
    }

    /// A promo code as a coupon of its promoter.
    async fn promo_code(&self, item: &Value) -> Result<Record, ImportError> {
        let id = text(item, "id");
        let Some(source_id) = id.clone() else {
            return Ok(skip(kind::COUPON, id, "missing_id", "the promo code has no id"));
        };
        if text(item, "archived_at").is_some() {
            return Ok(skip(kind::COUPON, id, "coupon_archived", "archived at the source"));
        }
        let Some(code) = text(item, "code") else {
            return Ok(skip(kind::COUPON, id, "missing_code", "the promo code has no code"));
        };
        let membership = match text(item, "promoter_campaign_id") {
            Some(pc) => self.membership(&pc).await?,
            None => None,
        };
        let Some((promoter, campaign)) = membership else {
            return Ok(skip(
                kind::COUPON,
                id,
                "affiliate_not_imported",
                "the promo code's promoter is unknown",
            ));
        };
        let external = text(item, "ext_id");
        Ok(Record::Coupon(ImportedCoupon {
            source_id,
            code,
            affiliate_source_id: promoter,
            campaign_source_id: Some(campaign),
            provider_promotion_code_id: external.clone().filter(|e| e.starts_with("promo_")),
            provider_coupon_id: external.filter(|e| !e.starts_with("promo_")),
        }))
    }

    /// The promoter and campaign of promoter campaign `id`, reading every promoter the first
    /// time (a resumed run may start at the coupons step, so the affiliates step's pages are not
    /// relied on).
    async fn membership(&self, id: &str) -> Result<Option<(String, String)>, ImportError> {
        let mut known = self.memberships.lock().await;
        if known.is_none() {
            let mut map = HashMap::new();
            let mut page = 1;
            loop {
                let answer = self.page("/promoters", page).await?;
                for item in paging::items(&answer) {
                    let Some(promoter) = text(item, "id") else { continue };
                    for membership in list(item, "promoter_campaigns") {
                        if let (Some(pc), Some(campaign)) =
                            (text(membership, "id"), related(membership, "campaign", "id"))
                        {
                            map.insert(pc, (promoter.clone(), campaign));
                        }
                    }
                }
                match paging::next_page(&answer, page, self.per_page()).and_then(|n| n.parse().ok()) {
                    Some(next) => page = next,
                    None => break,
                }
            }
            *known = Some(map);
        }
        Ok(known.as_ref().and_then(|map| map.get(id).cloned()))
    }

    fn campaign(&self, item: &Value) -> Record {
        let id = text(item, "id");
        let Some(source_id) = id.clone() else {
            return skip(kind::CAMPAIGN, id, "missing_id", "the campaign has no id");
        };
        let name = text(item, "name").filter(|n| n.chars().count() >= 2);
        let name = name.unwrap_or_else(|| format!("FirstPromoter campaign {source_id}"));
        self.settings.campaigns.record(source_id, name, text(item, "landing_url"), &self.settings.currency)
    }
}

/// A membership's (or promoter's) `state` as a Refline membership status.
fn state(value: Option<String>) -> MembershipStatus {
    match value.as_deref() {
        None | Some("accepted" | "active" | "approved") => MembershipStatus::Approved,
        Some("pending") => MembershipStatus::Pending,
        Some(_) => MembershipStatus::Rejected,
    }
}

/// A FirstPromoter promoter, its campaigns and its referral tokens.
pub fn promoter(item: &Value) -> Vec<Record> {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return vec![skip(kind::AFFILIATE, id, "missing_id", "the promoter has no id")];
    };
    let Some(email) = text(item, "email") else {
        return vec![skip(kind::AFFILIATE, id, "invalid_email", "the promoter has no email")];
    };
    let memberships = list(item, "promoter_campaigns");
    let mut campaigns = Vec::new();
    let mut links = Vec::new();
    for membership in memberships {
        let Some(campaign) = related(membership, "campaign", "id") else { continue };
        let status = state(text(membership, "state").or_else(|| text(item, "state")));
        campaigns.push((campaign.clone(), status));
        if let Some(token) = text(membership, "ref_token") {
            links.push(Record::Link(ImportedLink {
                source_id: text(membership, "id").unwrap_or_else(|| format!("{source_id}:{token}")),
                affiliate_source_id: source_id.clone(),
                campaign_source_id: Some(campaign),
                token,
            }));
        }
    }
    let profile = obj(item, "profile");
    let name = text(item, "name")
        .or_else(|| full_name(item, "first_name", "last_name"))
        .or_else(|| full_name(profile, "first_name", "last_name"));
    let mut records = vec![Record::Affiliate(ImportedAffiliate {
        source_id,
        email,
        name,
        campaigns,
        created_at: time(item, "created_at").or_else(|| time(item, "joined_at")),
    })];
    records.extend(links);
    records
}

/// The payment processor's customer id of a referral (or of a commission's referral).
fn processor_customer(referral: &Value) -> Option<String> {
    text(referral, "customer_id")
        .or_else(|| text(referral, "stripe_customer_id"))
        .or_else(|| text(referral, "uid").filter(|uid| uid.starts_with("cus_")))
}

/// The promoter of an object: `promoter` nested or flat, or its `promoter_campaign`'s.
fn promoter_of(item: &Value) -> Option<String> {
    related(item, "promoter", "id").or_else(|| related(obj(item, "promoter_campaign"), "promoter", "id"))
}

/// The campaign of an object: `campaign` nested or flat, or its `promoter_campaign`'s.
fn campaign_of(item: &Value) -> Option<String> {
    related(item, "campaign", "id").or_else(|| related(obj(item, "promoter_campaign"), "campaign", "id"))
}

/// A FirstPromoter referral: a referred customer.
pub fn referral(item: &Value) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::CUSTOMER, id, "missing_id", "the referral has no id");
    };
    let Some(affiliate) = promoter_of(item) else {
        return skip(kind::CUSTOMER, id, "affiliate_not_imported", "the referral names no promoter");
    };
    Record::Customer(ImportedCustomer {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: campaign_of(item),
        provider: "stripe".into(),
        processor_customer_id: processor_customer(item),
        email: text(item, "email"),
    })
}

/// A FirstPromoter commission (amounts in cents).
pub fn commission(item: &Value, currency: &str) -> Record {
    let id = text(item, "id");
    let Some(source_id) = id.clone() else {
        return skip(kind::COMMISSION, id, "missing_id", "the commission has no id");
    };
    if let Some(unit) = text(item, "unit").filter(|u| u != "cash") {
        return skip(kind::COMMISSION, id, "non_cash_reward", format!("a reward in {unit:?} is not money"));
    }
    let Some(amount) = int(item, "amount") else {
        return skip(kind::COMMISSION, id, "invalid_amount", "the commission has no amount in cents");
    };
    if let Some(skipped) = negative(kind::COMMISSION, &source_id, amount) {
        return skipped;
    }
    let paid = item.get("is_paid").and_then(Value::as_bool) == Some(true);
    let status = match text(item, "status").as_deref() {
        _ if paid => ConversionStatus::Paid,
        Some("pending") => ConversionStatus::Pending,
        Some("approved") => ConversionStatus::Approved,
        Some("denied") => ConversionStatus::Rejected,
        other => {
            return skip(kind::COMMISSION, id, "unknown_status", format!("status {other:?} is not known"))
        }
    };
    let Some(affiliate) = promoter_of(item) else {
        return skip(kind::COMMISSION, id, "affiliate_not_imported", "the commission names no promoter");
    };
    let Some(created_at) = time(item, "created_at") else {
        return skip(kind::COMMISSION, id, "missing_date", "the commission has no date");
    };
    let referral = obj(item, "referral");
    let currency = text(item, "currency").unwrap_or_else(|| currency.to_string());
    Record::Commission(ImportedCommission {
        source_id,
        affiliate_source_id: affiliate,
        campaign_source_id: campaign_of(item),
        sale_amount_minor: int(item, "sale_amount").unwrap_or(0),
        commission_minor: amount,
        currency: currency.to_lowercase(),
        status,
        created_at,
        paid_at: paid.then(|| time(item, "paid_at").or_else(|| time(item, "updated_at"))).flatten(),
        customer_email: text(referral, "email"),
        customer: processor_customer(referral).map(|c| ("stripe".to_string(), c)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn promoters_bring_memberships_and_tokens() {
        let records = promoter(&json!({
            "id": 7, "email": "p@x.test", "name": "Pat",
            "promoter_campaigns": [
                {"id": 70, "campaign_id": 1, "state": "accepted", "ref_token": "pat"},
                {"id": 71, "campaign": {"id": 2}, "state": "denied", "ref_token": null}
            ]
        }));
        assert_eq!(records.len(), 2);
        let Record::Affiliate(a) = &records[0] else { panic!("an affiliate") };
        assert_eq!(
            a.campaigns,
            vec![
                ("1".to_string(), MembershipStatus::Approved),
                ("2".to_string(), MembershipStatus::Rejected)
            ]
        );
        let Record::Link(l) = &records[1] else { panic!("a link") };
        assert_eq!(
            (l.token.as_str(), l.source_id.as_str(), l.affiliate_source_id.as_str()),
            ("pat", "70", "7")
        );
    }

    #[test]
    fn commissions_map_paid_and_skip_non_cash() {
        let base = |status: &str, paid: bool, unit: &str| {
            json!({"id": 1, "status": status, "is_paid": paid, "unit": unit, "amount": 500, "sale_amount": 2500,
                   "created_at": "2024-01-01T00:00:00Z", "promoter_campaign": {"promoter": {"id": 7}, "campaign_id": 1},
                   "referral": {"email": "b@x.test", "uid": "cus_9"}})
        };
        let status = |v: Value| match commission(&v, "USD") {
            Record::Commission(c) => Some((c.status, c.customer)),
            _ => None,
        };
        let cus = Some(("stripe".to_string(), "cus_9".to_string()));
        assert_eq!(status(base("approved", true, "cash")), Some((ConversionStatus::Paid, cus.clone())));
        assert_eq!(status(base("approved", false, "cash")), Some((ConversionStatus::Approved, cus.clone())));
        assert_eq!(status(base("pending", false, "cash")), Some((ConversionStatus::Pending, cus.clone())));
        assert_eq!(status(base("denied", false, "cash")), Some((ConversionStatus::Rejected, cus)));
        assert!(matches!(
            commission(&base("approved", false, "credits"), "USD"),
            Record::Skipped { code: "non_cash_reward", .. }
        ));
    }
}
