//! What every source provides: its steps (one per list endpoint, in dependency order) and
//! pages of records already mapped to the core's import inputs.

use refline_core::import::{
    ExistingCampaign, ImportedAffiliate, ImportedCampaign, ImportedCommission, ImportedCoupon,
    ImportedCustomer, ImportedLink, ImportedPayoutMethod,
};

use crate::ImportError;

/// One list a source is read from, in the order they must be imported (an affiliate needs its
/// campaign, a commission its affiliate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Campaigns, programs, groups.
    Campaigns,
    /// Affiliates with their memberships (and, where the source nests them, their links).
    Affiliates,
    /// Referral links listed on their own.
    Links,
    /// Coupons.
    Coupons,
    /// Referred customers.
    Customers,
    /// Commissions.
    Commissions,
}

impl Step {
    /// Every step, in import order.
    pub const ALL: [Step; 6] =
        [Step::Campaigns, Step::Affiliates, Step::Links, Step::Coupons, Step::Customers, Step::Commissions];

    /// Stable lower-case name (stored in the run's checkpoint).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Campaigns => "campaigns",
            Step::Affiliates => "affiliates",
            Step::Links => "links",
            Step::Coupons => "coupons",
            Step::Customers => "customers",
            Step::Commissions => "commissions",
        }
    }

    /// Inverse of [`Step::as_str`].
    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One source object mapped to the core's input, or the reason it cannot be.
#[derive(Debug, Clone)]
pub enum Record {
    /// A campaign.
    Campaign(ImportedCampaign),
    /// A source campaign mapped onto a campaign that exists in Refline (`--campaign`).
    ExistingCampaign(ExistingCampaign),
    /// An affiliate.
    Affiliate(ImportedAffiliate),
    /// A referral link.
    Link(ImportedLink),
    /// A coupon.
    Coupon(ImportedCoupon),
    /// A referred customer.
    Customer(ImportedCustomer),
    /// A commission.
    Commission(ImportedCommission),
    /// An affiliate's payout details.
    PayoutMethod(ImportedPayoutMethod),
    /// Something the mapping cannot use, with a coded reason for the report.
    Skipped {
        /// The report's entity (`campaign`, `affiliate`, …).
        kind: &'static str,
        /// The source's id.
        source_id: String,
        /// Stable reason code.
        code: &'static str,
        /// For a person.
        message: String,
    },
}

impl Record {
    /// The report entity this record counts under (`refline_core::import::kind`).
    pub fn kind(&self) -> &'static str {
        use refline_core::import::kind;
        match self {
            Record::Campaign(_) | Record::ExistingCampaign(_) => kind::CAMPAIGN,
            Record::Affiliate(_) => kind::AFFILIATE,
            Record::Link(_) => kind::LINK,
            Record::Coupon(_) => kind::COUPON,
            Record::Customer(_) => kind::CUSTOMER,
            Record::Commission(_) => kind::COMMISSION,
            Record::PayoutMethod(_) => kind::PAYOUT_METHOD,
            Record::Skipped { kind, .. } => kind,
        }
    }

    /// The source's id of the object.
    pub fn source_id(&self) -> &str {
        match self {
            Record::Campaign(r) => &r.source_id,
            Record::ExistingCampaign(r) => &r.source_id,
            Record::Affiliate(r) => &r.source_id,
            Record::Link(r) => &r.source_id,
            Record::Coupon(r) => &r.source_id,
            Record::Customer(r) => &r.source_id,
            Record::Commission(r) => &r.source_id,
            Record::PayoutMethod(r) => &r.affiliate_source_id,
            Record::Skipped { source_id, .. } => source_id,
        }
    }
}

/// One page of a step.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Its records, in the source's order.
    pub records: Vec<Record>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
    /// How many objects the step has in all, when the source says.
    pub total: Option<u64>,
}

/// A platform programs are imported from.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// `rewardful`, `tolt`, … (the import door's name, and `import_objects.source`).
    fn name(&self) -> &'static str;
    /// The steps this source has, in import order.
    fn steps(&self) -> Vec<Step>;
    /// The page of `step` starting at `cursor` (`None`: the first).
    async fn fetch(&self, step: Step, cursor: Option<&str>) -> Result<Batch, ImportError>;
}
