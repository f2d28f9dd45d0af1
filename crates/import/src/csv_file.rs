//! CSV files, for platforms without an API (`refline import csv`, docs/MIGRATING.md § CSV): an
//! affiliates file and, optionally, a commissions file, read whole when the source is made and
//! then served to the runner page by page like any API, so idempotency, checkpoints and the
//! report work unchanged.
//!
//! Tolerant of what spreadsheets write: a UTF-8 byte-order mark, `;` or `,` between fields
//! (whichever the header line uses more), quoted fields, header names in any case with spaces,
//! dashes or underscores, and the common aliases (`referral_code` for `token`…). Every row that
//! cannot be used becomes a `Skipped` record with a coded reason and its line number; no row
//! stops the run. Campaigns are the brand's own: a `campaign` column (or `--campaign`) names a
//! Refline campaign id, which the campaigns step adopts for the file's rows.

use std::collections::{BTreeSet, HashMap};

use refline_core::{
    import::{
        kind, ExistingCampaign, ImportedAffiliate, ImportedCommission, ImportedCoupon, ImportedLink,
        ImportedPayoutMethod,
    },
    payouts::PayoutMethod,
};
use refline_domain::{
    canonical_email, is_valid_email, parse_amount, parse_timestamp, strip_forbidden, ConversionStatus,
    Currency, MembershipStatus,
};

use crate::{Batch, ImportError, Record, Source, Step};

/// Records per page handed to the runner (one checkpoint each).
pub const PAGE: usize = 500;

/// The longest field used (characters); a longer one skips its row (`field_too_long`).
pub const MAX_FIELD: usize = 1_000;

/// The CSV source: both files read, every row already mapped.
#[derive(Debug, Default)]
pub struct CsvSource {
    campaigns: Vec<Record>,
    affiliates: Vec<Record>,
    commissions: Vec<Record>,
}

/// The columns read, each with the header names that mean it (after lower-casing and turning
/// spaces and dashes into `_`).
const AFFILIATE_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["id", "affiliate_id", "source_id", "partner_id"]),
    ("email", &["email", "email_address", "affiliate_email"]),
    ("name", &["name", "full_name", "affiliate_name"]),
    ("first_name", &["first_name", "firstname"]),
    ("last_name", &["last_name", "lastname"]),
    ("status", &["status", "state"]),
    ("campaign", &["campaign", "campaign_id"]),
    ("token", &["token", "referral_token", "referral_code", "ref_code", "code", "ref", "link_code"]),
    ("coupon", &["coupon", "coupon_code"]),
    ("paypal_email", &["paypal_email", "paypal"]),
    ("created_at", &["created_at", "joined_at", "signup_date", "date"]),
];

const COMMISSION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["id", "commission_id", "source_id"]),
    ("order_id", &["order_id", "order", "transaction_id", "invoice_id"]),
    ("affiliate_id", &["affiliate_id", "partner_id"]),
    ("affiliate_email", &["affiliate_email", "affiliate", "email"]),
    ("amount", &["amount", "commission", "commission_amount"]),
    ("sale_amount", &["sale_amount", "order_amount", "revenue", "sale"]),
    ("currency", &["currency"]),
    ("status", &["status", "state"]),
    ("date", &["date", "created_at", "sale_date", "order_date"]),
    ("paid_at", &["paid_at", "paid_date"]),
    ("customer_email", &["customer_email", "customer"]),
    ("customer_id", &["customer_id", "stripe_customer_id"]),
    ("campaign", &["campaign", "campaign_id"]),
];

