//! Coupons: discount codes registered to an affiliate on a campaign. A sale that carries no
//! tracking reference is credited by its coupon (processor coupon id, then promotion-code id,
//! then the code text). Refline only registers codes that already exist in the processor; the
//! discount fields are labels.
//!
//! A door reads the fields (types, choices, lengths, "is required") into a [`CouponInput`]; the
//! operation applies the code rule, the discount rules, the membership check and idempotency.

use refline_domain::{parse_amount, Currency};
use refline_processors::Provider;
use refline_store::{Coupon, CouponFilter, Page, PageRequest, StoreError};
use serde_json::json;

use crate::{field_order::in_field_order, ids::new_id, Actor, Core, CoreError, CoreResult, Issue};

/// A coupon to register, as sent.
#[derive(Debug, Clone, Default)]
pub struct CouponInput {
    /// The code customers type (required; the door reports it missing).
    pub code: Option<String>,
    /// The campaign (required).
    pub campaign_id: Option<String>,
    /// The affiliate credited, who must be on the campaign (required).
    pub affiliate_id: Option<String>,
    /// The processor; LinkJolt's default, Stripe, when `None`.
    pub provider: Option<Provider>,
    /// The processor's coupon id.
    pub provider_coupon_id: Option<String>,
    /// The processor's promotion-code id.
    pub provider_promotion_code_id: Option<String>,
    /// Asked to create the code in the processor too (not supported yet).
    pub create_in_provider: bool,
    /// Percent off, 1–100 (checked by the door).
    pub percent_off: Option<i64>,
    /// Whether `percentOff` was sent at all (even unreadable): it excludes `amountOff`.
    pub percent_off_sent: bool,
    /// Amount off as decimal text, in `currency`.
    pub amount_off: Option<String>,
    /// Whether `amountOff` was sent at all.
    pub amount_off_sent: bool,
    /// ISO 4217 code of `amount_off`; the actor's currency when `None`.
    pub currency: Option<String>,
    /// `once`, `forever` or `repeating` (checked by the door).
    pub duration: Option<String>,
    /// Months of a `repeating` discount.
    pub duration_in_months: Option<i64>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// How a registration ended.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The coupon stored (new, or the one already registered for the same credit).
    pub coupon: Coupon,
    /// False when the same code was already registered for the same affiliate and campaign.
    pub created: bool,
}

/// Field order of coupon problems.
const FIELDS: &[&str] = &[
    "code",
    "campaignId",
    "affiliateId",
    "provider",
    "providerCouponId",
    "providerPromotionCodeId",
    "createInProvider",
    "percentOff",
    "amountOff",
    "currency",
    "duration",
    "durationInMonths",
];

