//! How an affiliate is paid: PayPal, Stripe Connect, Wise or by hand.

use refline_domain::{is_valid_email, Currency};
use serde_json::{json, Value};

use crate::Issue;

/// The rails a payout can take.
pub const METHOD_TYPES: [&str; 4] = ["paypal", "stripe_connect", "wise", "manual"];

/// An affiliate's payout details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutMethod {
    /// PayPal Payouts to an email.
    PayPal {
        /// The PayPal account's email.
        email: String,
    },
    /// A Stripe transfer to a connected account.
    StripeConnect {
        /// `acct_…`
        account_id: String,
    },
    /// A Wise batch transfer ("send by email" template).
    Wise {
        /// The recipient's name as on their account.
        name: String,
        /// Their email.
        email: String,
        /// The currency they receive.
        currency: String,
    },
    /// Paid outside Refline, marked paid by hand.
    Manual,
}

impl PayoutMethod {
    /// `paypal`, `stripe_connect`, `wise` or `manual`.
    pub fn kind(&self) -> &'static str {
        match self {
            PayoutMethod::PayPal { .. } => "paypal",
            PayoutMethod::StripeConnect { .. } => "stripe_connect",
            PayoutMethod::Wise { .. } => "wise",
            PayoutMethod::Manual => "manual",
        }
    }

    /// The API's JSON form (what is stored, too).
    pub fn to_json(&self) -> Value {
        match self {
            PayoutMethod::PayPal { email } => json!({ "type": "paypal", "email": email }),
            PayoutMethod::StripeConnect { account_id } => {
                json!({ "type": "stripe_connect", "accountId": account_id })
            }
            PayoutMethod::Wise { name, email, currency } => {
                json!({ "type": "wise", "name": name, "email": email, "currency": currency })
            }
            PayoutMethod::Manual => json!({ "type": "manual" }),
        }
    }

    /// Reads the API's JSON form; every problem is reported under `field` (`payoutMethod`).
    pub fn from_json(value: &Value, field: &str) -> Result<PayoutMethod, Vec<Issue>> {
        let issue =
            |sub: &str, message: String| Issue { path: vec![Value::from(field), Value::from(sub)], message };
        let Some(object) = value.as_object() else {
            return Err(vec![Issue::field(field, format!("{field} must be an object with a type"))]);
        };
        let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::trim).unwrap_or("");
        let mut issues = Vec::new();
        let method = match text("type") {
            "paypal" => {
                let email = text("email").to_lowercase();
                if !is_valid_email(&email) {
                    issues.push(issue("email", "email must be the PayPal account's email address".into()));
                }
                PayoutMethod::PayPal { email }
            }
            "stripe_connect" => {
                let account_id = text("accountId").to_string();
                let well_formed = account_id.len() > 5
                    && account_id.len() <= 64
                    && account_id.starts_with("acct_")
                    && account_id[5..].chars().all(|c| c.is_ascii_alphanumeric());
                if !well_formed {
                    issues.push(issue(
                        "accountId",
                        "accountId must be a Stripe connected account id (acct_…)".into(),
                    ));
                }
                PayoutMethod::StripeConnect { account_id }
            }
            "wise" => {
                let name = text("name").to_string();
                let email = text("email").to_lowercase();
                let currency = text("currency").to_lowercase();
                if name.is_empty() || name.chars().count() > 200 {
                    issues.push(issue("name", "name must be 1 to 200 characters".into()));
                }
                if !is_valid_email(&email) {
                    issues.push(issue("email", "email must be a valid email address".into()));
                }
                if Currency::parse(&currency).is_err() {
                    issues.push(issue("currency", "currency must be a supported ISO 4217 code".into()));
                }
                PayoutMethod::Wise { name, email, currency }
            }
            "manual" => PayoutMethod::Manual,
            _ => {
                return Err(vec![issue("type", format!("type must be one of {}", METHOD_TYPES.join(", ")))]);
            }
        };
        if issues.is_empty() {
            Ok(method)
        } else {
            Err(issues)
        }
    }

    /// Reads a stored form (written by [`PayoutMethod::to_json`]); `None` for anything else.
    pub fn from_stored(text: &str) -> Option<PayoutMethod> {
        let value: Value = serde_json::from_str(text).ok()?;
        PayoutMethod::from_json(&value, "payoutMethod").ok()
    }
}

impl crate::Core {
    /// Sets (or, with `None`, clears) how the merchant's affiliate `affiliate_id` is paid;
    /// answers the affiliate. Live keys only: payout details are real money's destination.
    pub async fn set_payout_method(
        &self,
        actor: &crate::Actor,
        affiliate_id: &str,
        method: Option<PayoutMethod>,
    ) -> crate::CoreResult<crate::affiliates::AffiliateDetail> {
        self.audited(actor, "affiliate.payout_method", Some(affiliate_id), async {
            actor.require_payout_write()?;
            actor.require_live("Payout details")?;
            let stored = method.as_ref().map(|m| m.to_json().to_string());
            if !self.store.set_payout_method(&actor.merchant_id, affiliate_id, stored.as_deref()).await? {
                return Err(crate::CoreError::not_found("Affiliate"));
            }
            self.get_affiliate(actor, affiliate_id).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_round_trips() {
        let methods = [
            PayoutMethod::PayPal { email: "ann@example.com".into() },
            PayoutMethod::StripeConnect { account_id: "acct_1Abc".into() },
            PayoutMethod::Wise {
                name: "Ann Lee".into(),
                email: "ann@example.com".into(),
                currency: "eur".into(),
            },
            PayoutMethod::Manual,
        ];
        for m in methods {
            assert_eq!(PayoutMethod::from_stored(&m.to_json().to_string()), Some(m.clone()));
        }
    }

    #[test]
    fn problems_name_their_field() {
        let err =
            PayoutMethod::from_json(&json!({ "type": "wise", "email": "x" }), "payoutMethod").unwrap_err();
        let paths: Vec<String> = err.iter().map(|i| Value::from(i.path.clone()).to_string()).collect();
        assert_eq!(
            paths,
            [r#"["payoutMethod","name"]"#, r#"["payoutMethod","email"]"#, r#"["payoutMethod","currency"]"#]
        );
        assert!(PayoutMethod::from_json(&json!({ "type": "bitcoin" }), "payoutMethod").is_err());
        assert!(PayoutMethod::from_json(&json!("paypal"), "payoutMethod").is_err());
        assert!(PayoutMethod::from_json(&json!({ "type": "stripe_connect", "accountId": "acct_x;y" }), "p")
            .is_err());
    }
}
