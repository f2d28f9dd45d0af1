//! A merchant's payout settings: the hold after approval, the minimum payout, automatic runs,
//! the default method and the (write-only) Stripe secret key.

use refline_domain::{exponent_of, format_amount, parse_amount};
use refline_store::PayoutSettings;

use super::method::METHOD_TYPES;
use crate::{
    campaigns::Change, field_order::in_field_order, secrets::SecretBox, Actor, Core, CoreError, CoreResult,
    Issue,
};

/// The longest hold, in days.
pub const MAX_HOLD_DAYS: i64 = 365;
/// The largest minimum payout, in whole units.
const MAX_MINIMUM_UNITS: i64 = 1_000_000;

/// Field order of settings problems.
const FIELDS: &[&str] =
    &["payoutHoldDays", "minimumPayout", "automaticPayouts", "defaultPayoutMethod", "stripeSecretKey"];

/// A change of settings, as sent.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    /// `payoutHoldDays`, 0–365.
    pub payout_hold_days: Option<i64>,
    /// `minimumPayout` as decimal text (at most two decimals, 0–1,000,000).
    pub minimum_payout: Option<String>,
    /// `automaticPayouts`.
    pub automatic_payouts: Option<bool>,
    /// `defaultPayoutMethod`: one of the method types, or cleared.
    pub default_payout_method: Change<String>,
    /// `stripeSecretKey`: a Stripe secret or restricted key, or cleared.
    pub stripe_secret_key: Change<String>,
    /// What the door could not read at all.
    pub unreadable: Vec<Issue>,
}

/// The settings as shown (the Stripe key only as whether one is set and its last characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsView {
    /// Days after approval before a commission is payable.
    pub payout_hold_days: i64,
    /// The minimum payout as decimal text ("50.00"), in each payout's currency.
    pub minimum_payout: String,
    /// Automatic runs pay Stripe Connect payouts.
    pub automatic_payouts: bool,
    /// The default method.
    pub default_payout_method: Option<String>,
    /// True when a Stripe secret key is stored.
    pub stripe_secret_key_set: bool,
}

impl SettingsView {
    /// The API's JSON form (what `GET /settings` answers and the command line prints).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "payoutHoldDays": self.payout_hold_days,
            "minimumPayout": self.minimum_payout,
            "automaticPayouts": self.automatic_payouts,
            "defaultPayoutMethod": self.default_payout_method,
            "stripeSecretKeySet": self.stripe_secret_key_set,
        })
    }
}

/// The minimum payout in minor units of `currency`, from hundredths of a unit (5000 = 50.00):
/// 50.00 is 5000 cents, 50 yen, 50000 fils.
pub fn minimum_minor(hundredths: i64, currency: &str) -> i64 {
    let exponent = exponent_of(currency);
    let scaled = i128::from(hundredths) * 10i128.pow(u32::from(exponent)) / 100;
    i64::try_from(scaled).unwrap_or(i64::MAX)
}

impl Core {
    /// The merchant's payout settings.
    pub async fn payout_settings(&self, actor: &Actor) -> CoreResult<SettingsView> {
        let stored = self.load_payout_settings(actor).await?;
        Ok(view(&stored))
    }

    pub(crate) async fn load_payout_settings(&self, actor: &Actor) -> CoreResult<PayoutSettings> {
        self.store.payout_settings(&actor.merchant_id).await?.ok_or_else(|| CoreError::not_found("Merchant"))
    }

    /// Changes the fields sent. Live keys only: the settings govern real money.
    pub async fn update_payout_settings(
        &self,
        actor: &Actor,
        input: SettingsInput,
        secrets: &SecretBox,
    ) -> CoreResult<SettingsView> {
        self.audited(actor, "settings.update", None, self.update_payout_settings_work(actor, input, secrets))
            .await
    }

    async fn update_payout_settings_work(
        &self,
        actor: &Actor,
        input: SettingsInput,
        secrets: &SecretBox,
    ) -> CoreResult<SettingsView> {
        actor.require_payout_write()?;
        actor.require_live("Payout settings")?;
        let mut settings = self.load_payout_settings(actor).await?;
        let mut issues = input.unreadable.clone();
        if let Some(days) = input.payout_hold_days {
            if (0..=MAX_HOLD_DAYS).contains(&days) {
                settings.payout_hold_days = days;
            } else {
                issues.push(Issue::field(
                    "payoutHoldDays",
                    format!("payoutHoldDays must be 0 to {MAX_HOLD_DAYS}"),
                ));
            }
        }
        if let Some(text) = &input.minimum_payout {
            match parse_amount(text.trim(), 2) {
                Ok(hundredths) if (0..=MAX_MINIMUM_UNITS * 100).contains(&hundredths) => {
                    settings.minimum_payout_hundredths = hundredths;
                }
                _ => issues.push(Issue::field(
                    "minimumPayout",
                    "minimumPayout must be a decimal amount from 0 to 1000000 with at most two decimals",
                )),
            }
        }
        if let Some(on) = input.automatic_payouts {
            settings.automatic_payouts = on;
        }
        match &input.default_payout_method {
            Change::Keep => {}
            Change::Clear => settings.default_payout_method = None,
            Change::Set(kind) if METHOD_TYPES.contains(&kind.as_str()) => {
                settings.default_payout_method = Some(kind.clone());
            }
            Change::Set(_) => issues.push(Issue::field(
                "defaultPayoutMethod",
                format!("defaultPayoutMethod must be one of {}", METHOD_TYPES.join(", ")),
            )),
        }
        match &input.stripe_secret_key {
            Change::Keep => {}
            Change::Clear => settings.stripe_secret_key = None,
            Change::Set(key) if is_stripe_secret(key) => settings.stripe_secret_key = Some(secrets.seal(key)),
            Change::Set(_) => issues.push(Issue::field(
                "stripeSecretKey",
                "stripeSecretKey must be a Stripe secret or restricted key (sk_… or rk_…)",
            )),
        }
        if !issues.is_empty() {
            in_field_order(&mut issues, FIELDS);
            return Err(CoreError::validation(issues));
        }
        if !self.store.update_payout_settings(&actor.merchant_id, &settings).await? {
            return Err(CoreError::not_found("Merchant"));
        }
        Ok(view(&settings))
    }
}

/// `sk_live_…`, `sk_test_…`, `rk_…`: letters, digits and underscores, of a sane length.
fn is_stripe_secret(key: &str) -> bool {
    (key.starts_with("sk_") || key.starts_with("rk_"))
        && (10..=255).contains(&key.len())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn view(s: &PayoutSettings) -> SettingsView {
    SettingsView {
        payout_hold_days: s.payout_hold_days,
        minimum_payout: format_amount(s.minimum_payout_hundredths, 2),
        automatic_payouts: s.automatic_payouts,
        default_payout_method: s.default_payout_method.clone(),
        stripe_secret_key_set: s.stripe_secret_key.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_is_read_in_each_currency() {
        assert_eq!(minimum_minor(5000, "usd"), 5000);
        assert_eq!(minimum_minor(5000, "jpy"), 50);
        assert_eq!(minimum_minor(5050, "jpy"), 50, "a fraction of a yen rounds down");
        assert_eq!(minimum_minor(5000, "kwd"), 50_000);
    }

    #[test]
    fn stripe_keys() {
        assert!(is_stripe_secret("sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(is_stripe_secret("rk_live_abcdefghij"));
        assert!(!is_stripe_secret("pk_test_abcdefghij"));
        assert!(!is_stripe_secret("sk_test_abc def"));
    }
}