/// A code customers type: 1–100 characters, none of them whitespace or control characters.
fn valid_code(code: &str) -> bool {
    (1..=100).contains(&code.chars().count()) && !code.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The discount labels, written into `coupon`, with every problem in `issues`.
fn apply_discount(input: &CouponInput, default_currency: &str, coupon: &mut Coupon, issues: &mut Vec<Issue>) {
    coupon.percent_off = input.percent_off;
    if input.percent_off_sent && input.amount_off.is_some() {
        issues.push(Issue::field("amountOff", "give either percentOff or amountOff, not both"));
    }
    let currency = if input.amount_off.is_some() || input.currency.is_some() {
        match Currency::parse(input.currency.as_deref().unwrap_or(default_currency)) {
            Ok(c) => Some(c),
            Err(_) => {
                issues.push(Issue::field(
                    "currency",
                    "currency must be a supported ISO 4217 code such as usd or eur",
                ));
                None
            }
        }
    } else {
        None
    };
    if let (Some(text), Some(currency)) = (&input.amount_off, currency) {
        match parse_amount(text, currency.exponent()) {
            Ok(minor) if minor > 0 => {
                coupon.amount_off_minor = Some(minor);
                coupon.currency = Some(currency.code().to_string());
            }
            Ok(_) => issues.push(Issue::field("amountOff", "amountOff must be positive")),
            Err(e) => issues.push(Issue::field("amountOff", format!("amountOff {e}"))),
        }
    } else if input.currency.is_some() && !input.amount_off_sent {
        issues.push(Issue::field("currency", "currency applies only with amountOff"));
    }
    coupon.duration = input.duration.clone();
    coupon.duration_in_months = input.duration_in_months;
    match (coupon.duration.as_deref(), coupon.duration_in_months) {
        (Some("repeating"), None) => issues
            .push(Issue::field("durationInMonths", "durationInMonths is required with duration repeating")),
        (Some("once" | "forever") | None, Some(_)) => issues
            .push(Issue::field("durationInMonths", "durationInMonths applies only with duration repeating")),
        _ => {}
    }
}

/// The answer when the merchant already has the code: idempotent success for the same credit,
/// `409 duplicate` for another one.
fn already_registered(existing: Coupon, wanted: &Coupon) -> CoreResult<Registered> {
    if existing.affiliate_id == wanted.affiliate_id && existing.campaign_id == wanted.campaign_id {
        return Ok(Registered { coupon: existing, created: false });
    }
    Err(CoreError::duplicate(
        format!("The code {} is already registered to another affiliate or campaign", existing.code),
        json!({ "id": existing.id, "code": existing.code }),
    ))
}

impl Core {
    /// Registers a coupon. Registering the same code again for the same affiliate and campaign
    /// answers the existing coupon (`created: false`); for anyone else, `409 duplicate`.
    pub async fn register_coupon(&self, actor: &Actor, input: CouponInput) -> CoreResult<Registered> {
        self.audited(actor, "coupon.register", None, self.register_coupon_work(actor, input)).await
    }

    async fn register_coupon_work(&self, actor: &Actor, input: CouponInput) -> CoreResult<Registered> {
        actor.require_write()?;
        let mut issues = input.unreadable.clone();
        if input.code.as_deref().is_some_and(|c| !valid_code(c)) {
            issues.push(Issue::field("code", "code must be 1 to 100 characters without spaces"));
        }
        if input.create_in_provider {
            issues.push(Issue::field(
                "createInProvider",
                "Creating codes in the payment processor is not supported yet: create the code in your \
                 processor, then register it here without createInProvider",
            ));
        }
        let mut coupon = Coupon {
            id: new_id("cpn"),
            merchant_id: actor.merchant_id.clone(),
            campaign_id: String::new(),
            affiliate_id: String::new(),
            code: String::new(),
            code_key: String::new(),
            // LinkJolt registers codes for Stripe unless told otherwise.
            provider: Some(input.provider.unwrap_or(Provider::Stripe).as_str().to_string()),
            provider_coupon_id: input.provider_coupon_id.clone(),
            provider_promotion_code_id: input.provider_promotion_code_id.clone(),
            percent_off: None,
            amount_off_minor: None,
            currency: None,
            duration: None,
            duration_in_months: None,
            created_at: self.now(),
        };
        apply_discount(&input, &actor.currency, &mut coupon, &mut issues);
        in_field_order(&mut issues, FIELDS);
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let (Some(code), Some(campaign_id), Some(affiliate_id)) =
            (input.code, input.campaign_id, input.affiliate_id)
        else {
            return Err(CoreError::internal("coupon input without code, campaign or affiliate and no issue"));
        };
        self.store
            .get_membership(&actor.merchant_id, &campaign_id, &affiliate_id)
            .await?
            .ok_or_else(|| CoreError::not_found("Affiliate membership on this campaign"))?;
        coupon.code_key = Coupon::key_of(&code);
        coupon.code = code;
        coupon.campaign_id = campaign_id;
        coupon.affiliate_id = affiliate_id;
        if let Some(existing) = self.store.get_coupon_by_code(&actor.merchant_id, &coupon.code_key).await? {
            return already_registered(existing, &coupon);
        }
        match self.store.insert_coupon(&coupon).await {
            Ok(()) => Ok(Registered { coupon, created: true }),
            // Registered by a concurrent request between the lookup and the insert.
            Err(err @ StoreError::Conflict(_)) => {
                match self.store.get_coupon_by_code(&actor.merchant_id, &coupon.code_key).await? {
                    Some(existing) => already_registered(existing, &coupon),
                    None => Err(err.into()),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// A page of the actor's coupons, filtered.
    pub async fn list_coupons(
        &self,
        actor: &Actor,
        filter: &CouponFilter,
        page: PageRequest<()>,
    ) -> CoreResult<Page<Coupon>> {
        Ok(self.store.list_coupons(&actor.merchant_id, filter, page).await?)
    }

    /// One of the actor's coupons, or `not_found`.
    pub async fn get_coupon(&self, actor: &Actor, id: &str) -> CoreResult<Coupon> {
        self.store.get_coupon(&actor.merchant_id, id).await?.ok_or_else(|| CoreError::not_found("Coupon"))
    }

    /// Deletes one of the actor's coupons: sales with its code are no longer credited by it.
    pub async fn delete_coupon(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        self.audited(actor, "coupon.delete", Some(id), self.delete_coupon_work(actor, id)).await
    }

    async fn delete_coupon_work(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        actor.require_write()?;
        if !self.store.delete_coupon(&actor.merchant_id, id).await? {
            return Err(CoreError::not_found("Coupon"));
        }
        Ok(())
    }
}
