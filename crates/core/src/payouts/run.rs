//! A payout run: everything payable now, one payout per affiliate and currency, clawbacks netted.

use refline_domain::{
    ledger::{bucket, plan_payouts, Bucket, Candidate, PayoutStatus},
    Currency,
};
use refline_store::{CommissionPosition, NewPayout, Payout, PayoutItem, PositionFilter, StoreError};

use super::{method::METHOD_TYPES, render::PayoutView, settings::minimum_minor, PayoutMethod};
use crate::{field_order::in_field_order, ids::new_id, Actor, Core, CoreError, CoreResult, Issue};

const DAY_MS: i64 = 86_400_000;

/// Which payable money a run takes.
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    /// Only these affiliates (empty: all).
    pub affiliate_ids: Vec<String>,
    /// Only this currency.
    pub currency: Option<String>,
    /// Only affiliates paid by this method.
    pub method: Option<String>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// Field order of run problems.
const FIELDS: &[&str] = &["affiliateIds", "currency", "method"];

/// When a commission's hold ends: its approval plus the hold (campaign's, else merchant's).
pub fn hold_until(position: &CommissionPosition) -> Option<i64> {
    position.approved_at.map(|at| at.saturating_add(position.hold_days.saturating_mul(DAY_MS)))
}

/// The method an affiliate is paid by: their own details, else the merchant's default, else by
/// hand.
pub fn resolved_method(position: &CommissionPosition, default: Option<&str>) -> String {
    position
        .payout_method
        .as_deref()
        .and_then(PayoutMethod::from_stored)
        .map(|m| m.kind().to_string())
        .or_else(|| default.map(str::to_string))
        .unwrap_or_else(|| "manual".to_string())
}

impl Core {
    /// Creates payouts from everything payable now (past its hold, in no open payout), netting
    /// what each affiliate owes back; groups under the minimum wait. Answers the payouts made.
    pub async fn run_payouts(&self, actor: &Actor, input: RunInput) -> CoreResult<Vec<PayoutView>> {
        self.audited(actor, "payout.run", None, self.run_payouts_work(actor, input)).await
    }

    async fn run_payouts_work(&self, actor: &Actor, input: RunInput) -> CoreResult<Vec<PayoutView>> {
        actor.require_payout_write()?;
        let mut issues = input.unreadable.clone();
        let currency = match input.currency.as_deref() {
            None => None,
            Some(code) => match Currency::parse(code) {
                Ok(c) => Some(c.code().to_string()),
                Err(_) => {
                    issues.push(Issue::field("currency", "currency must be a supported ISO 4217 code"));
                    None
                }
            },
        };
        if let Some(method) = &input.method {
            if !METHOD_TYPES.contains(&method.as_str()) {
                issues.push(Issue::field(
                    "method",
                    format!("method must be one of {}", METHOD_TYPES.join(", ")),
                ));
            }
        }
        if !issues.is_empty() {
            in_field_order(&mut issues, FIELDS);
            return Err(CoreError::validation(issues));
        }
        let settings = self.load_payout_settings(actor).await?;
        let filter = PositionFilter {
            mode: actor.mode,
            affiliate_ids: input.affiliate_ids.clone(),
            currency,
            payable_only: true,
            ..PositionFilter::default()
        };
        // Two runs at once both read the same payable money; the store lets one of them reserve
        // it and refuses the other as a conflict, which reads again and finds what is left.
        for _ in 0..5 {
            let positions = self.store.commission_positions(&actor.merchant_id, &filter).await?;
            let now = self.now();
            let default = settings.default_payout_method.as_deref();
            // Each affiliate's rail and payout details, read once per affiliate (not per commission).
            let mut methods: std::collections::HashMap<String, (String, Option<String>)> =
                std::collections::HashMap::new();
            for p in &positions {
                methods
                    .entry(p.affiliate_id.clone())
                    .or_insert_with(|| (resolved_method(p, default), p.payout_method.clone()));
            }
            let wanted = |p: &CommissionPosition| {
                let method = methods.get(&p.affiliate_id).map(|(m, _)| m.as_str());
                input.method.as_deref().is_none_or(|m| Some(m) == method)
            };
            let candidates: Vec<Candidate> = positions
                .iter()
                .filter(|p| wanted(p) && is_takeable(p, now))
                .map(|p| Candidate {
                    affiliate_id: p.affiliate_id.clone(),
                    currency: p.currency.clone(),
                    conversion_id: p.conversion_id.clone(),
                    amount: p.earned_minor.saturating_sub(p.paid_minor),
                })
                .collect();
            let (plans, _waiting) =
                plan_payouts(candidates, |c| minimum_minor(settings.minimum_payout_hundredths, c));
            let payouts: Vec<NewPayout> = plans
                .into_iter()
                .map(|plan| {
                    let id = new_id("po");
                    let (method, destination) = methods.get(&plan.affiliate_id).cloned().unwrap_or_default();
                    NewPayout {
                        items: plan
                            .items
                            .iter()
                            .map(|(conversion_id, amount)| PayoutItem {
                                payout_id: id.clone(),
                                conversion_id: conversion_id.clone(),
                                amount_minor: *amount,
                                is_open: true,
                            })
                            .collect(),
                        payout: Payout {
                            id,
                            merchant_id: actor.merchant_id.clone(),
                            affiliate_id: plan.affiliate_id,
                            currency: plan.currency,
                            status: PayoutStatus::Pending,
                            method,
                            destination,
                            amount_minor: plan.total,
                            mode: actor.mode,
                            reference: None,
                            export_id: None,
                            transfer_id: None,
                            failure_reason: None,
                            created_at: now,
                            updated_at: now,
                            completed_at: None,
                        },
                    }
                })
                .collect();
            match self.store.create_payouts(&payouts).await {
                Ok(()) => {
                    return Ok(payouts
                        .into_iter()
                        .map(|p| PayoutView { payout: p.payout, items: p.items })
                        .collect())
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(CoreError::changed_concurrently("payable balance"))
    }
}

/// True when a run may take the commission now: payable (past its hold) or owed back.
fn is_takeable(p: &CommissionPosition, now: i64) -> bool {
    let status = p.status;
    let outstanding = p.earned_minor.saturating_sub(p.paid_minor);
    matches!(
        bucket(status, outstanding, hold_until(p), now, p.open_item_minor.is_some()),
        Bucket::Payable | Bucket::OwedBack
    )
}
