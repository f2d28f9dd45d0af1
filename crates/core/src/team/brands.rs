//! Brands (spec §1.2): an account owns one or more, each a fully isolated program (today's
//! merchant, with its own keys, campaigns, affiliates, integrations, webhooks and cap). The
//! owner adds brands on plans that allow several, archives them (data kept, keys refused) and
//! reactivates them. Business details are per brand.

use refline_domain::{allows_several_brands, Currency, Grant, KeyKind};
use refline_store::Merchant;

use crate::{
    accounts::make_key,
    ids::new_id,
    team::signup::{business_name_issue, owner_member},
    Actor, Core, CoreError, CoreResult, ErrorKind, Issue,
};

/// Business details to save.
#[derive(Debug, Clone)]
pub struct BusinessInput {
    /// Business name (shown to affiliates on the join page and in mails).
    pub name: String,
    /// Website (`https://…`), or empty for none.
    pub website: String,
    /// Default currency of new campaigns (ISO 4217).
    pub currency: String,
}

impl Core {
    /// Adds a brand to the actor's account, with a live and a test key; the owner owns it.
    /// `422 plan_limit` on Starter and Scale (single-brand plans).
    pub async fn create_brand(&self, actor: &Actor, name: &str, currency: &str) -> CoreResult<String> {
        self.audited(actor, "brand.create", None, async {
            actor.require_grant(Grant::ManageTeam)?;
            let mut issues: Vec<Issue> = business_name_issue(name, "name").into_iter().collect();
            let currency = Currency::parse(currency).unwrap_or_else(|_| {
                issues
                    .push(Issue::field("currency", "currency must be a supported ISO 4217 code such as usd"));
                Currency::USD
            });
            if !issues.is_empty() {
                return Err(CoreError::validation(issues));
            }
            let current = self.brand(actor).await?;
            if !allows_several_brands(current.plan) {
                return Err(CoreError::new(
                    ErrorKind::Unprocessable,
                    "plan_limit",
                    format!(
                        "The {} plan runs one brand; Pro and Ultimate run several",
                        current.plan.as_str()
                    ),
                ));
            }
            let user_id = actor.user_id().unwrap_or_default().to_string();
            let now = self.now();
            let merchant = Merchant {
                id: new_id("mer"),
                name: name.trim().to_string(),
                plan: current.plan,
                currency: currency.code().into(),
                created_at: now,
                tracking_seen_at: None,
                account_id: current.account_id.clone(),
                website: None,
                archived_at: None,
            };
            let keys =
                [make_key(&merchant.id, KeyKind::Live, now).0, make_key(&merchant.id, KeyKind::Test, now).0];
            self.store.create_brand(&merchant, &keys, &owner_member(&merchant.id, &user_id, now)).await?;
            Ok(merchant.id)
        })
        .await
    }

    /// Archives (`true`) or reactivates (`false`) the actor's brand. Owner only.
    pub async fn set_brand_archived(&self, actor: &Actor, archived: bool) -> CoreResult<()> {
        let operation = if archived { "brand.archive" } else { "brand.reactivate" };
        self.audited(actor, operation, Some(&actor.merchant_id), async {
            actor.require_grant(Grant::ManageTeam)?;
            self.brand(actor).await?;
            self.store.set_brand_archived(&actor.merchant_id, archived.then(|| self.now())).await?;
            // The brand's keys are refused (or work again) from the next request.
            self.effects.keys_changed();
            Ok(())
        })
        .await
    }

    /// Saves the brand's business details. Live only; owners and admins.
    pub async fn update_business(&self, actor: &Actor, input: BusinessInput) -> CoreResult<()> {
        self.audited(actor, "business.update", Some(&actor.merchant_id), async {
            actor.require_write()?;
            actor.require_live("Business details")?;
            actor.require_grant(Grant::ManageBusiness)?;
            let mut issues: Vec<Issue> =
                business_name_issue(&input.name, "businessName").into_iter().collect();
            let website = input.website.trim();
            let website_ok = website.is_empty()
                || (website.len() <= 2048
                    && url::Url::parse(website).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
            if !website_ok {
                issues.push(Issue::field("website", "website must be an http(s) URL"));
            }
            let currency = Currency::parse(&input.currency).map_err(|_| ()).ok();
            if currency.is_none() {
                issues
                    .push(Issue::field("currency", "currency must be a supported ISO 4217 code such as usd"));
            }
            if !issues.is_empty() {
                return Err(CoreError::validation(issues));
            }
            let website = (!website.is_empty()).then_some(website);
            let code = currency.map_or("usd", |c| c.code());
            self.store.update_business(&actor.merchant_id, input.name.trim(), website, code).await?;
            // A key's caller carries the business's name and currency.
            self.effects.keys_changed();
            Ok(())
        })
        .await
    }

    /// The actor's brand.
    pub async fn brand(&self, actor: &Actor) -> CoreResult<Merchant> {
        self.store.get_merchant(&actor.merchant_id).await?.ok_or_else(|| CoreError::not_found("brand"))
    }
}
