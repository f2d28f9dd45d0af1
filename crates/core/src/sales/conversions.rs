//! The conversions resource: record a sale for a named campaign and affiliate (the seed's
//! `POST /api/v1/conversions`), approve or reject it, read and list.

use refline_domain::{
    above_sale_guard, canonical_email, check_manual_transition, check_sale_minor, is_valid_email,
    parse_amount, CampaignStatus, ConversionStatus, ConversionType, Currency, MembershipStatus, Plan,
    Transition, TransitionError,
};
use refline_store::{
    Affiliate, AttributionQuery, Campaign, CommissionAdjustment, Conversion, ConversionFilter,
    ConversionSort, Page, PageRequest,
};
use serde_json::json;

use super::{
    attribution_cache::Attributed,
    record::{record_sale, Refusal, SaleInput},
};
use crate::{field_order::in_field_order, terms, Actor, Core, CoreError, CoreResult, ErrorKind, Issue};

/// The fields of a sale, in the order problems are listed.
const FIELDS: &[&str] = &[
    "campaignId",
    "affiliateId",
    "amount",
    "orderId",
    "clickId",
    "customerEmail",
    "customerName",
    "currency",
    "conversionType",
    "parentConversionId",
];

/// Sort keys of conversion lists.
pub const SORTS: &[(&str, ConversionSort)] =
    &[("createdAt", ConversionSort::CreatedAt), ("amount", ConversionSort::Amount)];

/// A sale as a merchant's system reports it.
#[derive(Debug, Clone, Default)]
pub struct NewConversion {
    /// The campaign to credit.
    pub campaign_id: Option<String>,
    /// The affiliate to credit.
    pub affiliate_id: Option<String>,
    /// The sale in major units, as its exact decimal text (`"99.00"`).
    pub amount: Option<String>,
    /// The merchant's order reference; unique per merchant and mode.
    pub order_id: Option<String>,
    /// The customer's click, for self-referral checks.
    pub click_id: Option<String>,
    /// The customer's email, in any form: the operation puts it in the canonical one.
    pub customer_email: Option<String>,
    /// The customer's name.
    pub customer_name: Option<String>,
    /// ISO 4217 code; the campaign's when absent.
    pub currency: Option<String>,
    /// `one_time` (default) or `recurring`.
    pub recurring: bool,
    /// For a renewal: the subscription's first sale.
    pub parent_conversion_id: Option<String>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// A conversion with the clawbacks recorded against it.
#[derive(Debug, Clone)]
pub struct ConversionDetail {
    /// The conversion.
    pub conversion: Conversion,
    /// Amounts owed back after a refund of a paid commission.
    pub adjustments: Vec<CommissionAdjustment>,
}

impl From<Refusal> for CoreError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::AffiliateNotApproved(why) => CoreError::new(
                ErrorKind::Invalid,
                "affiliate_not_approved",
                format!("The affiliate is {why}; only affiliates approved on the campaign can be credited"),
            ),
            Refusal::CampaignInactive => CoreError::new(
                ErrorKind::Invalid,
                "campaign_inactive",
                "The campaign is inactive (paused); activate it to record conversions",
            ),
            Refusal::RecurringDisabled => CoreError::new(
                ErrorKind::Unprocessable,
                "recurring_commission_disabled",
                "The campaign pays no recurring commission; enable recurringCommissionEnabled first",
            ),
            Refusal::RecurringLimitReached => CoreError::new(
                ErrorKind::Unprocessable,
                "recurring_limit_reached",
                "This renewal is past the campaign's recurring commission limit",
            ),
            Refusal::ParentMismatch(why) => CoreError::invalid_field("parentConversionId", why),
            Refusal::CapReached => CoreError::new(
                ErrorKind::Forbidden,
                "earnings_limit_reached",
                "Your plan's monthly tracked-sales limit is reached; upgrade to keep recording conversions",
            ),
            Refusal::Duplicate(existing_id) => CoreError::duplicate(
                "A conversion with this orderId already exists",
                json!({ "conversionId": existing_id }),
            ),
            Refusal::Store(err) => err.into(),
        }
    }
}

