//! [`refline_store::WebhookStore`], and writing events into the outbox inside the transaction
//! of the change that caused them.

use std::collections::HashMap;

use async_trait::async_trait;
use refline_store::{
    outbox::{self, EndpointRow, NewDelivery},
    webhook, AttemptOutcome, OutboxEvent, Page, PageRequest, StoreResult, WebhookAttempt, WebhookDelivery,
    WebhookEndpoint, WebhookStore,
};

use super::{script::Script, Conn};
use crate::Engine;

/// A delivery the worker may claim at `$1` (now): pending, due, and not leased to a worker. One
/// text for the claim and for the reader's "is anything due" before it, so they cannot disagree.
macro_rules! due_delivery {
    () => {
        "status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1)"
    };
}

/// Fans `events` out to their merchants' subscribed endpoints inside the open transaction
/// `conn`, so an event exists exactly when its change does.
pub(super) async fn emit_events(conn: &mut Conn, events: &[OutboxEvent]) -> StoreResult<()> {
    let rows = deliveries_of(conn, events).await?;
    let mut script = Script::new();
    insert_deliveries(&mut script, &rows);
    Ok(script.run(conn).await?)
}

/// The delivery rows `events` fan out to: one read of their merchants' endpoints, inside the
/// open transaction `conn` (none when `events` is empty). [`insert_deliveries`] writes them.
pub(super) async fn deliveries_of(conn: &mut Conn, events: &[OutboxEvent]) -> StoreResult<Vec<NewDelivery>> {
    let merchants = outbox::merchants_of(events);
    // Every merchant's endpoints in one read (a batch of sales names many merchants, most with
    // no endpoint at all), not one read per merchant.
    let mut endpoints: HashMap<String, Vec<EndpointRow>> = HashMap::new();
    for chunk in merchants.chunks(500) {
        let mut query = sqlx::QueryBuilder::new(
            "SELECT merchant_id, id, events, status FROM webhook_endpoints WHERE merchant_id IN (",
        );
        let mut list = query.separated(", ");
        for merchant_id in chunk {
            list.push_bind(*merchant_id);
        }
        query.push(")");
        let found: Vec<(String, String, String, String)> =
            query.build_query_as().persistent(keep_batch_statements!()).fetch_all(&mut *conn).await?;
        for (merchant_id, id, subscribed, status) in found {
            endpoints.entry(merchant_id).or_default().push((id, subscribed, status));
        }
    }
    let mut rows = Vec::new();
    for merchant_id in merchants {
        if let Some(endpoints) = endpoints.get(merchant_id) {
            rows.extend(outbox::deliveries_for(events, merchant_id, endpoints));
        }
    }
    Ok(rows)
}

/// Inserts delivery `rows` (from [`deliveries_of`]) as statements of `script`.
pub(super) fn insert_deliveries<'q>(script: &mut Script<'q>, rows: &'q [NewDelivery]) {
    // 9 binds a row; 500 rows stay far below both engines' parameter limits.
    for chunk in rows.chunks(500) {
        let query = script.statement(
            "INSERT INTO webhook_deliveries (id, merchant_id, endpoint_id, event, payload, status, \
                attempts, next_attempt_at, created_at) ",
        );
        query.push_values(chunk, |mut row, d| {
            row.push_bind(&d.id)
                .push_bind(&d.merchant_id)
                .push_bind(&d.endpoint_id)
                .push_bind(d.event)
                .push_bind(&d.payload)
                .push_bind(d.status)
                .push_bind(0_i64)
                .push_bind(d.at)
                .push_bind(d.at);
        });
    }
}

