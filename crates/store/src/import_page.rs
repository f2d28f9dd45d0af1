//! What a page of new imported commissions writes, decided without the database, so a page is a
//! handful of multi-row statements instead of five to ten statements a commission (issue 16's
//! benchmark: per-statement round trips to the SQLite worker were the import's cost).
//!
//! [`new_imported_rows`] answers exactly what writing one new commission row by row does (the
//! conversion inserted in its accrued status, its `accrued` entry, then the ledger brought to
//! its status and, when paid, the completed `imported` payout with its `paid` entry); the
//! engines' per-row path (`import_isolating`, used when a page holds a row the database refuses)
//! still writes it statement by statement, and the tests below pin the two to one outcome.

use refline_domain::{
    ledger::{change_entry, expected_earned, CommissionTotals, EntryKind},
    ConversionStatus,
};

use crate::{Conversion, ImportedPayout};

/// One ledger entry of a new imported commission (the rest of its columns are the conversion's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEntry {
    /// What it records.
    pub kind: EntryKind,
    /// Signed, minor units.
    pub amount_minor: i64,
    /// The payout, for the `paid` entry.
    pub payout_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// The completed payout settling a new paid commission, and what it pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPayout {
    /// Its id, date and reference.
    pub payout: ImportedPayout,
    /// What it pays (the commission's outstanding earnings; positive).
    pub amount_minor: i64,
}

/// Everything one new imported commission writes.
#[derive(Debug, Clone)]
pub struct NewImportedRows {
    /// The conversion as it ends up stored (status, earned and paid sums, times).
    pub conversion: Conversion,
    /// Its ledger entries, in the order they are written.
    pub entries: Vec<PlannedEntry>,
    /// The completed payout holding it, when it is paid.
    pub payout: Option<PlannedPayout>,
}

/// The status a commission is first written in: what it is, except that a paid one is first
/// approved (its payout pays it next).
pub fn accrued_status(status: ConversionStatus) -> ConversionStatus {
    match status {
        ConversionStatus::Paid => ConversionStatus::Approved,
        other => other,
    }
}

/// What writing new imported commission `c` (with `paid`, the payout settling it when it is
/// paid) stores: the same rows, in the same order, as inserting it accrued, accruing it,
/// syncing its ledger to its status (a new conversion has no clawbacks and no open payout) and
/// settling a paid one, statement by statement.
pub fn new_imported_rows(c: &Conversion, paid: Option<&ImportedPayout>) -> NewImportedRows {
    let now = c.updated_at;
    let mut row =
        Conversion { status: accrued_status(c.status), earned_minor: c.commission_minor, ..c.clone() };
    let mut entries = Vec::new();
    if c.commission_minor != 0 {
        entries.push(PlannedEntry {
            kind: EntryKind::Accrued,
            amount_minor: c.commission_minor,
            payout_id: None,
            created_at: c.created_at,
        });
    }
    let totals = CommissionTotals { earned: row.earned_minor, paid: row.paid_minor };
    let target = expected_earned(row.status, row.commission_minor, 0);
    if let Some((kind, delta)) = change_entry(totals, target) {
        entries.push(PlannedEntry { kind, amount_minor: delta, payout_id: None, created_at: now });
        row.earned_minor = target;
    }
    let Some(payout) = paid.filter(|_| c.status == ConversionStatus::Paid) else {
        return NewImportedRows { conversion: row, entries, payout: None };
    };
    let amount = row.earned_minor - row.paid_minor;
    row.status = ConversionStatus::Paid;
    row.updated_at = now;
    if amount <= 0 {
        // Nothing left to pay (a zero commission): paid, without a payout of nothing.
        return NewImportedRows { conversion: row, entries, payout: None };
    }
    entries.push(PlannedEntry {
        kind: EntryKind::Paid,
        amount_minor: amount,
        payout_id: Some(payout.id.clone()),
        created_at: payout.paid_at,
    });
    row.paid_minor += amount;
    NewImportedRows {
        conversion: row,
        entries,
        payout: Some(PlannedPayout { payout: payout.clone(), amount_minor: amount }),
    }
}

/// `rows` cut into runs of the sizes in `sizes` (largest first, ending with 1): a page's
/// multi-row statements then have a few fixed texts that stay in the driver's
/// prepared-statement cache (see `tracking::CLICK_CHUNKS`).
pub fn fixed_chunks<'a, T>(mut rows: &'a [T], sizes: &[usize]) -> Vec<&'a [T]> {
    let mut chunks = Vec::new();
    for &size in sizes {
        while size > 0 && rows.len() >= size {
            let (chunk, rest) = rows.split_at(size);
            chunks.push(chunk);
            rows = rest;
        }
    }
    chunks
}