/// What a request says about its sale, once read and checked on its own.
#[derive(Debug, Clone)]
struct SaleFacts {
    currency: Option<Currency>,
    amount_text: String,
    order_id: Option<String>,
    click_id: Option<String>,
    customer_email: Option<String>,
    customer_name: Option<String>,
    recurring: bool,
    merchant_currency: Currency,
}

impl SaleFacts {
    /// The sale to record: a first sale (the caller adds a renewal's parent and a click it read).
    #[allow(clippy::too_many_arguments)]
    fn input(
        self,
        actor: &Actor,
        plan: Plan,
        campaign: Campaign,
        affiliate: Affiliate,
        membership_status: Option<MembershipStatus>,
        currency: Currency,
        amount_minor: i64,
        now: i64,
    ) -> SaleInput {
        SaleInput {
            campaign,
            affiliate,
            membership_status,
            click: None,
            click_unread: false,
            amount_minor,
            currency,
            order_id: self.order_id,
            click_id: self.click_id,
            customer_email: self.customer_email,
            customer_name: self.customer_name,
            conversion_type: ConversionType::of(self.recurring),
            parent: None,
            source: "api".into(),
            mode: actor.mode,
            plan,
            merchant_currency: self.merchant_currency,
            now,
            allow_pending: false,
            trial: false,
            id: None,
        }
    }
}

/// The sale's currency (the campaign's unless named, and then it must be the campaign's) and
/// its amount in minor units, in range.
fn sale_amount(
    campaign: &Campaign,
    currency: Option<Currency>,
    amount_text: &str,
) -> CoreResult<(Currency, i64)> {
    let campaign_currency = terms::currency_of(campaign);
    let currency = currency.unwrap_or(campaign_currency);
    // Campaign revenue, affiliate earnings and tiers add a campaign's sales up, and only
    // sales in one currency can be added, so a campaign records sales in its own. (The cap,
    // which crosses campaigns, counts each sale in the merchant's currency instead.)
    if currency != campaign_currency {
        return Err(CoreError::invalid_field(
            "currency",
            format!(
                "currency must be the campaign's ({}); Refline does not convert currencies, so convert the amount or use a campaign in {}",
                campaign_currency.code(),
                currency.code()
            ),
        ));
    }
    let amount_minor = match parse_amount(amount_text, currency.exponent()) {
        Ok(v) => match check_sale_minor(v, currency.exponent()) {
            Ok(()) => v,
            Err(_) if v <= 0 => return Err(CoreError::invalid_field("amount", "amount must be positive")),
            Err(e) => return Err(CoreError::invalid_field("amount", format!("amount {e}"))),
        },
        Err(e) => return Err(CoreError::invalid_field("amount", format!("amount {e}"))),
    };
    Ok((currency, amount_minor))
}

impl Core {
    /// Records a sale for a named campaign and affiliate: every check of the seed's
    /// `POST /api/v1/conversions` in its documented order (a used `orderId` answers `duplicate`
    /// before any other refusal), then the commission through the group-commit writer.
    pub async fn record_conversion(
        &self,
        actor: &Actor,
        plan: Plan,
        input: NewConversion,
    ) -> CoreResult<Conversion> {
        self.audited(actor, "conversion.record", None, self.record_conversion_work(actor, plan, input)).await
    }