impl CsvSource {
    /// Reads the affiliates file (required) and the commissions file; `campaign` is the Refline
    /// campaign of rows that name none. Refuses only files that are not CSV tables with the
    /// required columns (`Usage`); bad rows become skips.
    pub fn new(
        affiliates: &[u8],
        commissions: Option<&[u8]>,
        campaign: Option<&str>,
    ) -> Result<CsvSource, ImportError> {
        let default_campaign = campaign.map(str::trim).filter(|c| !c.is_empty());
        let table = Table::read(affiliates, AFFILIATE_COLUMNS, "affiliates")?;
        if !table.has("email") {
            return Err(ImportError::Usage("the affiliates file has no email column".into()));
        }
        let mut source = CsvSource::default();
        let mut used = BTreeSet::new();
        // Commissions name their affiliate by email: each email's source id.
        let mut by_email = HashMap::new();
        for row in &table.rows {
            let records = affiliate_row(row, default_campaign, &mut used);
            if let Some(Record::Affiliate(a)) = records.first() {
                by_email.entry(canonical_email(&a.email)).or_insert_with(|| a.source_id.clone());
            }
            source.affiliates.extend(records);
        }
        if let Some(bytes) = commissions {
            let table = Table::read(bytes, COMMISSION_COLUMNS, "commissions")?;
            if !table.has("affiliate_email") && !table.has("affiliate_id") {
                return Err(ImportError::Usage(
                    "the commissions file has no affiliate_email (or affiliate_id) column".into(),
                ));
            }
            if !table.has("amount") {
                return Err(ImportError::Usage("the commissions file has no amount column".into()));
            }
            for row in &table.rows {
                source.commissions.push(commission_row(row, default_campaign, &by_email, &mut used));
            }
        }
        source.campaigns = used
            .into_iter()
            .map(|id: String| {
                Record::ExistingCampaign(ExistingCampaign { source_id: id.clone(), campaign_id: id })
            })
            .collect();
        Ok(source)
    }

    fn records(&self, step: Step) -> &[Record] {
        match step {
            Step::Campaigns => &self.campaigns,
            Step::Affiliates => &self.affiliates,
            Step::Commissions => &self.commissions,
            _ => &[],
        }
    }
}

#[async_trait::async_trait]
impl Source for CsvSource {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn steps(&self) -> Vec<Step> {
        vec![Step::Campaigns, Step::Affiliates, Step::Commissions]
    }

    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError> {
        let all = self.records(step);
        let start = cursor.and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(all.len());
        let end = (start + PAGE).min(all.len());
        let next = (end < all.len()).then(|| end.to_string());
        Ok(Batch { records: all[start..end].to_vec(), next, total: Some(all.len() as u64) })
    }
}

/// One data row: its line in the file and its fields by column name, or why it is unreadable.
struct Row {
    line: u64,
    fields: Result<HashMap<&'static str, String>, (&'static str, String)>,
}

impl Row {
    /// The trimmed field, `None` when blank or absent.
    fn get(&self, column: &str) -> Option<&str> {
        self.fields.as_ref().ok()?.get(column).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

struct Table {
    columns: BTreeSet<&'static str>,
    rows: Vec<Row>,
}

impl Table {
    fn read(bytes: &[u8], known: &[(&'static str, &[&str])], file: &str) -> Result<Table, ImportError> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter(bytes))
            .flexible(true)
            .has_headers(true)
            .from_reader(bytes);
        let headers = reader
            .byte_headers()
            .map_err(|err| ImportError::Usage(format!("the {file} file is not CSV: {err}")))?
            .clone();
        let columns: Vec<Option<&'static str>> =
            headers.iter().map(|h| column_of(&String::from_utf8_lossy(h), known)).collect();
        if columns.iter().all(Option::is_none) {
            return Err(ImportError::Usage(format!(
                "the {file} file's first line names none of the documented columns"
            )));
        }
        let mut rows = Vec::new();
        let mut record = csv::ByteRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(line, csv::Position::line);
                    if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        continue;
                    }
                    rows.push(Row { line, fields: fields(&record, &columns) });
                }
                Err(err) => rows.push(Row { line, fields: Err(("unreadable_row", err.to_string())) }),
            }
        }
        Ok(Table { columns: columns.into_iter().flatten().collect(), rows })
    }

    fn has(&self, column: &str) -> bool {
        self.columns.contains(column)
    }
}

