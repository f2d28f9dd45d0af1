//! Campaigns: create, change, read and list, with every rule of their terms.
//!
//! A door reads its own format (JSON, a form, tool arguments) into a [`CampaignInput`], reporting
//! what it could not read at all (a number where text belongs, an unknown choice) in
//! `CampaignInput::unreadable`; the operation adds every business problem (commission values in
//! the campaign's unit, URLs, recurring terms, tiers) and answers all of them in one
//! `validation_error`, so a client fixes everything in one round.

use refline_domain::{
    parse_amount, validate_tiers, CampaignStatus, Currency, RecurringMode, RecurringType, Tier, TierBasis,
    TrialMode,
};
use refline_store::{Campaign, CampaignSort, CampaignStats, CampaignWithStats, Page, PageRequest};
use serde_json::json;

use crate::{
    field_order::in_field_order,
    ids::{new_id, new_tracking_code},
    terms::{self, CommissionType},
    Actor, Core, CoreError, CoreResult, Issue,
};

/// A field of a change: left as it is, cleared (sent as `null` or blank), or set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    /// Not sent: keep the current value.
    #[default]
    Keep,
    /// Sent empty: clear it (or, for a required field, a "required" problem).
    Clear,
    /// Sent with a value.
    Set(T),
}

impl<T> Change<T> {
    /// True unless [`Change::Keep`].
    pub fn is_sent(&self) -> bool {
        !matches!(self, Change::Keep)
    }
}

/// One tier as sent: exactly one of `min_sales` / `min_revenue`, and a commission value.
#[derive(Debug, Clone, Default)]
pub struct TierInput {
    /// `minSales`, when sent (the door reports a non-integer as unreadable and leaves `None`
    /// with `min_sales_sent`).
    pub min_sales: Option<i64>,
    /// Whether `minSales` was sent at all.
    pub min_sales_sent: bool,
    /// `minRevenue` as decimal text, when sent.
    pub min_revenue: Option<String>,
    /// Whether `minRevenue` was sent at all.
    pub min_revenue_sent: bool,
    /// `commissionValue` as decimal text ("" when missing).
    pub commission_value: String,
}

/// The writable terms of a campaign, as sent. Text values are trimmed; decimals are kept as
/// their exact text so the operation reads them in the campaign's unit.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    /// ISO 4217 code (create only; on change it must equal the campaign's).
    pub currency: Option<String>,
    /// Display name, 2–200 characters.
    pub name: Change<String>,
    /// `active` or `inactive`.
    pub status: Option<CampaignStatus>,
    /// `percentage` or `fixed` (already checked by the door).
    pub commission_type: Change<CommissionType>,
    /// Decimal text in the commission type's unit.
    pub commission_value: Option<String>,
    /// Landing page, an absolute http(s) URL.
    pub target_url: Change<String>,
    /// Shown to affiliates.
    pub description: Change<String>,
    /// Listed publicly.
    pub is_public: Option<bool>,
    /// Join requests approved without review.
    pub auto_approve_affiliates: Option<bool>,
    /// Cookie window, 1–365 days (checked by the door).
    pub cookie_window_days: Option<i64>,
    /// `holdDays`: days after approval before a commission is payable (0–365, checked by the
    /// door); cleared, the merchant's setting applies.
    pub hold_days: Change<i64>,
    /// Renewals pay commission.
    pub recurring_enabled: Option<bool>,
    /// `duration` or `payments`.
    pub recurring_mode: Option<RecurringMode>,
    /// `same` or `custom`.
    pub recurring_type: Option<RecurringType>,
    /// Custom recurring value, decimal text.
    pub recurring_value: Change<String>,
    /// Payment-count limit.
    pub recurring_count: Change<i64>,
    /// Month limit.
    pub recurring_months: Change<i64>,
    /// Tiers (an empty list or `Clear` removes them).
    pub tiers: Change<Vec<TierInput>>,
    /// `trialMode`: how trials are recorded (`automatic`, `after_trial`, `immediate`).
    pub trial_mode: Option<TrialMode>,
    /// What the door could not read; reported together with the operation's own problems.
    pub unreadable: Vec<Issue>,
}

/// A campaign and its figures for the actor's mode, as every door shows it.
#[derive(Debug, Clone)]
pub struct CampaignView {
    /// The campaign.
    pub campaign: Campaign,
    /// Conversions, revenue, affiliates and clicks.
    pub stats: CampaignStats,
    /// `<public URL>/join/<tracking code>`.
    pub join_url: String,
    /// API names of the fields a change altered (empty on create and reads).
    pub changed: Vec<&'static str>,
}

