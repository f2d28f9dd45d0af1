//! Volume tiers: which commission rule applies once an affiliate reaches a band.

use super::CommissionRule;

/// Maximum number of tiers per program, to keep the table reviewable.
pub const MAX_TIERS: usize = 20;

/// What a tier's `min_volume` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierBasis {
    /// Number of sales.
    SalesCount,
    /// Sales revenue in minor units.
    Revenue,
}

impl TierBasis {
    /// Stable text form: `"sales_count"` or `"revenue"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TierBasis::SalesCount => "sales_count",
            TierBasis::Revenue => "revenue",
        }
    }

    /// Inverse of [`TierBasis::as_str`].
    pub fn parse(text: &str) -> Option<TierBasis> {
        match text {
            "sales_count" => Some(TierBasis::SalesCount),
            "revenue" => Some(TierBasis::Revenue),
            _ => None,
        }
    }
}

/// A band: affiliates whose volume reaches `min_volume` earn `rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// A count of sales for [`TierBasis::SalesCount`], minor units for [`TierBasis::Revenue`].
    pub min_volume: i64,
    /// The rule that replaces the base rule within this band.
    pub rule: CommissionRule,
}

/// An affiliate's volume before the sale being priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AffiliateVolume {
    /// Number of earlier counted sales.
    pub sales_count: i64,
    /// Revenue of earlier counted sales in minor units.
    pub revenue_minor: i64,
}

/// Why a tier table was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// More than [`MAX_TIERS`] tiers.
    #[error("at most {max} tiers are allowed")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// A `min_volume` below 1 (the base rule already covers zero volume).
    #[error("tier minimum volume must be at least 1")]
    MinVolumeNotPositive,
    /// Two tiers share a `min_volume`, so the winner would be ambiguous.
    #[error("tier minimum volumes must be distinct ({min_volume} appears more than once)")]
    DuplicateMinVolume {
        /// The repeated value.
        min_volume: i64,
    },
    /// A fixed tier amount that is not positive.
    #[error("tier fixed commission must be greater than 0")]
    InvalidRule,
}

/// Picks the rule for a sale: the band the affiliate reaches *with* this sale.
///
/// The volume after the sale is `before.sales_count + 1` for
/// [`TierBasis::SalesCount`] or `before.revenue_minor + sale_minor` for
/// [`TierBasis::Revenue`]; the tier with the highest `min_volume` not above it
/// wins, otherwise `base`. Tiers may be in any order. Tiers are not
/// retroactive: reaching a band only affects this and later sales, and earlier
/// conversions keep the commission they were given (callers must not reprice
/// them).
pub fn select_rule<'a>(
    base: &'a CommissionRule,
    tiers: &'a [Tier],
    basis: TierBasis,
    before: AffiliateVolume,
    sale_minor: i64,
) -> &'a CommissionRule {
    let volume_after = match basis {
        TierBasis::SalesCount => before.sales_count.saturating_add(1),
        TierBasis::Revenue => before.revenue_minor.saturating_add(sale_minor),
    };
    tiers
        .iter()
        .filter(|tier| tier.min_volume <= volume_after)
        // Reversed so that, for an (invalid) duplicate, the first tier listed wins.
        .rev()
        .max_by_key(|tier| tier.min_volume)
        .map_or(base, |tier| &tier.rule)
}