/// `;` when the header line has more of them than commas, else `,`.
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| header.iter().filter(|b| **b == c).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// The documented column a header names, if any.
fn column_of(header: &str, known: &[(&'static str, &[&str])]) -> Option<&'static str> {
    let name: String = header
        .trim()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c.to_ascii_lowercase() })
        .collect();
    known.iter().find(|(_, aliases)| aliases.contains(&name.as_str())).map(|(column, _)| *column)
}

/// A row's fields by column: text with forbidden characters (controls) removed, or why the row
/// cannot be used.
fn fields(
    record: &csv::ByteRecord,
    columns: &[Option<&'static str>],
) -> Result<HashMap<&'static str, String>, (&'static str, String)> {
    let mut out = HashMap::new();
    for (raw, column) in record.iter().zip(columns) {
        let Some(column) = column else { continue };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(("invalid_utf8", format!("the {column} field is not UTF-8 text")));
        };
        if text.chars().count() > MAX_FIELD {
            return Err(("field_too_long", format!("the {column} field is over {MAX_FIELD} characters")));
        }
        out.insert(*column, strip_forbidden(text).into_owned());
    }
    Ok(out)
}

fn skip(kind: &'static str, row: &Row, source_id: Option<&str>, code: &'static str, why: &str) -> Record {
    let source_id = source_id.map_or_else(|| format!("line {}", row.line), str::to_string);
    Record::Skipped { kind, source_id, code, message: format!("line {}: {why}", row.line) }
}

/// Text a spreadsheet would run as a formula when the data is exported again.
fn is_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@'])
}

/// Unix ms of a date (`2024-01-31`), an ISO 8601 date-time, or a date-time without zone (UTC).
fn date(text: &str) -> Option<i64> {
    parse_timestamp(text, false).or_else(|| {
        let b = text.as_bytes();
        (text.len() == 19 && matches!(b.get(10), Some(b' ' | b'T')))
            .then(|| format!("{}T{}Z", &text[..10], &text[11..]))
            .and_then(|t| parse_timestamp(&t, false))
    })
}

fn affiliate_row(row: &Row, default_campaign: Option<&str>, used: &mut BTreeSet<String>) -> Vec<Record> {
    let k = kind::AFFILIATE;
    if let Err((code, why)) = &row.fields {
        return vec![skip(k, row, None, code, why)];
    }
    let Some(email) = row.get("email") else {
        return vec![skip(k, row, row.get("id"), "invalid_email", "the email is empty")];
    };
    let email = canonical_email(email);
    let source_id = row.get("id").map_or_else(|| email.clone(), str::to_string);
    let sid = Some(source_id.as_str());
    if !is_valid_email(&email) {
        return vec![skip(k, row, sid, "invalid_email", &format!("{email:?} is not a valid email address"))];
    }
    let name = match row.get("name") {
        Some(name) => Some(name.to_string()),
        None => {
            let parts: Vec<&str> =
                [row.get("first_name"), row.get("last_name")].into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
    };
    if name.as_deref().is_some_and(is_formula) {
        return vec![skip(
            k,
            row,
            sid,
            "formula_text",
            "the name starts with =, +, - or @ (a spreadsheet formula)",
        )];
    }
    let status = match row.get("status").map(str::to_ascii_lowercase).as_deref() {
        None | Some("approved" | "active" | "accepted") => MembershipStatus::Approved,
        Some("pending") => MembershipStatus::Pending,
        Some("rejected" | "disabled" | "inactive" | "blocked" | "denied" | "declined") => {
            MembershipStatus::Rejected
        }
        Some(other) => {
            return vec![skip(k, row, sid, "unknown_status", &format!("status {other:?} is not known"))];
        }
    };
    let Some(campaign) = row.get("campaign").or(default_campaign) else {
        return vec![skip(k, row, sid, "missing_campaign", "no campaign column and no --campaign")];
    };
    let created_at = match row.get("created_at") {
        None => None,
        Some(text) => match date(text) {
            Some(ms) => Some(ms),
            None => return vec![skip(k, row, sid, "invalid_date", &format!("{text:?} is not a date"))],
        },
    };
    used.insert(campaign.to_string());
    let mut records = vec![Record::Affiliate(ImportedAffiliate {
        source_id: source_id.clone(),
        email,
        name,
        campaigns: vec![(campaign.to_string(), status)],
        created_at,
    })];
    if let Some(token) = row.get("token") {
        records.push(Record::Link(ImportedLink {
            source_id: token.to_string(),
            affiliate_source_id: source_id.clone(),
            campaign_source_id: Some(campaign.to_string()),
            token: token.to_string(),
        }));
    }
    if let Some(code) = row.get("coupon") {
        records.push(Record::Coupon(ImportedCoupon {
            source_id: code.to_string(),
            code: code.to_string(),
            affiliate_source_id: source_id.clone(),
            campaign_source_id: Some(campaign.to_string()),
            provider_coupon_id: None,
            provider_promotion_code_id: None,
        }));
    }
    if let Some(paypal) = row.get("paypal_email") {
        let paypal = canonical_email(paypal);
        records.push(if is_valid_email(&paypal) {
            Record::PayoutMethod(ImportedPayoutMethod {
                affiliate_source_id: source_id,
                method: PayoutMethod::PayPal { email: paypal },
            })
        } else {
            skip(
                kind::PAYOUT_METHOD,
                row,
                sid,
                "invalid_email",
                &format!("PayPal email {paypal:?} is not valid"),
            )
        });
    }
    records
}

/// Minor units of a decimal amount: `49.99`, `49,99` (decimal comma), `1,234.50`.
fn amount(text: &str, exponent: u8) -> Option<i64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let normal = if compact.contains('.') { compact.replace(',', "") } else { compact.replace(',', ".") };
    let minor = parse_amount(&normal, exponent).ok()?;
    (minor >= 0).then_some(minor)
}

