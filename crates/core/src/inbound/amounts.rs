//! Range checks for amounts a processor reports. A correctly signed delivery can still carry a
//! nonsensical amount (a processor bug, a hand-made test event, a compromised secret): a negative
//! sale would record negative commission, and one near 2^63 minor units would overflow every sum
//! it joins. Sales pass the same rule as `POST /api/v1/conversions`
//! ([`refline_domain::check_sale_minor`]); refund amounts may be zero but never negative or
//! beyond the largest sale. A refund above its sale counts as a full refund (see
//! `process::apply_refund`).

use refline_domain::{check_sale_minor, max_sale_minor};
use refline_processors::{currency_exponent, Action, Chargeback, Payment, Refund};

/// Why the amounts of `action` are refused, for the delivery log; `None` when they are fine
/// (or it carries none).
pub fn problem(action: &Action) -> Option<String> {
    match action {
        Action::Payment(payment) => payment_problem(payment),
        Action::Refund(refund) => refund_problem(refund),
        Action::Chargeback(dispute) => chargeback_problem(dispute),
        Action::TrialStarted(_)
        | Action::Link(_)
        | Action::Ignored { .. }
        | Action::NeedsLookup { .. }
        | Action::TransferReversed { .. } => None,
    }
}

/// Why a payment's amount is refused, for the delivery log; `None` when it is fine.
pub fn payment_problem(payment: &Payment) -> Option<String> {
    let exponent = currency_exponent(&payment.currency);
    check_sale_minor(payment.amount_minor, exponent).err().map(|err| {
        format!("refused: amount {} (minor units of {}) {err}", payment.amount_minor, payment.currency)
    })
}

/// Why a refund's amounts are refused; `None` when they are fine.
pub fn refund_problem(refund: &Refund) -> Option<String> {
    let exponent = refund.currency.as_deref().map_or(2, currency_exponent);
    [
        ("amount", refund.amount_minor),
        ("refunded total", refund.total_refunded_minor),
        ("original amount", refund.original_amount_minor),
    ]
    .into_iter()
    .find_map(|(what, amount)| out_of_range(what, amount, exponent))
}

/// Why a chargeback's amount is refused; `None` when it is fine.
pub fn chargeback_problem(dispute: &Chargeback) -> Option<String> {
    let exponent = dispute.currency.as_deref().map_or(2, currency_exponent);
    out_of_range("disputed amount", dispute.amount_minor, exponent)
}

fn out_of_range(what: &str, amount: Option<i64>, exponent: u8) -> Option<String> {
    let amount = amount?;
    if amount < 0 {
        Some(format!("refused: {what} {amount} (minor units) is negative"))
    } else if amount > max_sale_minor(exponent) {
        Some(format!("refused: {what} {amount} (minor units) is out of range"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use refline_processors::BillingReason;

    use super::*;

    fn payment(amount_minor: i64, currency: &str) -> Payment {
        Payment {
            object_id: "in_1".into(),
            aliases: Vec::new(),
            amount_minor,
            tax_minor: None,
            currency: currency.into(),
            customer_id: None,
            customer_email: None,
            subscription_id: None,
            billing_reason: BillingReason::OneOff,
            reference: None,
            coupon: None,
        }
    }

    #[test]
    fn sales_follow_the_api_rule() {
        assert_eq!(payment_problem(&payment(1, "USD")), None);
        assert_eq!(payment_problem(&payment(max_sale_minor(2), "USD")), None);
        assert!(payment_problem(&payment(-1, "USD")).is_some_and(|m| m.contains("must be positive")));
        assert!(payment_problem(&payment(max_sale_minor(2) + 1, "USD")).is_some());
        assert!(payment_problem(&payment(i64::MAX, "JPY")).is_some());
        assert_eq!(payment_problem(&payment(max_sale_minor(0), "JPY")), None);
    }

    #[test]
    fn refunds_are_never_negative_or_huge() {
        let refund = |amount: Option<i64>, total: Option<i64>| Refund {
            object_id: "ch_1".into(),
            aliases: Vec::new(),
            refund_id: "re_1".into(),
            full: false,
            amount_minor: amount,
            total_refunded_minor: total,
            original_amount_minor: None,
            currency: Some("USD".into()),
        };
        assert_eq!(refund_problem(&refund(Some(0), Some(500))), None);
        assert!(refund_problem(&refund(Some(-5), None)).is_some());
        assert!(refund_problem(&refund(None, Some(i64::MAX - 1))).is_some());
    }
}
