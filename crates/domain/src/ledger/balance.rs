//! Which balance a commission's outstanding amount counts in, and the balances of an affiliate.

use std::collections::BTreeMap;

use crate::ConversionStatus;

/// Where a commission's outstanding amount counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Not approved yet (trial or pending).
    Pending,
    /// Approved, inside its hold period.
    OnHold,
    /// Approved, past its hold, in no open payout: the next payout run takes it.
    Payable,
    /// In a pending or processing payout.
    InPayout,
    /// Refunded after payment and not netted yet: the affiliate owes it back.
    OwedBack,
    /// Nothing outstanding (settled, rejected, refunded before payment).
    Settled,
}

/// The bucket of a commission with `outstanding` still owed (see
/// [`super::CommissionTotals::outstanding`]), in `status`, whose hold ends at `hold_until` (unix
/// ms; `None` when not approved), at `now`, held by an open payout or not.
///
/// A clawback (negative outstanding) is never held: it is netted against the next payout. A
/// positive amount on a paid conversion (its payout was returned) is payable again like an
/// approved one, its hold long over.
pub fn bucket(
    status: ConversionStatus,
    outstanding: i64,
    hold_until: Option<i64>,
    now: i64,
    in_open_payout: bool,
) -> Bucket {
    if in_open_payout {
        return Bucket::InPayout;
    }
    if outstanding < 0 {
        return Bucket::OwedBack;
    }
    if outstanding == 0 {
        return Bucket::Settled;
    }
    match status {
        ConversionStatus::Trial | ConversionStatus::Pending => Bucket::Pending,
        ConversionStatus::Approved | ConversionStatus::Paid => match hold_until {
            Some(until) if now < until => Bucket::OnHold,
            _ => Bucket::Payable,
        },
        // Reversals take rejected and refunded commissions to zero; anything left is a fault
        // that `ledger verify` reports, never money to pay.
        ConversionStatus::Rejected | ConversionStatus::Refunded => Bucket::Settled,
    }
}

/// An affiliate's balances in one currency, minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balance {
    /// Commissions not approved yet.
    pub pending: i64,
    /// Approved, inside their hold.
    pub on_hold: i64,
    /// Ready for the next payout.
    pub payable: i64,
    /// In pending or processing payouts (net of the clawbacks they settle).
    pub in_payout: i64,
    /// Paid by completed payouts (net of returns and of clawbacks netted).
    pub paid: i64,
    /// Refunded after payment, not netted yet (a positive number: what the affiliate owes).
    pub owed_back: i64,
}

impl Balance {
    /// Counts `amount` (the outstanding amount, or an open payout item's amount) in `bucket`.
    pub fn add(&mut self, bucket: Bucket, amount: i64) {
        let slot = match bucket {
            Bucket::Pending => &mut self.pending,
            Bucket::OnHold => &mut self.on_hold,
            Bucket::Payable => &mut self.payable,
            Bucket::InPayout => &mut self.in_payout,
            Bucket::OwedBack => {
                self.owed_back = self.owed_back.saturating_sub(amount);
                return;
            }
            Bucket::Settled => return,
        };
        *slot = slot.saturating_add(amount);
    }
}

/// Balances per affiliate and currency; a currency's amounts are only ever added to the same
/// currency's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    /// `(affiliate id, currency)` → balance, in order.
    pub by_affiliate: BTreeMap<(String, String), Balance>,
}

impl Balances {
    /// The balance of `affiliate_id` in `currency`, created empty.
    pub fn entry(&mut self, affiliate_id: &str, currency: &str) -> &mut Balance {
        self.by_affiliate.entry((affiliate_id.to_string(), currency.to_string())).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversionStatus::*;

    #[test]
    fn every_status_lands_where_expected() {
        let now = 1_000;
        assert_eq!(bucket(Pending, 500, None, now, false), Bucket::Pending);
        assert_eq!(bucket(Trial, 0, None, now, false), Bucket::Settled);
        assert_eq!(bucket(Approved, 500, Some(now + 1), now, false), Bucket::OnHold);
        assert_eq!(
            bucket(Approved, 500, Some(now), now, false),
            Bucket::Payable,
            "the hold ends at hold_until"
        );
        assert_eq!(bucket(Approved, 500, Some(now), now, true), Bucket::InPayout);
        assert_eq!(bucket(Paid, 0, Some(0), now, false), Bucket::Settled);
        assert_eq!(
            bucket(Paid, -200, Some(now + 5), now, false),
            Bucket::OwedBack,
            "clawbacks are never held"
        );
        assert_eq!(
            bucket(Paid, 300, Some(0), now, false),
            Bucket::Payable,
            "a returned payout is payable again"
        );
        assert_eq!(bucket(Rejected, 0, None, now, false), Bucket::Settled);
    }

    #[test]
    fn balances_keep_currencies_apart() {
        let mut b = Balances::default();
        b.entry("aff", "usd").add(Bucket::Payable, 500);
        b.entry("aff", "eur").add(Bucket::Payable, 700);
        b.entry("aff", "usd").add(Bucket::OwedBack, -200);
        assert_eq!(
            b.by_affiliate[&("aff".into(), "usd".into())],
            Balance { payable: 500, owed_back: 200, ..Balance::default() }
        );
        assert_eq!(b.by_affiliate[&("aff".into(), "eur".into())].payable, 700);
    }
}