fn commission_row(
    row: &Row,
    default_campaign: Option<&str>,
    by_email: &HashMap<String, String>,
    used: &mut BTreeSet<String>,
) -> Record {
    let k = kind::COMMISSION;
    if let Err((code, why)) = &row.fields {
        return skip(k, row, None, code, why);
    }
    let Some(source_id) = row.get("id").or(row.get("order_id")) else {
        return skip(k, row, None, "missing_id", "neither an id nor an order_id");
    };
    let sid = Some(source_id);
    let affiliate = match (row.get("affiliate_id"), row.get("affiliate_email")) {
        (Some(id), _) => id.to_string(),
        (None, Some(email)) => {
            let email = canonical_email(email);
            if !is_valid_email(&email) {
                return skip(
                    k,
                    row,
                    sid,
                    "invalid_email",
                    &format!("{email:?} is not a valid email address"),
                );
            }
            by_email.get(&email).cloned().unwrap_or(email)
        }
        (None, None) => return skip(k, row, sid, "affiliate_not_imported", "the row names no affiliate"),
    };
    let Some(currency) = row.get("currency").and_then(|c| Currency::parse(&c.to_ascii_lowercase()).ok())
    else {
        return skip(k, row, sid, "invalid_currency", "the currency is missing or not supported");
    };
    let exponent = currency.exponent();
    let Some(commission) = row.get("amount").and_then(|a| amount(a, exponent)) else {
        let text = row.get("amount").unwrap_or_default();
        return skip(k, row, sid, "invalid_amount", &format!("amount {text:?} is not an amount"));
    };
    let sale = match row.get("sale_amount") {
        // Without the sale's amount, the commission stands for it (the commission is never
        // above its sale).
        None => commission,
        Some(text) => match amount(text, exponent) {
            Some(minor) => minor,
            None => {
                return skip(k, row, sid, "invalid_amount", &format!("sale amount {text:?} is not an amount"))
            }
        },
    };
    let status = match row.get("status").map(str::to_ascii_lowercase).as_deref() {
        None | Some("pending") => ConversionStatus::Pending,
        Some("approved" | "due" | "accepted" | "unpaid") => ConversionStatus::Approved,
        Some("paid") => ConversionStatus::Paid,
        Some("rejected" | "voided" | "void" | "declined" | "denied" | "canceled" | "cancelled") => {
            ConversionStatus::Rejected
        }
        Some("refunded") => ConversionStatus::Refunded,
        Some(other) => return skip(k, row, sid, "unknown_status", &format!("status {other:?} is not known")),
    };
    let Some(text) = row.get("date") else {
        return skip(k, row, sid, "missing_date", "the commission has no date");
    };
    let Some(created_at) = date(text) else {
        return skip(k, row, sid, "invalid_date", &format!("{text:?} is not a date"));
    };
    let paid_at = match row.get("paid_at") {
        None => None,
        Some(text) => match date(text) {
            Some(ms) => Some(ms),
            None => return skip(k, row, sid, "invalid_date", &format!("paid_at {text:?} is not a date")),
        },
    };
    let customer_email = row.get("customer_email").map(canonical_email).filter(|e| is_valid_email(e));
    let campaign = row.get("campaign").or(default_campaign).map(str::to_string);
    if let Some(c) = &campaign {
        used.insert(c.clone());
    }
    Record::Commission(ImportedCommission {
        source_id: source_id.to_string(),
        affiliate_source_id: affiliate,
        campaign_source_id: campaign,
        sale_amount_minor: sale,
        commission_minor: commission,
        currency: currency.code().to_string(),
        status,
        created_at,
        paid_at,
        customer_email,
        customer: row.get("customer_id").map(|id| ("stripe".to_string(), id.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(records: &[Record]) -> Vec<&'static str> {
        records
            .iter()
            .map(|r| match r {
                Record::Skipped { code, .. } => *code,
                other => other.kind(),
            })
            .collect()
    }

    #[test]
    fn bom_semicolons_quotes_and_aliases_are_read() {
        let file = "\u{feff}Email Address;Full Name;Referral Code;Campaign\n\
                    ann@x.test;\"Lee; Ann\";ann20;camp_1\n";
        let source = CsvSource::new(file.as_bytes(), None, None).expect("read");
        let Record::Affiliate(a) = &source.affiliates[0] else { panic!("{:?}", source.affiliates) };
        assert_eq!(a.email, "ann@x.test");
        assert_eq!(a.name.as_deref(), Some("Lee; Ann"));
        assert_eq!(codes(&source.affiliates), ["affiliate", "link"]);
        assert_eq!(codes(&source.campaigns), ["campaign"]);
    }

    #[test]
    fn hostile_rows_are_skipped_with_their_line() {
        let huge = "x".repeat(MAX_FIELD + 1);
        let file = format!(
            "email,name,status\nnot-an-email,A,approved\nb@x.test,=HYPERLINK(\"x\"),approved\n\
             c@x.test,C,wizard\nd@x.test,{huge},approved\ne@x.test,E,pending\n"
        );
        let source = CsvSource::new(file.as_bytes(), None, Some("camp_1")).expect("read");
        assert_eq!(
            codes(&source.affiliates),
            ["invalid_email", "formula_text", "unknown_status", "field_too_long", "affiliate"]
        );
        let Record::Skipped { message, .. } = &source.affiliates[0] else { panic!() };
        assert!(message.starts_with("line 2:"), "{message}");
        let Record::Skipped { message, .. } = &source.affiliates[3] else { panic!() };
        assert!(message.starts_with("line 5:"), "{message}");
    }

    #[test]
    fn commissions_read_amounts_statuses_and_dates() {
        let affiliates = "id,email\nA1,ann@x.test\n";
        let commissions = "order_id;affiliate_email;amount;sale_amount;currency;status;date\n\
                           o1;ANN@x.test;12,50;125,00;USD;paid;2024-01-31\n\
                           o2;ann@x.test;abc;1;usd;pending;2024-01-31\n\
                           o3;ann@x.test;1;1;usd;maybe;2024-01-31\n\
                           o4;ann@x.test;1;1;usd;due;2024-01-31 10:00:00\n\
                           o5;ann@x.test;1;1;usd;due;yesterday\n";
        let source = CsvSource::new(affiliates.as_bytes(), Some(commissions.as_bytes()), Some("camp_1"))
            .expect("read");
        assert_eq!(
            codes(&source.commissions),
            ["commission", "invalid_amount", "unknown_status", "commission", "invalid_date"]
        );
        let Record::Commission(c) = &source.commissions[0] else { panic!() };
        assert_eq!(
            (c.commission_minor, c.sale_amount_minor, c.status),
            (1250, 12500, ConversionStatus::Paid)
        );
        assert_eq!(c.affiliate_source_id, "A1");
        assert_eq!(c.currency, "usd");
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused() {
        assert!(matches!(CsvSource::new(b"name\nAnn\n", None, None), Err(ImportError::Usage(_))));
        assert!(matches!(CsvSource::new(b"", None, None), Err(ImportError::Usage(_))));
    }
}