/// Rows per statement of a page's writes and reads: a full page (500) is two statements, and
/// the largest (conversions, 26 binds a row) stays far below both engines' parameter limits.
pub const PAGE_CHUNKS: [usize; 4] = [250, 50, 10, 1];

#[cfg(test)]
mod tests {
    use refline_domain::{ConversionType, Mode};

    use super::*;

    fn conversion(status: ConversionStatus, commission: i64) -> Conversion {
        Conversion {
            id: "conv_1".into(),
            merchant_id: "m".into(),
            campaign_id: "camp".into(),
            affiliate_id: "aff".into(),
            amount_minor: 5_000,
            commission_minor: commission,
            currency: "usd".into(),
            status,
            order_id: Some("csv:1".into()),
            click_id: None,
            customer_email: None,
            customer_name: None,
            conversion_type: ConversionType::OneTime,
            parent_conversion_id: None,
            payment_number: 1,
            source: "csv".into(),
            mode: Mode::Live,
            fraud_score: None,
            fraud_signals: None,
            created_at: 100,
            updated_at: 900,
            approved_at: None,
            earned_minor: 0,
            paid_minor: 0,
        }
    }

    fn payout() -> ImportedPayout {
        ImportedPayout { id: "po_1".into(), paid_at: 500, reference: "imported".into() }
    }

    fn entry(kind: EntryKind, amount: i64, payout: Option<&str>, at: i64) -> PlannedEntry {
        PlannedEntry { kind, amount_minor: amount, payout_id: payout.map(str::to_string), created_at: at }
    }

    #[test]
    fn pending_and_approved_accrue_only() {
        for status in [ConversionStatus::Pending, ConversionStatus::Approved] {
            let rows = new_imported_rows(&conversion(status, 1_000), None);
            assert_eq!(rows.conversion.status, status);
            assert_eq!((rows.conversion.earned_minor, rows.conversion.paid_minor), (1_000, 0));
            assert_eq!(rows.entries, [entry(EntryKind::Accrued, 1_000, None, 100)]);
            assert_eq!(rows.payout, None);
        }
    }

    #[test]
    fn rejected_and_refunded_are_reversed_at_import_time() {
        for status in [ConversionStatus::Rejected, ConversionStatus::Refunded] {
            let rows = new_imported_rows(&conversion(status, 1_000), None);
            assert_eq!(rows.conversion.status, status);
            assert_eq!(rows.conversion.earned_minor, 0);
            assert_eq!(
                rows.entries,
                [entry(EntryKind::Accrued, 1_000, None, 100), entry(EntryKind::Reversed, -1_000, None, 900)]
            );
        }
    }

    #[test]
    fn paid_is_settled_by_its_payout() {
        let rows = new_imported_rows(&conversion(ConversionStatus::Paid, 1_000), Some(&payout()));
        assert_eq!(rows.conversion.status, ConversionStatus::Paid);
        assert_eq!((rows.conversion.earned_minor, rows.conversion.paid_minor), (1_000, 1_000));
        assert_eq!(rows.conversion.updated_at, 900);
        assert_eq!(
            rows.entries,
            [entry(EntryKind::Accrued, 1_000, None, 100), entry(EntryKind::Paid, 1_000, Some("po_1"), 500)]
        );
        assert_eq!(rows.payout, Some(PlannedPayout { payout: payout(), amount_minor: 1_000 }));
    }

    #[test]
    fn a_zero_paid_commission_is_paid_without_a_payout() {
        let rows = new_imported_rows(&conversion(ConversionStatus::Paid, 0), Some(&payout()));
        assert_eq!(rows.conversion.status, ConversionStatus::Paid);
        assert!(rows.entries.is_empty());
        assert_eq!(rows.payout, None);
    }

    #[test]
    fn paid_without_a_payout_stays_approved() {
        // As the row-by-row write leaves it: nothing settles it.
        let rows = new_imported_rows(&conversion(ConversionStatus::Paid, 1_000), None);
        assert_eq!(rows.conversion.status, ConversionStatus::Approved);
        assert_eq!(rows.payout, None);
    }

    #[test]
    fn chunks_have_fixed_sizes() {
        let rows: Vec<usize> = (0..563).collect();
        let sizes: Vec<usize> = fixed_chunks(&rows, &PAGE_CHUNKS).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [250, 250, 50, 10, 1, 1, 1]);
        assert!(fixed_chunks::<u8>(&[], &PAGE_CHUNKS).is_empty());
    }
}
