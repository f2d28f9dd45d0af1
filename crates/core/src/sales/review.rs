//! The merchant's review queue of conversions (the dashboard's Commissions page): the list with
//! names, pending and fraud-flagged ones first; approving or rejecting several at once (each
//! exactly as one `PATCH /conversions/:id` would); and the CSV export of a filtered list.

use refline_domain::{format_amount_in, format_timestamp, ConversionStatus, RiskLevel};
use refline_store::{ConversionFilter, Page, ReviewRow};

use crate::{payouts::export::cell, Actor, Core, CoreError, CoreResult};

/// The most conversions one bulk action changes.
pub const MAX_BULK: usize = 500;
/// The most rows one CSV export holds.
pub const CSV_MAX_ROWS: usize = 50_000;
/// Rows read per statement while exporting.
const EXPORT_CHUNK: usize = 1_000;

/// What a bulk action did to one conversion.
#[derive(Debug)]
pub struct BulkOutcome {
    /// The conversion named.
    pub id: String,
    /// The conversion as it now is, or why it was not changed.
    pub result: CoreResult<refline_store::Conversion>,
}

/// A CSV export of conversions.
#[derive(Debug, Clone)]
pub struct ConversionsCsv {
    /// The file.
    pub content: String,
    /// Conversions in it.
    pub rows: usize,
    /// True when more matched than [`CSV_MAX_ROWS`] (narrow the filter).
    pub truncated: bool,
}

/// The fraud assessment of a conversion as shown to reviewers: score, level and signals.
pub fn fraud_of(c: &refline_store::Conversion) -> Option<(i64, &'static str, Vec<&str>)> {
    let score = c.fraud_score?;
    let level = RiskLevel::from_score(u8::try_from(score).unwrap_or(100)).as_str();
    let signals = c.fraud_signals.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()).collect();
    Some((score, level, signals))
}

impl Core {
    /// A page of the actor's review queue (in the actor's mode): pending conversions first,
    /// fraud-flagged before the rest, then flagged others, then the rest, newest first.
    pub async fn review_queue(
        &self,
        actor: &Actor,
        filter: &ConversionFilter,
        limit: i64,
        offset: i64,
    ) -> CoreResult<Page<ReviewRow>> {
        let filter = ConversionFilter { mode: actor.mode, ..filter.clone() };
        Ok(self
            .store
            .list_review_queue(&actor.merchant_id, &filter, limit.clamp(1, 100), offset.max(0))
            .await?)
    }

    /// Approves or rejects each of `ids` as [`Core::set_conversion_status`] does (each checked,
    /// changed and audited on its own, so one refusal does not stop the others).
    pub async fn set_conversion_statuses(
        &self,
        actor: &Actor,
        ids: &[String],
        target: ConversionStatus,
        confirm_above_sale: bool,
    ) -> CoreResult<Vec<BulkOutcome>> {
        actor.require_write()?;
        if ids.is_empty() {
            return Err(CoreError::invalid_field("conversionIds", "select at least one conversion"));
        }
        if ids.len() > MAX_BULK {
            return Err(CoreError::invalid_field(
                "conversionIds",
                format!("at most {MAX_BULK} conversions can be changed at once"),
            ));
        }
        if !matches!(target, ConversionStatus::Approved | ConversionStatus::Rejected) {
            return Err(CoreError::invalid_field("status", "status must be approved or rejected"));
        }
        let mut seen = std::collections::HashSet::new();
        let mut outcomes = Vec::new();
        for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
            let result = self.set_conversion_status(actor, id, target, confirm_above_sale).await;
            outcomes.push(BulkOutcome { id: id.clone(), result });
        }
        Ok(outcomes)
    }

    /// The actor's conversions matching `filter` as CSV, in review-queue order, at most
    /// [`CSV_MAX_ROWS`]; every cell neutralised against formula injection.
    pub async fn export_conversions(
        &self,
        actor: &Actor,
        filter: &ConversionFilter,
    ) -> CoreResult<ConversionsCsv> {
        let filter = ConversionFilter { mode: actor.mode, ..filter.clone() };
        let mut content = String::new();
        line(
            &mut content,
            &[
                "id",
                "createdAt",
                "status",
                "campaignId",
                "campaignName",
                "affiliateId",
                "affiliateEmail",
                "affiliateName",
                "customerEmail",
                "customerName",
                "orderId",
                "amount",
                "commission",
                "currency",
                "fraudScore",
                "fraudLevel",
                "fraudSignals",
            ],
        );
        let mut rows = 0usize;
        let mut truncated = false;
        let mut offset = 0i64;
        let chunk = i64::try_from(EXPORT_CHUNK).unwrap_or(1_000);
        loop {
            let page = self.store.list_review_queue(&actor.merchant_id, &filter, chunk, offset).await?;
            let got = page.items.len();
            for r in page.items {
                if rows == CSV_MAX_ROWS {
                    truncated = true;
                    break;
                }
                let c = &r.conversion;
                let fraud = fraud_of(c);
                let score = fraud.as_ref().map(|f| f.0.to_string()).unwrap_or_default();
                let level = fraud.as_ref().map(|f| f.1).unwrap_or_default();
                let signals = fraud.as_ref().map(|f| f.2.join(" ")).unwrap_or_default();
                line(
                    &mut content,
                    &[
                        &c.id,
                        &format_timestamp(c.created_at),
                        c.status.as_str(),
                        &c.campaign_id,
                        &r.campaign_name,
                        &c.affiliate_id,
                        &r.affiliate_email,
                        r.affiliate_name.as_deref().unwrap_or(""),
                        c.customer_email.as_deref().unwrap_or(""),
                        c.customer_name.as_deref().unwrap_or(""),
                        c.order_id.as_deref().unwrap_or(""),
                        &format_amount_in(c.amount_minor, &c.currency),
                        &format_amount_in(c.commission_minor, &c.currency),
                        &c.currency,
                        &score,
                        level,
                        &signals,
                    ],
                );
                rows += 1;
            }
            if truncated || got < EXPORT_CHUNK {
                break;
            }
            offset += chunk;
        }
        Ok(ConversionsCsv { content, rows, truncated })
    }
}

fn line(out: &mut String, fields: &[&str]) {
    let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}
