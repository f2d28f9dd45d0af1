//! Exports of payouts for the manual rails: PayPal Payouts' upload file, Wise's batch template
//! and a plain CSV. Exporting hands the payouts to the rail (pending → processing, under one
//! export id), so they are not exported twice; the same file can be downloaded again by its
//! export id, and one call completes every payout of it.

use std::collections::HashMap;

use refline_domain::ledger::PayoutStatus;
use refline_store::PayoutFilter;
use serde_json::Value;

use refline_domain::format_amount_in as money;

use super::render::PayoutView;
use crate::{ids::new_id, Actor, Core, CoreError, CoreResult};

/// PayPal's upload limit.
pub const PAYPAL_MAX_ROWS: usize = 5_000;
/// Wise's batch limit.
pub const WISE_MAX_ROWS: usize = 1_000;
/// The plain CSV's limit per file.
pub const CSV_MAX_ROWS: usize = 50_000;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// PayPal Payouts (web upload): no header; recipient, amount, currency, reference, note,
    /// `PAYPAL`. One currency per file.
    PayPal,
    /// Wise batch payment, "send by email" template.
    Wise,
    /// Every column, with a header.
    Csv,
}

impl ExportFormat {
    /// Reads `paypal`, `wise` or `csv`.
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text {
            "paypal" => Some(ExportFormat::PayPal),
            "wise" => Some(ExportFormat::Wise),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }

    fn max_rows(self) -> usize {
        match self {
            ExportFormat::PayPal => PAYPAL_MAX_ROWS,
            ExportFormat::Wise => WISE_MAX_ROWS,
            ExportFormat::Csv => CSV_MAX_ROWS,
        }
    }