/// The writable fields of a campaign, in the order problems are listed.
const FIELDS: &[&str] = &[
    "currency",
    "name",
    "status",
    "commissionType",
    "commissionValue",
    "targetUrl",
    "description",
    "isPublic",
    "autoApproveAffiliates",
    "cookieWindowDays",
    "holdDays",
    "recurringCommissionEnabled",
    "recurringCommissionMode",
    "recurringCommissionType",
    "recurringCommissionValue",
    "recurringCommissionCount",
    "recurringCommissionDuration",
    "tiers",
    "trialMode",
];

/// Sort keys of campaign lists.
pub const SORTS: &[(&str, CampaignSort)] =
    &[("createdAt", CampaignSort::CreatedAt), ("name", CampaignSort::Name)];

impl Core {
    fn campaign_view(
        &self,
        campaign: Campaign,
        stats: CampaignStats,
        changed: Vec<&'static str>,
    ) -> CampaignView {
        let join_url = format!("{}/join/{}", self.public_url, campaign.tracking_code);
        CampaignView { campaign, stats, join_url, changed }
    }

    /// A page of the actor's campaigns with their figures.
    pub async fn list_campaigns(
        &self,
        actor: &Actor,
        page: PageRequest<CampaignSort>,
    ) -> CoreResult<Page<CampaignView>> {
        let found = self.store.list_campaigns(&actor.merchant_id, actor.mode, page).await?;
        let items = found
            .items
            .into_iter()
            .map(|CampaignWithStats { campaign, stats }| self.campaign_view(campaign, stats, Vec::new()))
            .collect();
        Ok(Page { items, total: found.total })
    }

    /// Id and name of the actor's first `limit` campaigns by name, for filters (no figures).
    pub async fn campaign_names(&self, actor: &Actor, limit: i64) -> CoreResult<Vec<(String, String)>> {
        Ok(self.store.campaign_names(&actor.merchant_id, limit.clamp(1, 1_000)).await?)
    }

    /// One of the actor's campaigns, or `not_found`.
    pub async fn load_campaign(&self, actor: &Actor, id: &str) -> CoreResult<Campaign> {
        self.store.get_campaign(&actor.merchant_id, id).await?.ok_or_else(|| CoreError::not_found("Campaign"))
    }

    /// One of the actor's campaigns with its figures.
    pub async fn get_campaign(&self, actor: &Actor, id: &str) -> CoreResult<CampaignView> {
        let campaign = self.load_campaign(actor, id).await?;
        let stats = self.store.campaign_stats(&campaign.id, actor.mode).await?;
        Ok(self.campaign_view(campaign, stats, Vec::new()))
    }

    /// Creates a campaign. Writes need write rights and live mode (a test integration must not
    /// alter the real program). `name`, `commissionType` and `commissionValue` are required.
    pub async fn create_campaign(&self, actor: &Actor, input: CampaignInput) -> CoreResult<CampaignView> {
        self.audited(actor, "campaign.create", None, self.create_campaign_work(actor, input)).await
    }

    async fn create_campaign_work(&self, actor: &Actor, input: CampaignInput) -> CoreResult<CampaignView> {
        actor.require_write()?;
        actor.require_live("Campaigns")?;
        let mut issues = input.unreadable.clone();
        let currency = match &input.currency {
            None => Currency::parse(&actor.currency).unwrap_or(Currency::USD),
            Some(code) => Currency::parse(code).unwrap_or_else(|_| {
                issues.push(Issue::field(
                    "currency",
                    "currency must be a supported ISO 4217 code such as usd or eur",
                ));
                Currency::USD
            }),
        };
        let now = self.now();
        let mut campaign =
            Campaign::with_defaults(&new_id("camp"), &actor.merchant_id, "", currency.code(), now);
        apply_input(&input, &mut campaign, true, &mut issues);
        if !issues.is_empty() {
            in_field_order(&mut issues, FIELDS);
            return Err(CoreError::validation(issues));
        }
        // Tracking codes are global (links carry no merchant id): retry on the rare collision.
        for _ in 0..5 {
            campaign.tracking_code = new_tracking_code();
            match self.store.insert_campaign(&campaign).await {
                Ok(()) => {
                    self.effects.links_changed();
                    return Ok(self.campaign_view(campaign, CampaignStats::default(), Vec::new()));
                }
                Err(err) if err.is_conflict_on("tracking_code") => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(CoreError::internal("could not find a free tracking code"))
    }

    /// Changes the fields sent; answers the campaign with the names of the fields that changed.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: &str,
        input: CampaignInput,
    ) -> CoreResult<CampaignView> {
        self.audited(actor, "campaign.update", Some(id), self.update_campaign_work(actor, id, input)).await
    }

    async fn update_campaign_work(
        &self,
        actor: &Actor,
        id: &str,
        input: CampaignInput,
    ) -> CoreResult<CampaignView> {
        actor.require_write()?;
        actor.require_live("Campaigns")?;
        let mut campaign = self.load_campaign(actor, id).await?;
        let mut issues = input.unreadable.clone();
        if input.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&campaign.currency)) {
            issues.push(Issue::field("currency", "currency is fixed when the campaign is created"));
        }
        let before = campaign.clone();
        apply_input(&input, &mut campaign, false, &mut issues);
        if !issues.is_empty() {
            in_field_order(&mut issues, FIELDS);
            return Err(CoreError::validation(issues));
        }
        let changed = changed_fields(&before, &campaign);
        if !changed.is_empty() {
            campaign.updated_at = self.now();
            if !self.store.update_campaign(&campaign).await? {
                return Err(CoreError::not_found("Campaign"));
            }
            self.effects.links_changed();
        }
        let stats = self.store.campaign_stats(&campaign.id, actor.mode).await?;
        Ok(self.campaign_view(campaign, stats, changed))
    }
}

