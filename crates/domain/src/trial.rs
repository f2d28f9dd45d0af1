//! Free trials (LinkJolt §8.6): a campaign's trial mode, what a trial start records, and what the
//! first payment after a trial does with the trial's conversion.
//!
//! LinkJolt names three modes. `automatic` (its recommendation and Refline's default) reads the
//! processor's trial flag: a trial is handled as after-trial, no trial is a full sale at once.
//! `after_trial` records the trial at $0 and credits the real amount when the first payment
//! arrives. For trials Refline learns of from a processor's webhook the two behave the same: the
//! webhook *is* the processor's trial flag (a subscription without one is never reported as a
//! trial start, its first payment is a sale at once), so both record the $0 trial and let the
//! first payment earn the commission. `immediate` records the expected subscription amount and
//! its commission at trial start (status `trial`, never payable) and turns that same conversion
//! `pending` with the paid amount when the first payment arrives.

use std::fmt;

use crate::{check_sale_minor, commission_for, CommissionRule, ConversionStatus};

/// How a campaign records trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TrialMode {
    /// The processor's trial flag decides: a trial is handled as [`TrialMode::AfterTrial`].
    #[default]
    Automatic,
    /// $0 during the trial; the first payment credits the real amount and commission.
    AfterTrial,
    /// The expected amount and commission at trial start; pending once paid.
    Immediate,
}

impl TrialMode {
    /// Every mode.
    pub const ALL: [TrialMode; 3] = [TrialMode::Automatic, TrialMode::AfterTrial, TrialMode::Immediate];

    /// Stable text form: `"automatic"`, `"after_trial"` or `"immediate"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialMode::Automatic => "automatic",
            TrialMode::AfterTrial => "after_trial",
            TrialMode::Immediate => "immediate",
        }
    }

    /// Inverse of [`TrialMode::as_str`].
    pub fn parse(text: &str) -> Option<TrialMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl fmt::Display for TrialMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a trial start records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialStart {
    /// A $0 trial conversion; the first payment earns the commission.
    Zero,
    /// `immediate`: the expected subscription amount (minor units), priced like a sale.
    Expected(i64),
    /// `immediate`, but the trial event carried no usable price (none, another currency than
    /// the campaign's, or out of the sale range): the $0 trial, as after-trial.
    ZeroWithoutPrice,
}

/// What a trial start of a campaign in `mode` records, given the expected subscription amount
/// the processor's event carried in the campaign's currency (`None` when it carried none or
/// another currency) and that currency's `exponent`.
pub fn trial_start(mode: TrialMode, expected_minor: Option<i64>, exponent: u8) -> TrialStart {
    match mode {
        TrialMode::Automatic | TrialMode::AfterTrial => TrialStart::Zero,
        TrialMode::Immediate => match expected_minor {
            Some(amount) if check_sale_minor(amount, exponent).is_ok() => TrialStart::Expected(amount),
            _ => TrialStart::ZeroWithoutPrice,
        },
    }
}

/// What the first payment of a subscription with a trial on record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPayment {
    /// Record the payment as the subscription's first sale (the $0 trial stays as it is).
    NewSale,
    /// The trial conversion already carries an amount and commission (`immediate`): it becomes
    /// `pending` with the paid amount instead of a second conversion crediting the same sale.
    ConvertTrial,
}

/// Decided from the trial conversion as recorded, not the campaign's mode today: the mode may
/// change during a trial, and only a priced trial would credit the sale twice.
pub fn first_payment(trial_status: ConversionStatus, trial_amount_minor: i64) -> FirstPayment {
    if trial_status == ConversionStatus::Trial && trial_amount_minor > 0 {
        FirstPayment::ConvertTrial
    } else {
        FirstPayment::NewSale
    }
}

/// The commission of a priced trial once `paid_minor` is paid. The same amount keeps the
/// trial's commission (tiers are not retroactive, so the band it was priced in stays). Another
/// amount is priced with the rule that priced the trial: the first of `rules` (the campaign's
/// base rule, then its tiers' rules) that gives the trial's commission for the expected amount;
/// when none does (the terms changed during the trial), the first rule (today's base rule).
pub fn converted_commission(
    rules: &[CommissionRule],
    expected_minor: i64,
    trial_commission_minor: i64,
    paid_minor: i64,
) -> i64 {
    if paid_minor == expected_minor {
        return trial_commission_minor;
    }
    rules
        .iter()
        .find(|rule| commission_for(rule, expected_minor) == trial_commission_minor)
        .or_else(|| rules.first())
        .map_or(trial_commission_minor, |rule| commission_for(rule, paid_minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Percent;

    fn pct(text: &str) -> CommissionRule {
        CommissionRule::Percentage(Percent::parse(text).unwrap())
    }

    #[test]
    fn modes_round_trip_and_default_to_automatic() {
        for mode in TrialMode::ALL {
            assert_eq!(TrialMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(TrialMode::default(), TrialMode::Automatic);
        assert_eq!(TrialMode::parse("Immediate"), None);
        assert_eq!(TrialMode::parse("after-trial"), None);
        assert_eq!(TrialMode::parse(""), None);
    }

    #[test]
    fn only_immediate_prices_a_trial_and_only_with_a_usable_price() {
        assert_eq!(trial_start(TrialMode::Automatic, Some(4900), 2), TrialStart::Zero);
        assert_eq!(trial_start(TrialMode::AfterTrial, Some(4900), 2), TrialStart::Zero);
        assert_eq!(trial_start(TrialMode::Immediate, Some(4900), 2), TrialStart::Expected(4900));
        assert_eq!(trial_start(TrialMode::Immediate, None, 2), TrialStart::ZeroWithoutPrice);
        assert_eq!(trial_start(TrialMode::Immediate, Some(0), 2), TrialStart::ZeroWithoutPrice);
        assert_eq!(trial_start(TrialMode::Immediate, Some(-5), 2), TrialStart::ZeroWithoutPrice);
        assert_eq!(trial_start(TrialMode::Immediate, Some(i64::MAX), 2), TrialStart::ZeroWithoutPrice);
    }

    #[test]
    fn only_a_priced_trial_still_in_trial_is_converted() {
        assert_eq!(first_payment(ConversionStatus::Trial, 4900), FirstPayment::ConvertTrial);
        assert_eq!(first_payment(ConversionStatus::Trial, 0), FirstPayment::NewSale);
        // Rejected by the merchant during the trial: the payment is a sale of its own to review.
        assert_eq!(first_payment(ConversionStatus::Rejected, 4900), FirstPayment::NewSale);
        assert_eq!(first_payment(ConversionStatus::Pending, 4900), FirstPayment::NewSale);
    }

    #[test]
    fn a_converted_trial_is_priced_by_the_rule_that_priced_it() {
        let rules = [pct("20"), CommissionRule::Fixed(1500)];
        // Same amount: the trial's commission stands.
        assert_eq!(converted_commission(&rules, 4900, 980, 4900), 980);
        // Percentage trial, another amount: 20 % of what was paid.
        assert_eq!(converted_commission(&rules, 4900, 980, 2900), 580);
        // A trial priced by the fixed tier keeps the fixed amount.
        assert_eq!(converted_commission(&rules, 4900, 1500, 2900), 1500);
        // Terms changed during the trial: today's base rule.
        assert_eq!(converted_commission(&rules, 4900, 700, 1000), 200);
        assert_eq!(converted_commission(&[], 4900, 700, 1000), 700);
    }
}
