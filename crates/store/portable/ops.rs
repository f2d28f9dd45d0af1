//! [`refline_store::OpsStore`]: readiness, queue backlogs and pool figures for the operator.

use async_trait::async_trait;
use refline_store::{Backlogs, OpsStore, PoolStats, Readiness, StoreResult};

use crate::Engine;

#[async_trait]
impl OpsStore for Engine {
    async fn readiness(&self) -> StoreResult<Readiness> {
        // sqlx's own bookkeeping table, the same on both engines; a failed migration stays in
        // it with `success` false, which counts as not applied.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(self.reader())
            .await?;
        let expected: Vec<i64> = Engine::migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .collect();
        let missing: Vec<i64> = expected.iter().copied().filter(|v| !applied.contains(v)).collect();
        Ok(Readiness { expected: expected.len(), applied: expected.len() - missing.len(), missing })
    }

    async fn backlogs(&self, now_ms: i64) -> StoreResult<Backlogs> {
        // One round trip; each count is served by the queue's (status, next_attempt_at) index.
        let (webhooks_pending, webhooks_due, webhooks_held, inbox_pending, mail_pending): (
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT \
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'), \
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1), \
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'held'), \
                (SELECT COUNT(*) FROM processor_inbox WHERE status IN ('pending', 'waiting')), \
                (SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending')",
        )
        .bind(now_ms)
        .fetch_one(self.reader())
        .await?;
        Ok(Backlogs { webhooks_pending, webhooks_due, webhooks_held, inbox_pending, mail_pending })
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        self.named_pools()
            .into_iter()
            .map(|(name, pool)| PoolStats {
                name,
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            })
            .collect()
    }
}