    async fn record_conversion_work(
        &self,
        actor: &Actor,
        plan: Plan,
        input: NewConversion,
    ) -> CoreResult<Conversion> {
        actor.require_write()?;
        let mut issues = input.unreadable;
        let customer_email = input.customer_email.map(|e| canonical_email(&e));
        if customer_email.as_deref().is_some_and(|e| !is_valid_email(e)) {
            issues.push(Issue::field("customerEmail", "customerEmail must be a valid email address"));
        }
        if input.parent_conversion_id.is_some() && !input.recurring {
            issues.push(Issue::field(
                "parentConversionId",
                "parentConversionId is only allowed with conversionType recurring",
            ));
        }
        let currency = match &input.currency {
            None => None,
            Some(code) => match Currency::parse(code) {
                Ok(c) => Some(c),
                Err(_) => {
                    issues.push(Issue::field(
                        "currency",
                        "currency must be a supported ISO 4217 code such as usd or eur",
                    ));
                    None
                }
            },
        };
        let (Some(campaign_id), Some(affiliate_id), Some(amount_text), true) =
            (input.campaign_id, input.affiliate_id, input.amount, issues.is_empty())
        else {
            in_field_order(&mut issues, FIELDS);
            return Err(CoreError::validation(issues));
        };
        let merchant_currency = Currency::parse(&actor.currency).unwrap_or(Currency::USD);
        let sale = SaleFacts {
            currency,
            amount_text,
            order_id: input.order_id,
            click_id: input.click_id,
            customer_email,
            customer_name: input.customer_name,
            recurring: input.recurring,
            merchant_currency,
        };
        // From the node's memory when it gives exactly the full read's answer: no read at all
        // before the batch writer.
        let remembered = match (&self.attributions, &input.parent_conversion_id) {
            (Some(cache), None) => cache.get(&actor.merchant_id, &campaign_id, &affiliate_id),
            _ => None,
        };
        if let Some(found) = remembered {
            if let Some(sale) = self.sale_from_memory(actor, plan, &found, &sale) {
                let conversion = record_sale(self.store.as_ref(), &self.sales, &self.limits, sale).await?;
                if !actor.is_test() {
                    self.effects.outbox_written();
                }
                return Ok(conversion);
            }
        }
        let generation = self.attributions.as_ref().map(|cache| cache.generation());
        let attribution = self
            .store
            .find_attribution(&AttributionQuery {
                merchant_id: &actor.merchant_id,
                campaign_id: &campaign_id,
                affiliate_id: &affiliate_id,
                click_id: sale.click_id.as_deref(),
                order_id: sale.order_id.as_deref(),
                mode: actor.mode,
            })
            .await?
            .ok_or_else(|| CoreError::not_found("Campaign"))?;
        if let (Some(cache), Some(generation)) = (&self.attributions, generation) {
            let found = Attributed {
                campaign: attribution.campaign.clone(),
                affiliate: attribution.affiliate(),
                membership_status: attribution.membership_status,
            };
            cache.put(generation, &actor.merchant_id, &affiliate_id, found);
        }
        // A retry of a recorded sale is a duplicate whatever changed since (clients treat 409 as
        // success), so this answer comes before the checks that could now refuse it.
        if let Some(existing_id) = attribution.duplicate_id.clone() {
            return Err(Refusal::Duplicate(existing_id).into());
        }
        let affiliate = attribution.affiliate().ok_or_else(|| CoreError::not_found("Affiliate"))?;
        let click = attribution.click();
        let membership_status = attribution.membership_status;
        let campaign = attribution.campaign;
        let (currency, amount_minor) = sale_amount(&campaign, sale.currency, &sale.amount_text)?;
        let parent = match &input.parent_conversion_id {
            None => None,
            Some(id) => Some(
                self.store
                    .get_conversion(&actor.merchant_id, id)
                    .await?
                    .filter(|p| p.mode == actor.mode)
                    .ok_or_else(|| CoreError::not_found("Parent conversion"))?,
            ),
        };
        let sale = sale.input(
            actor,
            plan,
            campaign,
            affiliate,
            membership_status,
            currency,
            amount_minor,
            self.now(),
        );
        let sale = SaleInput { click, parent, ..sale };
        let conversion = record_sale(self.store.as_ref(), &self.sales, &self.limits, sale).await?;
        if !actor.is_test() {
            self.effects.outbox_written();
        }
        Ok(conversion)
    }

    /// The sale as the full read would have let it reach the writer, from what the node
    /// remembers; `None` when the full read must decide. Only a sale that every check before
    /// the writer lets through is taken from memory, so that no answer changes: a refusal must
    /// come after the duplicate check, which needs the read, and of the writer's own answers
    /// only `duplicate` can then arise (no renewal, no cap on live sales), which the batch's
    /// insert gives exactly as the read would have. The click is left to the batch.
    fn sale_from_memory(
        &self,
        actor: &Actor,
        plan: Plan,
        found: &Attributed,
        sale: &SaleFacts,
    ) -> Option<SaleInput> {
        let affiliate = found.affiliate.clone()?;
        let campaign = &found.campaign;
        let ready = found.membership_status == Some(MembershipStatus::Approved)
            && campaign.status == CampaignStatus::Active
            && terms::base_rule(campaign).is_some()
            && (actor.is_test() || self.limits.cap_in(plan, sale.merchant_currency).is_none());
        if !ready {
            return None;
        }
        let (currency, amount_minor) = sale_amount(campaign, sale.currency, &sale.amount_text).ok()?;
        let input = sale.clone().input(
            actor,
            plan,
            campaign.clone(),
            affiliate,
            found.membership_status,
            currency,
            amount_minor,
            self.now(),
        );
        Some(SaleInput { click_unread: true, ..input })
    }

