//! The overview a merchant opens first: this month's revenue, commissions, conversions and
//! clicks with their daily series, the top affiliates, the newest conversions, and the launch
//! checklist (business details → campaign → payment connection → first affiliate → first sale,
//! with whether the tracking script was seen and each campaign's join link).

use std::collections::BTreeMap;

use refline_domain::month_start;
use refline_store::{
    report::{AffiliateTotals, DayClicks},
    Conversion, PageRequest,
};

use crate::{Actor, Core, CoreResult};

/// One currency's month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthTotals {
    /// Sales, minor units.
    pub revenue_minor: i64,
    /// Commissions, minor units.
    pub commissions_minor: i64,
    /// Conversions.
    pub conversions: i64,
}

/// One day of the month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayPoint {
    /// Unix ms of the day's start (UTC).
    pub day_start: i64,
    /// Sales in the brand's currency, minor units.
    pub revenue_minor: i64,
    /// Commissions in the brand's currency, minor units.
    pub commissions_minor: i64,
    /// Conversions (every currency).
    pub conversions: i64,
    /// Human clicks.
    pub clicks: i64,
}

/// One step of the launch checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to do.
    pub label: &'static str,
    /// Done.
    pub done: bool,
    /// Where to do it.
    pub href: &'static str,
}

/// A campaign's join link.
#[derive(Debug, Clone)]
pub struct JoinLink {
    /// Campaign name.
    pub name: String,
    /// `<public URL>/join/<code>`.
    pub url: String,
}

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The brand's currency (the charts' money is in it).
    pub currency: String,
    /// Unix ms of the month's start.
    pub month_start: i64,
    /// The month per currency, the brand's first.
    pub totals: Vec<(String, MonthTotals)>,
    /// Human clicks this month.
    pub clicks: i64,
    /// Of which unique.
    pub unique_clicks: i64,
    /// Each day from the month's start to today.
    pub days: Vec<DayPoint>,
    /// Top affiliates by commission this month.
    pub top: Vec<AffiliateTotals>,
    /// The newest conversions.
    pub recent: Vec<Conversion>,
    /// The launch checklist.
    pub checklist: Vec<Step>,
    /// When the tracking script first ran on the merchant's site.
    pub script_seen_at: Option<i64>,
    /// Join links of the newest campaigns.
    pub join_links: Vec<JoinLink>,
}

const DAY_MS: i64 = 86_400_000;

impl Core {
    /// The overview of the actor's brand for the month containing now.
    pub async fn overview(&self, actor: &Actor) -> CoreResult<Overview> {
        let now = self.now();
        let start = month_start(now);
        let end = now + 1;
        let merchant = self.brand(actor).await?;
        let currency = merchant.currency.clone();
        let daily = self.store.daily_conversions(&actor.merchant_id, actor.mode, start, end).await?;
        let clicks = self.store.daily_clicks(&actor.merchant_id, start, end).await?;
        let top = self.store.top_affiliates(&actor.merchant_id, actor.mode, start, 5).await?;
        // Neither list is counted nor given figures: the page shows only these rows.
        let recent = self.store.recent_conversions(&actor.merchant_id, actor.mode, 8).await?;
        let campaigns = self.store.newest_campaigns(&actor.merchant_id, 5).await?;
        let connections = self
            .store
            .list_integrations(
                &actor.merchant_id,
                PageRequest { limit: 1, offset: 0, sort: (), descending: false },
            )
            .await?;
        let affiliates = self.store.count_active_affiliates(&actor.merchant_id).await?;
        let any_sale = !recent.is_empty();

        let mut totals: BTreeMap<String, MonthTotals> = BTreeMap::new();
        let mut days = day_points(start, now);
        for row in &daily {
            let entry = totals.entry(row.currency.clone()).or_default();
            entry.revenue_minor = entry.revenue_minor.saturating_add(row.revenue_minor);
            entry.commissions_minor = entry.commissions_minor.saturating_add(row.commissions_minor);
            entry.conversions += row.conversions;
            if let Some(point) = point_of(&mut days, start, row.day) {
                point.conversions += row.conversions;
                // Money of other currencies is never added in: the charts are in the brand's.
                if row.currency == currency {
                    point.revenue_minor = point.revenue_minor.saturating_add(row.revenue_minor);
                    point.commissions_minor = point.commissions_minor.saturating_add(row.commissions_minor);
                }
            }
        }
        let (mut click_total, mut unique_total) = (0, 0);
        for DayClicks { day, clicks, unique_clicks } in clicks {
            click_total += clicks;
            unique_total += unique_clicks;
            if let Some(point) = point_of(&mut days, start, day) {
                point.clicks += clicks;
            }
        }
        let mut totals: Vec<(String, MonthTotals)> = totals.into_iter().collect();
        totals.sort_by_key(|(code, _)| *code != currency);
        if totals.is_empty() {
            totals.push((currency.clone(), MonthTotals::default()));
        }
        let details_done = merchant.website.is_some();
        let checklist = vec![
            Step { label: "Add your business details", done: details_done, href: "/merchant/settings" },
            Step { label: "Create a campaign", done: !campaigns.is_empty(), href: "/merchant/campaigns" },
            Step {
                label: "Connect a payment processor",
                done: connections.total > 0,
                href: "/merchant/integrations",
            },
            Step {
                label: "Approve your first affiliate",
                done: affiliates > 0,
                href: "/merchant/affiliates",
            },
            Step { label: "Record your first sale", done: any_sale, href: "/merchant/commissions" },
        ];
        let join_links = campaigns
            .iter()
            .map(|c| JoinLink {
                name: c.name.clone(),
                url: format!("{}/join/{}", self.public_url, c.tracking_code),
            })
            .collect();
        Ok(Overview {
            currency,
            month_start: start,
            totals,
            clicks: click_total,
            unique_clicks: unique_total,
            days,
            top,
            recent,
            checklist,
            script_seen_at: merchant.tracking_seen_at,
            join_links,
        })
    }
}

/// One empty point per day from `start`'s day to `now`'s.
fn day_points(start: i64, now: i64) -> Vec<DayPoint> {
    let first = start.div_euclid(DAY_MS);
    let last = now.div_euclid(DAY_MS);
    (first..=last).map(|day| DayPoint { day_start: day * DAY_MS, ..DayPoint::default() }).collect()
}

fn point_of(days: &mut [DayPoint], start: i64, day: i64) -> Option<&mut DayPoint> {
    let index = usize::try_from(day - start.div_euclid(DAY_MS)).ok()?;
    days.get_mut(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_has_one_point_per_day_so_far() {
        let start = 1_764_547_200_000; // 2025-12-01
        let days = day_points(start, start + 2 * DAY_MS + 5);
        assert_eq!(days.len(), 3);
        assert_eq!(days[2].day_start, start + 2 * DAY_MS);
        let mut days = days;
        assert!(point_of(&mut days, start, start / DAY_MS + 3).is_none());
        assert!(point_of(&mut days, start, start / DAY_MS - 1).is_none());
    }
}
