//! [`refline_store::SessionStore`]: sessions, one-time tokens and failed logins.

use async_trait::async_trait;
use refline_store::{OutgoingMail, Session, SessionStore, StoreResult, UserToken};
use sqlx::Executor;

use crate::{portable::mail::insert_mail, Db, Engine};

/// Inserts a token, on its own or inside a transaction.
pub(crate) async fn insert_token<'e>(
    db: impl Executor<'e, Database = Db>,
    t: &UserToken,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_tokens (token_hash, purpose, user_id, merchant_id, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&t.token_hash)
    .bind(&t.purpose)
    .bind(&t.user_id)
    .bind(&t.merchant_id)
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.used_at)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait]
impl SessionStore for Engine {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_sessions (id_hash, user_id, merchant_id, csrf_token, ip_address, user_agent, \
                created_at, last_seen_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(&s.merchant_id)
        .bind(&s.csrf_token)
        .bind(&s.ip_address)
        .bind(&s.user_agent)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(s.revoked_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        Ok(sqlx::query_as("SELECT * FROM user_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn touch_session(&self, id_hash: &str, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE user_sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1 AND revoked_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .bind(expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn set_session_brand(&self, id_hash: &str, merchant_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE user_sessions SET merchant_id = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(merchant_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn revoke_session(&self, id_hash: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE user_sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL")
            .bind(id_hash)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let done =
            sqlx::query("UPDATE user_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user_id)
                .bind(now)
                .execute(self.writer())
                .await?;
        Ok(done.rows_affected())
    }

    async fn insert_token(&self, token: &UserToken, mail: Option<&OutgoingMail>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_token(&mut *tx, token).await?;
        if let Some(mail) = mail {
            insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn live_token(&self, token_hash: &str, purpose: &str, now: i64) -> StoreResult<Option<UserToken>> {
        Ok(sqlx::query_as(
            "SELECT * FROM user_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL \
             AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn redeem_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
        password_hash: Option<&str>,
    ) -> StoreResult<Option<UserToken>> {
        let mut tx = self.begin_write().await?;
        let token: Option<UserToken> = sqlx::query_as(
            "UPDATE user_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL \
             AND expires_at > $3 RETURNING *",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        if let Some(hash) = password_hash {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(&token.user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        if purpose == "invite" {
            sqlx::query(
                "UPDATE team_members SET accepted_at = $3 WHERE merchant_id = $1 AND user_id = $2 \
                 AND accepted_at IS NULL",
            )
            .bind(&token.merchant_id)
            .bind(&token.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if purpose == "reset" {
            // Whoever knew the old password loses every session it opened.
            sqlx::query("UPDATE user_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(&token.user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(token))
    }

    async fn record_login_failure(
        &self,
        email: &str,
        ip: &str,
        now: i64,
        forget_before: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failures WHERE created_at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (email, ip_address, created_at) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(ip)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn count_login_failures(&self, email: &str, ip: &str, since: i64) -> StoreResult<(i64, i64)> {
        let by_email: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND created_at >= $2")
                .bind(email)
                .bind(since)
                .fetch_one(self.reader())
                .await?;
        let by_ip: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE ip_address = $1 AND created_at >= $2",
        )
        .bind(ip)
        .bind(since)
        .fetch_one(self.reader())
        .await?;
        Ok((by_email, by_ip))
    }
}
