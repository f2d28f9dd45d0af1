//! [`refline_store::ClusterStore`]: the counters nodes share.

use std::collections::HashSet;

use async_trait::async_trait;
use refline_store::{ClusterStore, RateLease, StoreResult};

use crate::Engine;

#[async_trait]
impl ClusterStore for Engine {
    async fn lease_rate(&self, bucket: &str, window: i64, limit: u32, want: u32) -> StoreResult<RateLease> {
        // Every SET expression reads the row as it was before the statement (both engines), so
        // `last_grant` and `used` are computed from the same old `used`; a concurrent lease on
        // PostgreSQL waits for the row lock and then sees this one's result. CASE instead of
        // LEAST/MIN, which are spelled differently on the two engines.
        let (used, granted): (i64, i64) = sqlx::query_as(
            "INSERT INTO rate_windows (bucket, window_start, used, last_grant) \
             VALUES ($1, $2, CASE WHEN $4 < $3 THEN $4 ELSE $3 END, CASE WHEN $4 < $3 THEN $4 ELSE $3 END) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET \
               last_grant = CASE WHEN rate_windows.used + $4 <= $3 THEN $4 \
                                 WHEN rate_windows.used < $3 THEN $3 - rate_windows.used ELSE 0 END, \
               used = CASE WHEN rate_windows.used + $4 <= $3 THEN rate_windows.used + $4 \
                           WHEN rate_windows.used < $3 THEN $3 ELSE rate_windows.used END \
             RETURNING used, last_grant",
        )
        .bind(bucket)
        .bind(window)
        .bind(i64::from(limit))
        .bind(i64::from(want))
        .fetch_one(self.writer())
        .await?;
        Ok(RateLease {
            granted: u32::try_from(granted.max(0)).unwrap_or(u32::MAX),
            used: u32::try_from(used.max(0)).unwrap_or(u32::MAX),
        })
    }

    async fn claim_unique_visits(&self, visits: &[(i64, i64)], horizon_ms: i64) -> StoreResult<Vec<i64>> {
        // One row per key: PostgreSQL refuses an upsert that touches a row twice, and a later
        // click of the same key in one batch is within the horizon of the first anyway.
        let mut keys = HashSet::with_capacity(visits.len());
        let first: Vec<(i64, i64)> = visits.iter().copied().filter(|(key, _)| keys.insert(*key)).collect();
        if first.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new("INSERT INTO unique_visits (visit_key, seen_at) ");
        query.push_values(&first, |mut row, (key, at)| {
            row.push_bind(*key).push_bind(*at);
        });
        // Inserted (never seen) or updated (last unique click older than the horizon) rows are
        // returned; a row the WHERE keeps as it was is not.
        query.push(
            " ON CONFLICT (visit_key) DO UPDATE SET seen_at = excluded.seen_at \
              WHERE unique_visits.seen_at <= excluded.seen_at - ",
        );
        query.push_bind(horizon_ms);
        query.push(" RETURNING visit_key");
        Ok(query.build_query_scalar().persistent(keep_batch_statements!()).fetch_all(self.writer()).await?)
    }

    async fn sweep_cluster_state(&self, window_before: i64, visits_before: i64) -> StoreResult<u64> {
        let windows = sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
            .bind(window_before)
            .execute(self.writer())
            .await?
            .rows_affected();
        let visits = sqlx::query("DELETE FROM unique_visits WHERE seen_at < $1")
            .bind(visits_before)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(windows + visits)
    }
}
