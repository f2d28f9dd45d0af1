//! Normalized events: what a verified delivery means for commissions.

/// One parsed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The processor's event id, for dedupe of deliveries. Where the processor has none, a stable
    /// key derived from the payload as the spec recommends (documented per provider).
    pub event_id: String,
    /// The processor's own name for the event (`invoice.paid`, `order_created`, `sale`, …).
    pub event_type: String,
    /// The payload says it is a test / sandbox event.
    pub test_mode: bool,
    /// When the processor says the event happened, if it says.
    pub occurred_at_unix_ms: Option<i64>,
    pub action: Action,
}

/// What to do about a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Money received: a first sale, a renewal or a plan-change charge.
    Payment(Payment),
    /// An attributed, zero-amount start of a trial subscription.
    TrialStarted(Trial),
    /// A full or partial refund of an earlier payment.
    Refund(Refund),
    /// A dispute / chargeback with funds withdrawn (treat like a full refund).
    Chargeback(Chargeback),
    /// More ids for a payment credited (or to be credited) under `object_id`, and/or the
    /// subscription whose first sale it is: where a processor reports those links in an event
    /// of their own (Stripe `invoice_payment.paid`, Lemon Squeezy `subscription_created`).
    Link(Link),
    /// A transfer the merchant made from its own Stripe account was reversed (Stripe
    /// `transfer.reversed`): the affiliate payout it paid failed.
    TransferReversed {
        /// `tr_…`
        transfer_id: String,
    },
    /// Nothing to do; the reason is meant for the delivery log.
    Ignored { reason: String },
    /// GoPay: the notification carries only a payment id. Fetch the payment from GoPay's API
    /// (after checking the id is one of ours) and pass the JSON to [`crate::parse_gopay_payment`].
    NeedsLookup { payment_id: String },
}

/// Whether a payment starts something, continues it, or stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingReason {
    /// The first payment of a subscription.
    FirstPayment,
    /// A scheduled renewal of a subscription.
    Renewal,
    /// A proration / upgrade charge on an existing subscription.
    PlanChange,
    /// A purchase not tied to a subscription.
    OneOff,
    /// The processor does not say (or used a value unknown here). A new sale unless the
    /// subscription is already known.
    Unknown,
}

impl BillingReason {
    /// Whether the payment belongs to a subscription that may already have a conversion
    /// (renewals and plan changes are linked to the original sale).
    pub fn continues_subscription(self) -> bool {
        matches!(self, BillingReason::Renewal | BillingReason::PlanChange)
    }
}

/// The tracking reference carried through checkout (shared with the tracking side).
pub use refline_domain::TrackingReference as Reference;

/// The discount an order used, as the processor identifies it. Coupon attribution tries
/// the coupon id first, then the promotion-code id, then the code text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CouponRef {
    pub coupon_id: Option<String>,
    pub promotion_code_id: Option<String>,
    pub code: Option<String>,
}

impl CouponRef {
    /// `None` when nothing identifies a discount.
    pub(crate) fn non_empty(self) -> Option<CouponRef> {
        if self.coupon_id.is_none() && self.promotion_code_id.is_none() && self.code.is_none() {
            None
        } else {
            Some(self)
        }
    }
}

/// Money received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The business object to credit once (see the crate docs per provider). Several event
    /// types reporting the same money give the same `object_id`.
    pub object_id: String,
    /// Other ids refunds or disputes may use for the same payment (payment intent, charge,
    /// transaction, checkout …). Match refunds on `object_id` or any alias.
    pub aliases: Vec<String>,
    /// What the customer paid, tax included, in minor units.
    pub amount_minor: i64,
    /// Tax included in `amount_minor`, where the processor reports it.
    pub tax_minor: Option<i64>,
    /// ISO 4217, upper case.
    pub currency: String,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub subscription_id: Option<String>,
    pub billing_reason: BillingReason,
    /// The tracking reference found in the payload, if any.
    pub reference: Option<Reference>,
    /// The discount used, for coupon attribution when there is no reference.
    pub coupon: Option<CouponRef>,
}

/// A trial subscription started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    /// The subscription id (one trial conversion per subscription).
    pub object_id: String,
    pub subscription_id: String,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub reference: Option<Reference>,
    pub coupon: Option<CouponRef>,
    pub trial_ends_at_unix_ms: Option<i64>,
    /// What the subscription will charge when the trial ends, minor units, where the trial's
    /// payload carries its price (Stripe items' `unit_amount` × `quantity`, Paddle items'
    /// `unit_price` × `quantity`); a campaign in `immediate` trial mode records it at once.
    pub expected_amount_minor: Option<i64>,
    /// ISO 4217, upper case: the currency of `expected_amount_minor`.
    pub expected_currency: Option<String>,
}

/// Money returned to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The refunded payment's `object_id` (or one of its aliases).
    pub object_id: String,
    /// More ids of the refunded payment, to match against a payment's `object_id`/aliases.
    pub aliases: Vec<String>,
    /// Dedupe key of this refund (the processor's refund id, or a derived one).
    pub refund_id: String,
    /// The whole payment is refunded now.
    pub full: bool,
    /// The amount of this refund, where reported.
    pub amount_minor: Option<i64>,
    /// Everything refunded on the payment so far (cumulative), where reported. Prefer it over
    /// summing `amount_minor`: it is idempotent under duplicate and out-of-order deliveries.
    pub total_refunded_minor: Option<i64>,
    /// The payment's original amount, where reported (for proportional reversal).
    pub original_amount_minor: Option<i64>,
    /// ISO 4217 upper case, where reported.
    pub currency: Option<String>,
}

/// Ids that belong to an already (or soon) credited payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The payment's `object_id`, as its [`Payment`] event reports it.
    pub object_id: String,
    /// More ids of the same payment (payment intent, charge) that refunds or disputes may name.
    pub aliases: Vec<String>,
    /// The subscription this payment is the first sale of, when the payment event itself
    /// does not say (Lemon Squeezy orders): renewals of it continue this payment's chain.
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
}

/// A chargeback with funds withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chargeback {
    /// The disputed payment's `object_id` (or one of its aliases).
    pub object_id: String,
    pub aliases: Vec<String>,
    pub dispute_id: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub reason: Option<String>,
}

pub(crate) fn ignored(reason: impl Into<String>) -> Action {
    Action::Ignored { reason: reason.into() }
}

/// Distinct ids other than `primary`, in order.
pub(crate) fn aliases<const N: usize>(primary: &str, ids: [Option<String>; N]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.into_iter().flatten() {
        if id != primary && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}