#[async_trait]
impl WebhookStore for Engine {
    async fn insert_webhook_endpoint(&self, e: &WebhookEndpoint) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, merchant_id, url, events, secret, previous_secret, \
                previous_secret_until, status, disabled_reason, consecutive_failures, created_at, \
                updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(&e.url)
        .bind(&e.events)
        .bind(&e.secret)
        .bind(&e.previous_secret)
        .bind(e.previous_secret_until)
        .bind(&e.status)
        .bind(&e.disabled_reason)
        .bind(e.consecutive_failures)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_webhook_endpoint(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(sqlx::query_as("SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_webhook_endpoints(
        &self,
        merchant_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<WebhookEndpoint>> {
        let sql = format!(
            "SELECT * FROM webhook_endpoints WHERE merchant_id = $1 \
             ORDER BY created_at {dir}, id {dir} LIMIT $2 OFFSET $3",
            dir = page.direction()
        );
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn update_webhook_endpoint(&self, e: &WebhookEndpoint) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET url = $3, events = $4, secret = $5, previous_secret = $6, \
                previous_secret_until = $7, updated_at = $8 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(&e.merchant_id)
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.events)
        .bind(&e.secret)
        .bind(&e.previous_secret)
        .bind(e.previous_secret_until)
        .bind(e.updated_at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn reactivate_webhook_endpoint(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        held_since: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET status = 'active', disabled_reason = NULL, \
                consecutive_failures = 0, updated_at = $3 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant_id)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2 \
             WHERE endpoint_id = $1 AND status = 'held' AND created_at >= $3",
        )
        .bind(id)
        .bind(now)
        .bind(held_since)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed', \
                last_error = 'endpoint was disabled past the retention window' \
             WHERE endpoint_id = $1 AND status = 'held'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_webhook_endpoint(&self, merchant_id: &str, id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let owned: Option<String> =
            sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2")
                .bind(merchant_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if owned.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
                (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_due_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<(WebhookDelivery, WebhookEndpoint)>> {
        // A reader first: the worker is woken after every live sale, and most merchants have no
        // endpoint, so most claims find nothing. Asked of the writer, each of them would take the
        // one write connection (SQLite) between two batches of sales. The claim below still
        // decides; this only skips it when nothing can be claimed.
        let due: Option<String> = sqlx::query_scalar(concat!(
            "SELECT id FROM webhook_deliveries WHERE ",
            due_delivery!(),
            " LIMIT 1"
        ))
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let deliveries: Vec<WebhookDelivery> = sqlx::query_as(concat!(
            "UPDATE webhook_deliveries SET locked_until = $2 WHERE id IN \
                (SELECT id FROM webhook_deliveries WHERE ",
            due_delivery!(),
            " ORDER BY next_attempt_at, id LIMIT $3 ",
            skip_locked!(),
            ") RETURNING *"
        ))
        .bind(now)
        .bind(now + lease_ms)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new("SELECT * FROM webhook_endpoints WHERE id IN (");
        let mut ids = query.separated(", ");
        for d in &deliveries {
            ids.push_bind(&d.endpoint_id);
        }
        query.push(")");
        let endpoints: Vec<WebhookEndpoint> =
            query.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.writer()).await?;
        Ok(webhook::with_endpoints(deliveries, &endpoints))
    }

    async fn finish_attempt(&self, o: &AttemptOutcome) -> StoreResult<()> {
        let a = &o.attempt;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, status_code, duration_ms, \
                response_body, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&a.delivery_id)
        .bind(&a.endpoint_id)
        .bind(a.attempt)
        .bind(a.status_code)
        .bind(a.duration_ms)
        .bind(&a.response_body)
        .bind(&a.error)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, \
                locked_until = NULL, last_status_code = $5, last_error = $6, delivered_at = $7 \
             WHERE id = $1",
        )
        .bind(&a.delivery_id)
        .bind(o.delivery_status())
        .bind(a.attempt)
        .bind(o.retry_at.unwrap_or(a.created_at))
        .bind(a.status_code)
        .bind(&a.error)
        .bind(o.success.then_some(a.created_at))
        .execute(&mut *tx)
        .await?;
        if o.success {
            sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1")
                .bind(&a.endpoint_id)
                .execute(&mut *tx)
                .await?;
        } else {
            let failures: i64 = sqlx::query_scalar(
                "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 \
                 WHERE id = $1 RETURNING consecutive_failures",
            )
            .bind(&a.endpoint_id)
            .fetch_one(&mut *tx)
            .await?;
            if o.disables_endpoint(failures) {
                sqlx::query(
                    "UPDATE webhook_endpoints SET status = 'disabled', updated_at = $2, \
                        disabled_reason = 'disabled after repeated failed deliveries' \
                     WHERE id = $1 AND status = 'active'",
                )
                .bind(&a.endpoint_id)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'held' WHERE endpoint_id = $1 AND status = 'pending'",
                )
                .bind(&a.endpoint_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_delivery(&self, merchant_id: &str, id: &str) -> StoreResult<Option<WebhookDelivery>> {
        Ok(sqlx::query_as("SELECT * FROM webhook_deliveries WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_deliveries(
        &self,
        merchant_id: &str,
        endpoint_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<WebhookDelivery>> {
        let sql = format!(
            "SELECT * FROM webhook_deliveries WHERE merchant_id = $1 AND endpoint_id = $2 \
             ORDER BY created_at {dir}, id {dir} LIMIT $3 OFFSET $4",
            dir = page.direction()
        );
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(endpoint_id)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE merchant_id = $1 AND endpoint_id = $2",
        )
        .bind(merchant_id)
        .bind(endpoint_id)
        .fetch_one(self.reader())
        .await?;
        Ok(Page { items, total })
    }

    async fn delivery_attempts(&self, delivery_ids: &[String]) -> StoreResult<Vec<WebhookAttempt>> {
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new(
            "SELECT delivery_id, endpoint_id, attempt, status_code, duration_ms, response_body, error, \
                created_at FROM webhook_attempts WHERE delivery_id IN (",
        );
        let mut ids = query.separated(", ");
        for id in delivery_ids {
            ids.push_bind(id);
        }
        query.push(") ORDER BY delivery_id, attempt");
        Ok(query.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?)
    }

    async fn replay_delivery(
        &self,
        merchant_id: &str,
        endpoint_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $4 \
             WHERE merchant_id = $1 AND endpoint_id = $2 AND id = $3 \
             AND (locked_until IS NULL OR locked_until < $4)",
        )
        .bind(merchant_id)
        .bind(endpoint_id)
        .bind(id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn emit_events(&self, events: &[OutboxEvent]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        emit_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }
}