    /// The payout method a format pays (`None`: any).
    fn method(self) -> Option<&'static str> {
        match self {
            ExportFormat::PayPal => Some("paypal"),
            ExportFormat::Wise => Some("wise"),
            ExportFormat::Csv => None,
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportInput {
    /// The format.
    pub format: ExportFormat,
    /// Only payouts in this currency (required for PayPal when several are pending).
    pub currency: Option<String>,
    /// Download an earlier export again instead of exporting pending payouts.
    pub export_id: Option<String>,
}

/// An export file.
#[derive(Debug, Clone)]
pub struct ExportFile {
    /// `exp_…`, to download it again or complete its payouts.
    pub export_id: String,
    /// The CSV.
    pub content: String,
    /// Payouts in the file.
    pub rows: usize,
    /// Pending payouts of the same kind left for another file (over the format's limit).
    pub remaining: usize,
}

impl Core {
    /// Exports pending payouts (taking them to `processing`) or downloads an export again.
    pub async fn export_payouts(&self, actor: &Actor, input: ExportInput) -> CoreResult<ExportFile> {
        let again = input.export_id.clone();
        self.audited(actor, "payout.export", again.as_deref(), self.export_work(actor, input)).await
    }

    async fn export_work(&self, actor: &Actor, input: ExportInput) -> CoreResult<ExportFile> {
        actor.require_payout_write()?;
        let currency = input.currency.as_deref().map(str::to_lowercase);
        let (export_id, payouts, remaining) = match &input.export_id {
            Some(export_id) => {
                let filter = PayoutFilter { export_id: Some(export_id.clone()), ..PayoutFilter::default() };
                let found = self.every_payout(actor, filter).await?;
                if found.is_empty() {
                    return Err(CoreError::not_found("Export"));
                }
                (export_id.clone(), found, 0)
            }
            None => {
                let filter = PayoutFilter {
                    status: Some(PayoutStatus::Pending),
                    currency: currency.clone(),
                    method: input.format.method().map(str::to_string),
                    ..PayoutFilter::default()
                };
                let mut pending = self.every_payout(actor, filter).await?;
                pending.sort_by(|a, b| {
                    (a.payout.created_at, &a.payout.id).cmp(&(b.payout.created_at, &b.payout.id))
                });
                let mut currencies: Vec<&str> = pending.iter().map(|p| p.payout.currency.as_str()).collect();
                currencies.sort_unstable();
                currencies.dedup();
                if input.format == ExportFormat::PayPal && currencies.len() > 1 {
                    return Err(CoreError::invalid_field(
                        "currency",
                        format!(
                            "A PayPal file holds one currency; pending payouts are in {}: choose one with currency",
                            currencies.join(", ")
                        ),
                    ));
                }
                let remaining = pending.len().saturating_sub(input.format.max_rows());
                pending.truncate(input.format.max_rows());
                let export_id = new_id("exp");
                let ids: Vec<String> = pending.iter().map(|p| p.payout.id.clone()).collect();
                let moved =
                    self.store.mark_exported(&actor.merchant_id, &ids, &export_id, self.now()).await?;
                pending.retain(|p| moved.contains(&p.payout.id));
                for p in &mut pending {
                    p.payout.status = PayoutStatus::Processing;
                    p.payout.export_id = Some(export_id.clone());
                }
                (export_id, pending, remaining)
            }
        };
        let affiliate_ids: Vec<String> = payouts.iter().map(|p| p.payout.affiliate_id.clone()).collect();
        let contacts: HashMap<String, (String, Option<String>)> = self
            .store
            .affiliate_contacts(&actor.merchant_id, &affiliate_ids)
            .await?
            .into_iter()
            .map(|(id, email, name)| (id, (email, name)))
            .collect();
        let content = render(input.format, &payouts, &contacts);
        Ok(ExportFile { export_id, content, rows: payouts.len(), remaining })
    }

    /// Completes every payout an export took to `processing`, with one payment reference.
    pub async fn complete_export(
        &self,
        actor: &Actor,
        export_id: &str,
        reference: Option<String>,
    ) -> CoreResult<Vec<PayoutView>> {
        let filter = PayoutFilter { export_id: Some(export_id.to_string()), ..PayoutFilter::default() };
        let payouts = self.every_payout(actor, filter).await?;
        if payouts.is_empty() {
            return Err(CoreError::not_found("Export"));
        }
        let mut done = Vec::new();
        for p in payouts.iter().filter(|p| p.payout.status == PayoutStatus::Processing) {
            done.push(self.complete_payout(actor, &p.payout.id, reference.clone()).await?);
        }
        Ok(done)
    }
}

/// The file's text.
fn render(
    format: ExportFormat,
    payouts: &[PayoutView],
    contacts: &HashMap<String, (String, Option<String>)>,
) -> String {
    let mut out = String::new();
    let destination = |p: &PayoutView| -> Value {
        p.payout.destination.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null)
    };
    let contact = |p: &PayoutView| contacts.get(&p.payout.affiliate_id).cloned().unwrap_or_default();
    match format {
        ExportFormat::PayPal => {
            for p in payouts {
                let d = destination(p);
                let email = d["email"].as_str().map(str::to_string).unwrap_or_else(|| contact(p).0);
                let amount = money(p.payout.amount_minor, &p.payout.currency);
                row(
                    &mut out,
                    &[
                        &email,
                        &amount,
                        &p.payout.currency.to_uppercase(),
                        &p.payout.id,
                        "Affiliate commission",
                        "PAYPAL",
                    ],
                );
            }
        }
        ExportFormat::Wise => {
            row(
                &mut out,
                &[
                    "name",
                    "recipientEmail",
                    "paymentReference",
                    "receiverType",
                    "amountCurrency",
                    "amount",
                    "sourceCurrency",
                    "targetCurrency",
                ],
            );
            for p in payouts {
                let d = destination(p);
                let (email, name) = contact(p);
                let name = d["name"].as_str().map(str::to_string).or(name).unwrap_or_else(|| email.clone());
                let email = d["email"].as_str().map(str::to_string).unwrap_or(email);
                let source = p.payout.currency.to_uppercase();
                let target = d["currency"].as_str().map(str::to_uppercase).unwrap_or_else(|| source.clone());
                let amount = money(p.payout.amount_minor, &p.payout.currency);
                row(&mut out, &[&name, &email, &p.payout.id, "PERSON", "source", &amount, &source, &target]);
            }
        }
        ExportFormat::Csv => {
            row(
                &mut out,
                &[
                    "payoutId",
                    "affiliateId",
                    "affiliateEmail",
                    "affiliateName",
                    "method",
                    "destination",
                    "amount",
                    "currency",
                    "conversions",
                    "createdAt",
                    "exportId",
                ],
            );
            for p in payouts {
                let (email, name) = contact(p);
                let conversions: Vec<&str> = p.items.iter().map(|i| i.conversion_id.as_str()).collect();
                row(
                    &mut out,
                    &[
                        &p.payout.id,
                        &p.payout.affiliate_id,
                        &email,
                        name.as_deref().unwrap_or(""),
                        &p.payout.method,
                        p.payout.destination.as_deref().unwrap_or(""),
                        &money(p.payout.amount_minor, &p.payout.currency),
                        &p.payout.currency,
                        &conversions.join(" "),
                        &refline_domain::format_timestamp(p.payout.created_at),
                        p.payout.export_id.as_deref().unwrap_or(""),
                    ],
                );
            }
        }
    }
    out
}

/// One CSV line: each field neutralised against formula injection and quoted when needed.
fn row(out: &mut String, fields: &[&str]) {
    let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// A field as a spreadsheet may safely open it: text a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`; a field with a
/// comma, quote or line break is quoted with quotes doubled. Amounts are written by Refline and
/// never negative here, so they are untouched.
pub fn cell(field: &str) -> String {
    let neutral = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_neutralised_and_quoted() {
        assert_eq!(cell("ann@example.com"), "ann@example.com");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Lee, Ann"), "\"Lee, Ann\"");
        assert_eq!(cell("12.50"), "12.50");
    }
}
