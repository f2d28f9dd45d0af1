//! [`refline_store::MailStore`]: the outgoing-mail outbox.

use async_trait::async_trait;
use refline_store::{MailStore, OutgoingMail, StoreResult};
use sqlx::Executor;

use crate::{Db, Engine};

/// Queues a mail, on its own or inside the transaction of the change that sends it.
pub(crate) async fn insert_mail<'e>(
    db: impl Executor<'e, Database = Db>,
    m: &OutgoingMail,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (id, merchant_id, kind, to_address, subject, body_text, status, attempts, \
            next_attempt_at, last_error, created_at, sent_at, body_html, from_name, unsubscribe_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&m.id)
    .bind(&m.merchant_id)
    .bind(&m.kind)
    .bind(&m.to_address)
    .bind(&m.subject)
    .bind(&m.body_text)
    .bind(&m.status)
    .bind(m.attempts)
    .bind(m.next_attempt_at)
    .bind(&m.last_error)
    .bind(m.created_at)
    .bind(m.sent_at)
    .bind(&m.body_html)
    .bind(&m.from_name)
    .bind(&m.unsubscribe_url)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait]
impl MailStore for Engine {
    async fn enqueue_mail(&self, mail: &OutgoingMail) -> StoreResult<()> {
        insert_mail(self.writer(), mail).await?;
        Ok(())
    }

    async fn claim_mail(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<OutgoingMail>> {
        Ok(sqlx::query_as(concat!(
            "UPDATE mail_outbox SET next_attempt_at = $2 WHERE id IN (\
                SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                ORDER BY next_attempt_at, id LIMIT $3 ",
            skip_locked!(),
            ") RETURNING *"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(self.writer())
        .await?)
    }

    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: &str,
        attempts: i64,
        next_attempt_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()> {
        let status = if next_attempt_at.is_some() { "pending" } else { "failed" };
        sqlx::query(
            "UPDATE mail_outbox SET status = $2, attempts = $3, next_attempt_at = COALESCE($4, next_attempt_at), \
                last_error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(error)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn recent_mail(&self, to_address: Option<&str>, limit: i64) -> StoreResult<Vec<OutgoingMail>> {
        Ok(sqlx::query_as(
            "SELECT * FROM mail_outbox WHERE ($1 IS NULL OR to_address = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(to_address)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn mail_backlog(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'")
            .fetch_one(self.reader())
            .await?)
    }
}