/// Checks a tier table: at most [`MAX_TIERS`] tiers, every `min_volume` ≥ 1,
/// all `min_volume`s distinct, and every rule valid ([`CommissionRule::is_valid`]).
pub fn validate_tiers(tiers: &[Tier]) -> Result<(), TierError> {
    if tiers.len() > MAX_TIERS {
        return Err(TierError::TooMany { max: MAX_TIERS });
    }
    for (i, tier) in tiers.iter().enumerate() {
        if tier.min_volume < 1 {
            return Err(TierError::MinVolumeNotPositive);
        }
        if !tier.rule.is_valid() {
            return Err(TierError::InvalidRule);
        }
        if tiers.iter().take(i).any(|t| t.min_volume == tier.min_volume) {
            return Err(TierError::DuplicateMinVolume { min_volume: tier.min_volume });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate::Percent;

    fn pct(text: &str) -> CommissionRule {
        CommissionRule::Percentage(Percent::parse(text).unwrap())
    }

    fn tier(min_volume: i64, rule: CommissionRule) -> Tier {
        Tier { min_volume, rule }
    }

    #[test]
    fn basis_text_round_trips() {
        for basis in [TierBasis::SalesCount, TierBasis::Revenue] {
            assert_eq!(TierBasis::parse(basis.as_str()), Some(basis));
        }
        assert_eq!(TierBasis::SalesCount.as_str(), "sales_count");
        assert_eq!(TierBasis::Revenue.as_str(), "revenue");
        assert_eq!(TierBasis::parse("Revenue"), None);
    }

    #[test]
    fn sales_count_counts_this_sale_with_unsorted_tiers() {
        let base = pct("10");
        let tiers = [tier(10, pct("30")), tier(5, pct("20")), tier(20, CommissionRule::Fixed(999))];
        let select = |count| {
            *select_rule(
                &base,
                &tiers,
                TierBasis::SalesCount,
                AffiliateVolume { sales_count: count, revenue_minor: 0 },
                100,
            )
        };
        assert_eq!(select(0), base);
        assert_eq!(select(3), base);
        assert_eq!(select(4), pct("20")); // the 5th sale reaches the band
        assert_eq!(select(8), pct("20"));
        assert_eq!(select(9), pct("30"));
        assert_eq!(select(19), CommissionRule::Fixed(999));
        assert_eq!(select(1_000), CommissionRule::Fixed(999));
    }

    #[test]
    fn revenue_includes_this_sale_with_unsorted_tiers() {
        let base = pct("10");
        let tiers = [tier(1_000_000, pct("30")), tier(100_000, pct("20"))];
        let select = |revenue, sale| {
            *select_rule(
                &base,
                &tiers,
                TierBasis::Revenue,
                AffiliateVolume { sales_count: 0, revenue_minor: revenue },
                sale,
            )
        };
        assert_eq!(select(0, 99_999), base);
        assert_eq!(select(0, 100_000), pct("20"));
        assert_eq!(select(90_000, 10_000), pct("20"));
        assert_eq!(select(999_999, 0), pct("20"));
        assert_eq!(select(999_999, 1), pct("30"));
        assert_eq!(select(i64::MAX, i64::MAX), pct("30"));
    }

    #[test]
    fn no_tiers_means_base() {
        let base = CommissionRule::Fixed(100);
        assert_eq!(*select_rule(&base, &[], TierBasis::SalesCount, AffiliateVolume::default(), 0), base);
    }

    #[test]
    fn validates_tier_tables() {
        assert_eq!(validate_tiers(&[]), Ok(()));
        assert_eq!(validate_tiers(&[tier(5, pct("20")), tier(1, pct("15"))]), Ok(()));
        assert_eq!(validate_tiers(&[tier(0, pct("20"))]), Err(TierError::MinVolumeNotPositive));
        assert_eq!(validate_tiers(&[tier(-3, pct("20"))]), Err(TierError::MinVolumeNotPositive));
        assert_eq!(
            validate_tiers(&[tier(5, pct("20")), tier(5, pct("25"))]),
            Err(TierError::DuplicateMinVolume { min_volume: 5 })
        );
        assert_eq!(validate_tiers(&[tier(5, CommissionRule::Fixed(0))]), Err(TierError::InvalidRule));
        let twenty: Vec<_> = (1..=20).map(|v| tier(v, pct("20"))).collect();
        assert_eq!(validate_tiers(&twenty), Ok(()));
        let twenty_one: Vec<_> = (1..=21).map(|v| tier(v, pct("20"))).collect();
        assert_eq!(validate_tiers(&twenty_one), Err(TierError::TooMany { max: 20 }));
    }
}