/// Applies the input's fields to `c`, collecting every problem into `issues`.
fn apply_input(input: &CampaignInput, c: &mut Campaign, creating: bool, issues: &mut Vec<Issue>) {
    let currency = terms::currency_of(c);
    match &input.name {
        Change::Set(name) if name.chars().count() >= 2 => c.name = name.clone(),
        Change::Set(_) => issues.push(Issue::field("name", "name must be at least 2 characters")),
        // A missing or blank name is reported by the door, which knows how it was sent.
        Change::Keep | Change::Clear => {}
    }
    if let Some(status) = input.status {
        c.status = status;
    }
    let new_type = match input.commission_type {
        Change::Set(t) => Some(t),
        _ => None,
    };
    let kind = new_type.unwrap_or_else(|| terms::type_of(c));
    let type_changed = new_type.is_some_and(|t| t != c.commission_type);
    if let Some(t) = new_type {
        c.commission_type = t;
    }
    match &input.commission_value {
        Some(text) => match kind.parse_value(text, currency) {
            Ok(v) => c.commission_value = v,
            Err(e) => issues.push(Issue::field("commissionValue", format!("commissionValue {e}"))),
        },
        None if creating || type_changed => {
            issues.push(Issue::field("commissionValue", "commissionValue is required with commissionType"));
        }
        None => {}
    }
    match &input.target_url {
        Change::Keep => {}
        Change::Clear => c.target_url = None,
        Change::Set(url) => {
            if !is_http_url(url) {
                issues
                    .push(Issue::field("targetUrl", "targetUrl must be an absolute http:// or https:// URL"));
            }
            c.target_url = Some(url.clone());
        }
    }
    match &input.description {
        Change::Keep => {}
        Change::Clear => c.description = None,
        Change::Set(text) => c.description = Some(text.clone()),
    }
    if let Some(v) = input.is_public {
        c.is_public = v;
    }
    if let Some(v) = input.auto_approve_affiliates {
        c.auto_approve_affiliates = v;
    }
    if let Some(v) = input.cookie_window_days {
        c.cookie_window_days = v;
    }
    match input.hold_days {
        Change::Keep => {}
        Change::Clear => c.hold_days = None,
        Change::Set(days) => c.hold_days = Some(days),
    }
    if let Some(mode) = input.trial_mode {
        c.trial_mode = mode;
    }
    apply_recurring(input, c, kind, type_changed, issues);
    apply_tiers(input, c, kind, type_changed, issues);
}

fn apply_recurring(
    input: &CampaignInput,
    c: &mut Campaign,
    kind: CommissionType,
    type_changed: bool,
    issues: &mut Vec<Issue>,
) {
    let currency = terms::currency_of(c);
    if let Some(v) = input.recurring_enabled {
        c.recurring_enabled = v;
    }
    if let Some(mode) = input.recurring_mode {
        c.recurring_mode = mode;
    }
    if let Some(t) = input.recurring_type {
        c.recurring_type = t;
    }
    match &input.recurring_value {
        Change::Clear => c.recurring_value = None,
        Change::Set(text) => {
            c.recurring_value = match kind.parse_value(text, currency) {
                Ok(v) => Some(v),
                Err(e) => {
                    issues.push(Issue::field(
                        "recurringCommissionValue",
                        format!("recurringCommissionValue {e}"),
                    ));
                    None
                }
            };
        }
        Change::Keep if type_changed && c.recurring_value.is_some() => match c.recurring_type {
            RecurringType::Custom => issues.push(Issue::field(
                "recurringCommissionValue",
                "recurringCommissionValue must be re-sent when commissionType changes",
            )),
            // Unused while the type is `same`, and in the old unit: it must not come back later.
            RecurringType::Same => c.recurring_value = None,
        },
        Change::Keep => {}
    }
    match input.recurring_count {
        Change::Keep => {}
        Change::Clear => c.recurring_count = None,
        Change::Set(n) => c.recurring_count = Some(n),
    }
    match input.recurring_months {
        Change::Keep => {}
        Change::Clear => c.recurring_months = None,
        Change::Set(n) => c.recurring_months = Some(n),
    }
    if c.recurring_type == RecurringType::Custom && c.recurring_value.is_none() {
        issues.push(Issue::field(
            "recurringCommissionValue",
            "recurringCommissionValue is required when recurringCommissionType is custom",
        ));
    }
}

