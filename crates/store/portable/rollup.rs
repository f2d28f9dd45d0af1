//! Writing the overview's rollups (see [`refline_store::rollup`]) inside the transaction of the
//! change that moves them. Callers write them last, just before committing: rollup rows are
//! then the last locks a transaction takes, in key order, so two writers cannot each hold one
//! the other waits for.

use refline_store::{
    rollup::{RollupDelta, Sums},
    StoreResult,
};

use super::{script::Script, Conn};

/// Rows per upsert statement: 11 binds a row, far below both engines' parameter limits.
const ROWS: usize = 200;

/// Adds `delta` to the rollups, on the writer's `shard` row of each key.
pub(super) async fn apply(conn: &mut Conn, delta: &RollupDelta, shard: i64) -> StoreResult<()> {
    let mut script = Script::new();
    apply_into(&mut script, delta, shard);
    Ok(script.run(conn).await?)
}

/// As [`apply`], as statements of `script`.
pub(super) fn apply_into<'q>(script: &mut Script<'q>, delta: &'q RollupDelta, shard: i64) {
    let days: Vec<_> = delta.days.iter().collect();
    for chunk in days.chunks(ROWS) {
        let q = script.statement(
            "INSERT INTO conversion_days (merchant_id, is_test, day, currency, shard, revenue_hi, \
                revenue_lo, commission_hi, commission_lo, conversions) ",
        );
        q.push_values(chunk, |mut row, ((merchant, mode, day, currency), s)| {
            row.push_bind(merchant.as_str())
                .push_bind(*mode)
                .push_bind(*day)
                .push_bind(currency.as_str())
                .push_bind(shard);
            push_sums(&mut row, s);
        });
        q.push(" ON CONFLICT (merchant_id, is_test, day, currency, shard) DO UPDATE SET ");
        q.push(add_sums("conversion_days"));
    }
    let months: Vec<_> = delta.months.iter().collect();
    for chunk in months.chunks(ROWS) {
        let q = script.statement(
            "INSERT INTO affiliate_months (merchant_id, is_test, month, affiliate_id, currency, shard, \
                revenue_hi, revenue_lo, commission_hi, commission_lo, conversions) ",
        );
        q.push_values(chunk, |mut row, ((merchant, mode, month, affiliate, currency), s)| {
            row.push_bind(merchant.as_str())
                .push_bind(*mode)
                .push_bind(*month)
                .push_bind(affiliate.as_str())
                .push_bind(currency.as_str())
                .push_bind(shard);
            push_sums(&mut row, s);
        });
        q.push(" ON CONFLICT (merchant_id, is_test, month, affiliate_id, currency, shard) DO UPDATE SET ");
        q.push(add_sums("affiliate_months"));
    }
}

/// The last five values of a rollup row: its sums.
fn push_sums(row: &mut sqlx::query_builder::Separated<'_, '_, crate::Db, &'static str>, s: &Sums) {
    row.push_bind(s.revenue_hi)
        .push_bind(s.revenue_lo)
        .push_bind(s.commission_hi)
        .push_bind(s.commission_lo)
        .push_bind(s.conversions);
}

/// The upsert's update of `table`'s sums: each part grows by the new row's.
fn add_sums(table: &str) -> String {
    ["revenue_hi", "revenue_lo", "commission_hi", "commission_lo", "conversions"]
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .join(", ")
}

/// Adds human clicks per merchant and day (`refline_store::rollup::click_days`).
pub(super) async fn add_click_days(conn: &mut Conn, days: &[(String, i64, i64, i64)]) -> StoreResult<()> {
    for chunk in days.chunks(ROWS) {
        let mut q =
            sqlx::QueryBuilder::new("INSERT INTO click_days (merchant_id, day, clicks, unique_clicks) ");
        q.push_values(chunk, |mut row, (merchant, day, clicks, unique)| {
            row.push_bind(merchant.as_str()).push_bind(*day).push_bind(*clicks).push_bind(*unique);
        });
        q.push(
            " ON CONFLICT (merchant_id, day) DO UPDATE SET \
                clicks = click_days.clicks + excluded.clicks, \
                unique_clicks = click_days.unique_clicks + excluded.unique_clicks",
        );
        q.build().persistent(keep_batch_statements!()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The shard row a single change (not a batch writer's) adds to: spread by conversion id, so
/// concurrent reviews of one merchant's day rarely meet on one row.
pub(super) fn shard_of(id: &str) -> i64 {
    // FNV-1a: a stable spread, not a security boundary.
    let hash =
        id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    i64::try_from(hash % SHARDS).unwrap_or(0)
}

/// Shards single changes spread over.
const SHARDS: u64 = 8;
