//! Recording a sale: the checks LinkJolt runs for the API and its webhook handlers alike
//! (rejected or pending affiliate, paused campaign, recurring rules, monthly earnings cap,
//! duplicate order, self-referral scoring), then the commission and the insert.

use refline_domain::{
    assess_self_referral, canonical_email, commission_for, month_key, month_start, select_rule,
    strip_forbidden, CampaignStatus, ConversionStatus, ConversionType, Currency, FraudAssessment,
    MembershipStatus, Mode, Plan, SelfReferralInput,
};
use refline_store::{
    Affiliate, Campaign, ClickCheck, ClickEvidence, Conversion, Pricer, RecordError, RecordRequest, Renewal,
    Store, StoreError,
};

use crate::{ids::new_ordered_id, sales::writer::ConversionWriter, terms, PlanLimits};

/// A sale to record, already attributed to a campaign and affiliate of one merchant.
#[derive(Debug, Clone)]
pub struct SaleInput {
    /// The campaign credited (the merchant's own).
    pub campaign: Campaign,
    /// The affiliate credited (the merchant's own).
    pub affiliate: Affiliate,
    /// The affiliate's membership status on the campaign, if any.
    pub membership_status: Option<MembershipStatus>,
    /// The customer's click named by `click_id`, if it was found.
    pub click: Option<ClickEvidence>,
    /// The click named by `click_id` was not looked up (the attribution came from the node's
    /// memory): the batch reads it and scores self-referral with it (`ClickCheck`).
    pub click_unread: bool,
    /// Sale amount, minor units of `currency`, > 0.
    pub amount_minor: i64,
    /// Sale currency.
    pub currency: Currency,
    /// Merchant's order reference.
    pub order_id: Option<String>,
    /// Originating click.
    pub click_id: Option<String>,
    /// Customer email.
    pub customer_email: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// `one_time` or `recurring` (a subscription's first sale or, with `parent`, a renewal).
    pub conversion_type: ConversionType,
    /// The first sale of the chain this renewal belongs to.
    pub parent: Option<Conversion>,
    /// `api`, `stripe`, …
    pub source: String,
    /// Test key or processor test mode: skips cap and fraud checks, kept out of live data.
    pub mode: Mode,
    /// Credit affiliates still pending approval (processor webhooks: the money is real and the
    /// commission waits for review anyway); the API refuses them as LinkJolt does.
    pub allow_pending: bool,
    /// A trial start: recorded as a `trial` conversion (never payable). At $0 it earns nothing;
    /// with the expected subscription amount (`immediate` trial mode) it is priced like a sale.
    pub trial: bool,
    /// The conversion id to use (processor sales: `stripe_<trackingCode>_…`); a new `conv_…`
    /// id otherwise.
    pub id: Option<String>,
    /// The merchant's plan (for the cap).
    pub plan: Plan,
    /// The merchant's currency: the cap is an amount of it, and each sale counts toward the cap
    /// converted into it.
    pub merchant_currency: Currency,
    /// Unix ms of the sale.
    pub now: i64,
}