fn apply_tiers(
    input: &CampaignInput,
    c: &mut Campaign,
    kind: CommissionType,
    type_changed: bool,
    issues: &mut Vec<Issue>,
) {
    let currency = terms::currency_of(c);
    let items = match &input.tiers {
        Change::Clear => {
            c.tiers = "[]".into();
            return;
        }
        Change::Keep => {
            if type_changed && c.tiers != "[]" {
                issues.push(Issue::field("tiers", "tiers must be re-sent when commissionType changes"));
            }
            return;
        }
        Change::Set(items) => items,
    };
    let mut basis = None;
    let mut stored = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |key: &str| vec![json!("tiers"), json!(i), json!(key)];
        let (this_basis, min) = match (item.min_sales_sent, item.min_revenue_sent) {
            (true, false) => (
                TierBasis::SalesCount,
                item.min_sales.filter(|n| *n >= 1).ok_or("minSales must be a whole number of at least 1"),
            ),
            (false, true) => {
                let text = item.min_revenue.clone().unwrap_or_default();
                let parsed = parse_amount(&text, currency.exponent()).ok().filter(|v| *v > 0);
                (TierBasis::Revenue, parsed.ok_or("minRevenue must be an amount above 0"))
            }
            _ => {
                issues.push(Issue {
                    path: vec![json!("tiers"), json!(i)],
                    message: "each tier needs exactly one of minSales or minRevenue".into(),
                });
                continue;
            }
        };
        if basis.is_some_and(|b| b != this_basis) {
            issues.push(Issue {
                path: vec![json!("tiers"), json!(i)],
                message: "all tiers must use the same measure (minSales or minRevenue)".into(),
            });
        }
        basis = Some(this_basis);
        let key = if this_basis == TierBasis::SalesCount { "minSales" } else { "minRevenue" };
        let min = match min {
            Ok(v) => v,
            Err(message) => {
                issues.push(Issue { path: at(key), message: message.into() });
                continue;
            }
        };
        match kind.parse_value(&item.commission_value, currency) {
            Ok(v) => stored.push((min, v)),
            Err(e) => {
                issues.push(Issue { path: at("commissionValue"), message: format!("commissionValue {e}") })
            }
        }
    }
    let domain_tiers: Vec<Tier> = stored
        .iter()
        .filter_map(|(min, v)| kind.rule(*v).map(|rule| Tier { min_volume: *min, rule }))
        .collect();
    if let Err(e) = validate_tiers(&domain_tiers) {
        issues.push(Issue::field("tiers", format!("tiers: {e}")));
    }
    stored.sort_unstable();
    c.tiers = terms::store_tiers(&stored);
    c.tier_basis = basis.unwrap_or(TierBasis::SalesCount);
}

fn changed_fields(a: &Campaign, b: &Campaign) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 18] = [
        ("name", a.name != b.name),
        ("status", a.status != b.status),
        ("commissionType", a.commission_type != b.commission_type),
        ("commissionValue", a.commission_value != b.commission_value),
        ("targetUrl", a.target_url != b.target_url),
        ("description", a.description != b.description),
        ("isPublic", a.is_public != b.is_public),
        ("autoApproveAffiliates", a.auto_approve_affiliates != b.auto_approve_affiliates),
        ("cookieWindowDays", a.cookie_window_days != b.cookie_window_days),
        ("holdDays", a.hold_days != b.hold_days),
        ("recurringCommissionEnabled", a.recurring_enabled != b.recurring_enabled),
        ("recurringCommissionMode", a.recurring_mode != b.recurring_mode),
        ("recurringCommissionType", a.recurring_type != b.recurring_type),
        ("recurringCommissionValue", a.recurring_value != b.recurring_value),
        ("recurringCommissionCount", a.recurring_count != b.recurring_count),
        ("recurringCommissionDuration", a.recurring_months != b.recurring_months),
        ("tiers", a.tiers != b.tiers || a.tier_basis != b.tier_basis),
        ("trialMode", a.trial_mode != b.trial_mode),
    ];
    checks.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect()
}

fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !url.chars().any(char::is_whitespace)
    })
}
