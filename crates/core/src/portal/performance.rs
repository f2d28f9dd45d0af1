//! The portal's performance page: this month's clicks (human, unique), conversions and
//! earnings of the person's own affiliate rows, per campaign and per day, and their recent
//! commissions with the customer's email masked (`refline_domain::mask_email`). The figures are
//! grouped by day in the database for the person's own affiliate row
//! (`PortalReportStore`: human clicks; live conversions that earn, i.e. pending, approved or
//! paid), so a busy month costs a few dozen rows; the commissions list is the merchant's own
//! `list_conversions` filtered to that row, through the portal door, live mode only.

use refline_domain::{mask_email, month_start, Mode};
use refline_store::{ConversionFilter, ConversionSort, PageRequest};

use super::{scope::Scoped, PortalSignedIn};
use crate::{Core, CoreResult};

/// A day's length in ms (UTC days, as the dashboard's charts).
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Commissions listed per program.
const RECENT: i64 = 50;

/// Money in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Earned {
    /// Lower-case ISO code.
    pub currency: String,
    /// Minor units.
    pub minor: i64,
}

/// One program's month.
#[derive(Debug, Clone, Default)]
pub struct ProgramPerformance {
    /// The merchant's business name.
    pub business_name: String,
    /// The campaign's name.
    pub campaign_name: String,
    /// Human clicks this month.
    pub clicks: i64,
    /// Of those, unique.
    pub unique_clicks: i64,
    /// Conversions this month that earn (pending, approved or paid).
    pub conversions: i64,
    /// Their commissions, per currency.
    pub earnings: Vec<Earned>,
    /// The latest commissions (any month), newest first.
    pub commissions: Vec<CommissionLine>,
    /// How many commissions the program has in all (the rest are on its commissions pages).
    pub commissions_total: i64,
    /// The campaign's id (the link to its commissions pages).
    pub campaign_id: String,
}

/// One commission as the affiliate sees it.
#[derive(Debug, Clone)]
pub struct CommissionLine {
    /// Unix ms.
    pub created_at: i64,
    /// pending, approved, paid, rejected, refunded (or trial).
    pub status: &'static str,
    /// The commission, minor units.
    pub commission_minor: i64,
    /// Its currency.
    pub currency: String,
    /// `j***@example.com`, or empty when the sale had no email.
    pub customer: String,
}

/// This month, per day, across programs.
#[derive(Debug, Clone, Default)]
pub struct Performance {
    /// Unix ms of the month's first day.
    pub month_start: i64,
    /// Days shown: the 1st to today.
    pub days: usize,
    /// Human clicks per day.
    pub clicks: Vec<i64>,
    /// Unique clicks per day.
    pub unique_clicks: Vec<i64>,
    /// Earning conversions per day.
    pub conversions: Vec<i64>,
    /// Earnings per day, one series per currency (never added across currencies).
    pub earnings: Vec<(String, Vec<i64>)>,
    /// Per program.
    pub programs: Vec<ProgramPerformance>,
}

impl Core {
    /// The person's performance this month.
    pub async fn portal_performance(&self, signed_in: &PortalSignedIn) -> CoreResult<Performance> {
        let now = self.now();
        let start = month_start(now);
        let days = usize::try_from((now - start) / DAY_MS + 1).unwrap_or(1).max(1);
        let mut out = Performance {
            month_start: start,
            days,
            clicks: vec![0; days],
            unique_clicks: vec![0; days],
            conversions: vec![0; days],
            ..Performance::default()
        };
        let day_of = |ms: i64| usize::try_from((ms - start) / DAY_MS).ok().filter(|d| *d < days);
        for scoped in self.portal_scopes(signed_in).await? {
            let program = self.program_performance(&scoped, start, now, &mut out, &day_of).await?;
            out.programs.push(program);
        }
        out.earnings.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn program_performance(
        &self,
        scoped: &Scoped,
        start: i64,
        now: i64,
        out: &mut Performance,
        day_of: &impl Fn(i64) -> Option<usize>,
    ) -> CoreResult<ProgramPerformance> {
        let m = &scoped.membership;
        let campaign_name = self
            .store
            .get_campaign(&m.merchant_id, &m.campaign_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        let mut program = ProgramPerformance {
            campaign_id: m.campaign_id.clone(),
            business_name: m.business_name.clone(),
            campaign_name,
            ..ProgramPerformance::default()
        };
        // Grouped by day in the database: a few dozen rows, however busy the month.
        let (merchant, campaign, affiliate) = (&m.merchant_id, &m.campaign_id, &m.affiliate_id);
        for (day, clicks, unique) in
            self.store.affiliate_click_days(merchant, campaign, affiliate, start, now).await?
        {
            program.clicks += clicks;
            program.unique_clicks += unique;
            if let Some(d) = day_of(day * DAY_MS) {
                out.clicks[d] += clicks;
                out.unique_clicks[d] += unique;
            }
        }
        for (day, currency, conversions, commission) in
            self.store.affiliate_earning_days(merchant, campaign, affiliate, start, now).await?
        {
            program.conversions += conversions;
            add(&mut program.earnings, &currency, commission);
            if let Some(d) = day_of(day * DAY_MS) {
                out.conversions[d] += conversions;
                let i = match out.earnings.iter().position(|(cur, _)| *cur == currency) {
                    Some(i) => i,
                    None => {
                        out.earnings.push((currency.clone(), vec![0; out.days]));
                        out.earnings.len() - 1
                    }
                };
                out.earnings[i].1[d] = out.earnings[i].1[d].saturating_add(commission);
            }
        }
        let filter = ConversionFilter {
            mode: Mode::Live,
            status: None,
            campaign_id: Some(m.campaign_id.clone()),
            affiliate_id: Some(m.affiliate_id.clone()),
            from: None,
            to: Some(now),
        };
        let request =
            PageRequest { limit: RECENT, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
        let recent = self.list_conversions(&scoped.actor, &filter, request).await?;
        program.commissions_total = recent.total;
        program.commissions = recent.items.into_iter().map(commission_line).collect();
        Ok(program)
    }
}

/// A commission as the affiliate sees it: the customer masked.
pub(crate) fn commission_line(c: refline_store::Conversion) -> CommissionLine {
    CommissionLine {
        created_at: c.created_at,
        status: c.status.as_str(),
        commission_minor: c.commission_minor,
        customer: c.customer_email.as_deref().map(mask_email).unwrap_or_default(),
        currency: c.currency,
    }
}

/// Adds `minor` to the `currency` entry of `earned`.
fn add(earned: &mut Vec<Earned>, currency: &str, minor: i64) {
    match earned.iter_mut().find(|e| e.currency == currency) {
        Some(e) => e.minor = e.minor.saturating_add(minor),
        None => earned.push(Earned { currency: currency.to_string(), minor }),
    }
}