/// Why a sale earns no conversion.
#[derive(Debug)]
pub enum Refusal {
    /// The affiliate is pending, rejected, or not on the campaign.
    AffiliateNotApproved(&'static str),
    /// The campaign is paused.
    CampaignInactive,
    /// A renewal on a campaign that pays no recurring commission.
    RecurringDisabled,
    /// A renewal past the campaign's recurring limit.
    RecurringLimitReached,
    /// A renewal whose parent belongs to another campaign or affiliate, or is itself a renewal.
    ParentMismatch(&'static str),
    /// The merchant's tracked sales this month reached the plan cap.
    CapReached,
    /// The order id is already used.
    Duplicate(String),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        Refusal::Store(err)
    }
}

/// Runs every check and records the conversion as `pending` through the writer.
pub async fn record_sale(
    store: &dyn Store,
    writer: &ConversionWriter,
    limits: &PlanLimits,
    sale: SaleInput,
) -> Result<Conversion, Refusal> {
    // Text a door did not check (a processor's order id, customer email or name) is kept without
    // the characters no stored text may contain; the API refuses them before this point.
    let clean = |text: Option<String>| text.map(|t| strip_forbidden(&t).into_owned());
    let sale = SaleInput {
        order_id: clean(sale.order_id),
        click_id: clean(sale.click_id),
        customer_email: clean(sale.customer_email).map(|e| canonical_email(&e)),
        customer_name: clean(sale.customer_name),
        ..sale
    };
    let campaign = &sale.campaign;
    match sale.membership_status {
        Some(MembershipStatus::Approved) => {}
        Some(MembershipStatus::Pending) if sale.allow_pending => {}
        Some(MembershipStatus::Pending) => return Err(Refusal::AffiliateNotApproved("pending")),
        Some(MembershipStatus::Rejected) => return Err(Refusal::AffiliateNotApproved("rejected")),
        None => return Err(Refusal::AffiliateNotApproved("not on this campaign")),
    }
    match campaign.status {
        CampaignStatus::Active => {}
        CampaignStatus::Inactive => return Err(Refusal::CampaignInactive),
    }
    let base = terms::base_rule(campaign)
        .ok_or_else(|| StoreError::Other("campaign has no valid commission".into()))?;
    let (renewal, custom_rule) = match &sale.parent {
        None => (None, None),
        Some(parent) => {
            if parent.campaign_id != campaign.id || parent.affiliate_id != sale.affiliate.id {
                return Err(Refusal::ParentMismatch(
                    "parentConversionId belongs to another campaign or affiliate",
                ));
            }
            if parent.parent_conversion_id.is_some() {
                return Err(Refusal::ParentMismatch(
                    "parentConversionId must name the first sale of the subscription",
                ));
            }
            if !campaign.recurring_enabled {
                return Err(Refusal::RecurringDisabled);
            }
            // The payment number and the limit are decided in the batch's transaction, under a
            // lock on the chain: counting here, before the writer, let concurrent renewals of
            // one subscription share a number (and both pass a payments limit).
            let renewal = Renewal {
                parent_id: parent.id.clone(),
                parent_created_at: parent.created_at,
                limit: terms::recurring_limit(campaign),
            };
            (Some(renewal), terms::custom_recurring_rule(campaign))
        }
    };
    let fraud = match sale.mode {
        Mode::Test => None,
        Mode::Live => self_referral(store, &sale).await?,
    };
    let tiers = terms::tiers_of(campaign);
    let basis = terms::basis_of(campaign);
    let amount = sale.amount_minor;
    let conversion = Conversion {
        // Time first (as clicks' ids): each batch's new ids land on the last leaf of the id index
        // instead of one random leaf per sale, which every commit would write again (issue 18).
        id: sale.id.clone().unwrap_or_else(|| new_ordered_id("conv", sale.now)),
        merchant_id: campaign.merchant_id.clone(),
        campaign_id: campaign.id.clone(),
        affiliate_id: sale.affiliate.id.clone(),
        amount_minor: amount,
        commission_minor: 0,
        currency: sale.currency.code().into(),
        status: if sale.trial { ConversionStatus::Trial } else { ConversionStatus::Pending },
        order_id: sale.order_id,
        click_id: sale.click_id,
        customer_email: sale.customer_email,
        customer_name: sale.customer_name,
        conversion_type: sale.conversion_type,
        parent_conversion_id: sale.parent.as_ref().map(|p| p.id.clone()),
        // A renewal's number is set by the batch (see `renewal` above).
        payment_number: 1,
        source: sale.source,
        mode: sale.mode,
        fraud_score: fraud.as_ref().map(|f| i64::from(f.score)),
        fraud_signals: fraud
            .as_ref()
            .map(|f| f.signals.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")),
        created_at: sale.now,
        updated_at: sale.now,
        approved_at: None,
        earned_minor: 0,
        paid_minor: 0,
    };
    let monthly_cap_minor = limits.cap_in(sale.plan, sale.merchant_currency);
    let tracked = limits.tracked_amount(amount, sale.currency, sale.merchant_currency);
    if tracked.at_par && sale.mode.is_live() && monthly_cap_minor.is_some() {
        // Recorded all the same (the money is real); the operator can add the rate.
        tracing::warn!(
            merchant = %campaign.merchant_id,
            sale_currency = sale.currency.code(),
            merchant_currency = sale.merchant_currency.code(),
            "no exchange rate for this pair (--currency-rate): the sale counts toward the monthly cap at par"
        );
    }
    let click_check = (sale.mode.is_live()
        && sale.click_unread
        && conversion.click_id.is_some()
        && conversion.customer_email.is_some())
    .then(|| ClickCheck { affiliate_email: sale.affiliate.email.clone() });
    let request = RecordRequest {
        conversion,
        month: i64::from(month_key(sale.now)),
        month_start: month_start(sale.now),
        monthly_cap_minor,
        tracked_minor: tracked.minor,
        needs_volume: custom_rule.is_none() && !tiers.is_empty(),
        tiered: !tiers.is_empty(),
        renewal,
        // The conversion writer adds to its own tally row; it sets the shard.
        tally_shard: 0,
        click_check,
    };
    let trial = sale.trial;
    let price: Pricer = std::sync::Arc::new(move |volume| match &custom_rule {
        // A fixed-amount campaign would otherwise pay for a $0 trial nobody paid for.
        _ if trial && amount == 0 => 0,
        // A priced trial is the subscription's first sale to come: never a renewal's rule.
        _ if trial => commission_for(select_rule(&base, &tiers, basis, volume, amount), amount),
        Some(rule) => commission_for(rule, amount),
        None => commission_for(select_rule(&base, &tiers, basis, volume, amount), amount),
    });
    writer.record(request, price).await.map_err(|err| match err {
        RecordError::Duplicate { existing_id } => Refusal::Duplicate(existing_id),
        RecordError::CapReached => Refusal::CapReached,
        RecordError::RecurringLimitReached => Refusal::RecurringLimitReached,
        RecordError::Store(e) => Refusal::Store(e),
    })
}

/// Scores self-referral when both a click and the customer's email are known (as LinkJolt
/// does). Any matched signal flags the conversion for review; its `level` (low 0–40, medium,
/// high 70+) tells reviewers how strong the evidence is, since a lone shared company domain is
/// common between honest colleagues.
async fn self_referral(store: &dyn Store, sale: &SaleInput) -> Result<Option<FraudAssessment>, StoreError> {
    let (Some(_), Some(customer_email)) = (&sale.click_id, &sale.customer_email) else {
        return Ok(None);
    };
    let click = &sale.click;
    // Without the click there is no customer IP or device to compare: skip that read.
    let prints = match &click {
        Some(_) => store.affiliate_fingerprints(&sale.affiliate.id).await?,
        None => Default::default(),
    };
    let assessment = assess_self_referral(&SelfReferralInput {
        customer_email,
        affiliate_email: &sale.affiliate.email,
        customer_ip: click.as_ref().and_then(|c| c.ip.as_deref()),
        customer_device: click.as_ref().and_then(|c| c.device_hash.as_deref()),
        affiliate_ips: &prints.ips,
        affiliate_devices: &prints.devices,
    });
    Ok(assessment.is_flagged().then_some(assessment))
}