    /// A page of the actor's conversions.
    pub async fn list_conversions(
        &self,
        actor: &Actor,
        filter: &ConversionFilter,
        page: PageRequest<ConversionSort>,
    ) -> CoreResult<Page<Conversion>> {
        Ok(self.store.list_conversions(&actor.merchant_id, filter, page).await?)
    }

    /// Up to `limit` of the actor's conversions (its mode) whose order id, customer name or
    /// customer email contains `text` (case-insensitive), newest first; none for blank text.
    pub async fn search_conversions(
        &self,
        actor: &Actor,
        text: &str,
        limit: i64,
    ) -> CoreResult<Vec<Conversion>> {
        let Some(pattern) = refline_store::contains_pattern(Some(text)) else {
            return Ok(Vec::new());
        };
        Ok(self.store.search_conversions(&actor.merchant_id, actor.mode, &pattern, limit).await?)
    }

    /// One of the actor's conversions (of either mode).
    pub async fn load_conversion(&self, actor: &Actor, id: &str) -> CoreResult<Conversion> {
        self.store
            .get_conversion(&actor.merchant_id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("Conversion"))
    }

    /// One of the actor's conversions with its clawbacks.
    pub async fn get_conversion(&self, actor: &Actor, id: &str) -> CoreResult<ConversionDetail> {
        let conversion = self.load_conversion(actor, id).await?;
        let adjustments = self.store.adjustments_for(&actor.merchant_id, &conversion.id).await?;
        Ok(ConversionDetail { conversion, adjustments })
    }

    /// Approves or rejects a conversion by hand. Approving a commission above 5 × the sale
    /// needs `confirm_above_sale`. Announced only for live conversions changed in live mode.
    pub async fn set_conversion_status(
        &self,
        actor: &Actor,
        id: &str,
        target: ConversionStatus,
        confirm_above_sale: bool,
    ) -> CoreResult<Conversion> {
        self.audited(
            actor,
            "conversion.status",
            Some(id),
            self.set_conversion_status_work(actor, id, target, confirm_above_sale),
        )
        .await
    }

    async fn set_conversion_status_work(
        &self,
        actor: &Actor,
        id: &str,
        target: ConversionStatus,
        confirm_above_sale: bool,
    ) -> CoreResult<Conversion> {
        actor.require_write()?;
        let conversion = self.load_conversion(actor, id).await?;
        let current = conversion.status;
        let transition = check_manual_transition(current, target).map_err(|e| {
            CoreError::invalid_transition(match e {
                TransitionError::Terminal => {
                    "Refunded conversions are final and cannot change status".to_string()
                }
                other => format!("{other}"),
            })
        })?;
        if transition == Transition::NoOp {
            return Ok(conversion);
        }
        if target == ConversionStatus::Approved
            && !confirm_above_sale
            && above_sale_guard(conversion.amount_minor, conversion.commission_minor)
        {
            return Err(CoreError::new(
                ErrorKind::Unprocessable,
                "commission_above_sale",
                "The commission is more than 5x the sale (or the sale is zero); send confirmAboveSale: true to approve anyway",
            )
            .with_details(json!({
                "amount": refline_domain::format_amount_in(conversion.amount_minor, &conversion.currency),
                "commission": refline_domain::format_amount_in(conversion.commission_minor, &conversion.currency),
            })));
        }
        let moved = self
            .store
            .update_conversion_status(&actor.merchant_id, id, current, target, self.now(), actor.mode)
            .await?;
        if !moved {
            return Err(CoreError::changed_concurrently("conversion"));
        }
        self.effects.outbox_written();
        self.load_conversion(actor, id).await
    }
}
