//! [`refline_store::SessionStore`]: sessions, one-time tokens and failed logins, one copy of the
//! SQL for both kinds of people who sign in. A kind only chooses the tables ([`Tables`]); the
//! names come from this closed list, never from input, so building the text is safe.

use async_trait::async_trait;
use refline_store::{OneTimeToken, OutgoingMail, Session, SessionStore, SignInKind, StoreResult};
use sqlx::Executor;

use crate::{portable::mail::insert_mail, Db, Engine};

/// Where one kind's logins live.
struct Tables {
    /// The people, with `password_hash`.
    accounts: &'static str,
    /// Their sessions.
    sessions: &'static str,
    /// Their one-time tokens.
    tokens: &'static str,
    /// The column of sessions and tokens naming whose they are.
    owner: &'static str,
    /// Whether sessions and tokens carry a `merchant_id` (a user's brand).
    brand: bool,
}

fn tables(kind: SignInKind) -> Tables {
    match kind {
        SignInKind::User => Tables {
            accounts: "users",
            sessions: "user_sessions",
            tokens: "user_tokens",
            owner: "user_id",
            brand: true,
        },
        SignInKind::Person => Tables {
            accounts: "affiliate_people",
            sessions: "affiliate_sessions",
            tokens: "affiliate_tokens",
            owner: "person_id",
            brand: false,
        },
    }
}

impl Tables {
    /// `merchant_id`, or a typed NULL where the kind has none.
    fn brand_column(&self) -> &'static str {
        if self.brand {
            "merchant_id"
        } else {
            "CAST(NULL AS TEXT)"
        }
    }

    /// The columns of a [`Session`] row.
    fn session_row(&self) -> String {
        format!(
            "id_hash, {} AS owner_id, {} AS merchant_id, csrf_token, ip_address, user_agent, created_at, \
             last_seen_at, expires_at, revoked_at",
            self.owner,
            self.brand_column()
        )
    }

    /// The columns of a [`OneTimeToken`] row.
    fn token_row(&self) -> String {
        format!(
            "token_hash, purpose, {} AS owner_id, {} AS merchant_id, created_at, expires_at, used_at",
            self.owner,
            self.brand_column()
        )
    }
}

/// Inserts a token, on its own or inside a transaction.
pub(crate) async fn insert_token<'e>(
    db: impl Executor<'e, Database = Db>,
    kind: SignInKind,
    t: &OneTimeToken,
) -> sqlx::Result<()> {
    let tb = tables(kind);
    let (brand_column, brand_value) = if tb.brand { (", merchant_id", ", $7") } else { ("", "") };
    let sql = format!(
        "INSERT INTO {} (token_hash, purpose, {}, created_at, expires_at, used_at{brand_column}) \
         VALUES ($1, $2, $3, $4, $5, $6{brand_value})",
        tb.tokens, tb.owner
    );
    let query = sqlx::query(&sql)
        .bind(&t.token_hash)
        .bind(&t.purpose)
        .bind(&t.owner_id)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.used_at);
    let query = if tb.brand { query.bind(&t.merchant_id) } else { query };
    query.execute(db).await?;
    Ok(())
}

/// Revokes every live session of `owner` but `keep` (the one that changed the password, if
/// any): whoever knew the old password loses what it opened.
pub(crate) async fn revoke_sessions_of<'e>(
    db: impl Executor<'e, Database = Db>,
    kind: SignInKind,
    owner: &str,
    keep: Option<&str>,
    now: i64,
) -> sqlx::Result<u64> {
    let tb = tables(kind);
    let sql = format!(
        "UPDATE {} SET revoked_at = $2 WHERE {} = $1 AND revoked_at IS NULL \
         AND ($3 IS NULL OR id_hash <> $3)",
        tb.sessions, tb.owner
    );
    let done = sqlx::query(&sql).bind(owner).bind(now).bind(keep).execute(db).await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl SessionStore for Engine {
    async fn insert_session(&self, kind: SignInKind, s: &Session) -> StoreResult<()> {
        let tb = tables(kind);
        let (brand_column, brand_value) = if tb.brand { (", merchant_id", ", $10") } else { ("", "") };
        let sql = format!(
            "INSERT INTO {} (id_hash, {}, csrf_token, ip_address, user_agent, created_at, last_seen_at, \
                expires_at, revoked_at{brand_column}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9{brand_value})",
            tb.sessions, tb.owner
        );
        let query = sqlx::query(&sql)
            .bind(&s.id_hash)
            .bind(&s.owner_id)
            .bind(&s.csrf_token)
            .bind(&s.ip_address)
            .bind(&s.user_agent)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .bind(s.revoked_at);
        let query = if tb.brand { query.bind(&s.merchant_id) } else { query };
        query.execute(self.writer()).await?;
        Ok(())
    }

    async fn get_session(&self, kind: SignInKind, id_hash: &str) -> StoreResult<Option<Session>> {
        let tb = tables(kind);
        let sql = format!("SELECT {} FROM {} WHERE id_hash = $1", tb.session_row(), tb.sessions);
        Ok(sqlx::query_as(&sql).bind(id_hash).fetch_optional(self.reader()).await?)
    }

    async fn touch_session(
        &self,
        kind: SignInKind,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE {} SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1 AND revoked_at IS NULL",
            tables(kind).sessions
        );
        sqlx::query(&sql).bind(id_hash).bind(now).bind(expires_at).execute(self.writer()).await?;
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

    async fn revoke_session(&self, kind: SignInKind, id_hash: &str, now: i64) -> StoreResult<()> {
        let sql = format!(
            "UPDATE {} SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL",
            tables(kind).sessions
        );
        sqlx::query(&sql).bind(id_hash).bind(now).execute(self.writer()).await?;
        Ok(())
    }

    async fn insert_token(
        &self,
        kind: SignInKind,
        token: &OneTimeToken,
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_token(&mut *tx, kind, token).await?;
        if let Some(mail) = mail {
            insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn live_token(
        &self,
        kind: SignInKind,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<OneTimeToken>> {
        let tb = tables(kind);
        let sql = format!(
            "SELECT {} FROM {} WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            tb.token_row(),
            tb.tokens
        );
        Ok(sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(purpose)
            .bind(now)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn redeem_token(
        &self,
        kind: SignInKind,
        token_hash: &str,
        purpose: &str,
        now: i64,
        password_hash: Option<&str>,
    ) -> StoreResult<Option<OneTimeToken>> {
        let tb = tables(kind);
        let mut tx = self.begin_write().await?;
        // Single use: only the statement that flips `used_at` gets the row back.
        let sql = format!(
            "UPDATE {} SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL \
             AND expires_at > $3 RETURNING {}",
            tb.tokens,
            tb.token_row()
        );
        let token: Option<OneTimeToken> =
            sqlx::query_as(&sql).bind(token_hash).bind(purpose).bind(now).fetch_optional(&mut *tx).await?;
        let Some(token) = token else {
            return Ok(None);
        };
        if let Some(hash) = password_hash {
            let sql = format!("UPDATE {} SET password_hash = $2 WHERE id = $1", tb.accounts);
            sqlx::query(&sql).bind(&token.owner_id).bind(hash).execute(&mut *tx).await?;
        }
        if kind == SignInKind::User && purpose == "invite" {
            sqlx::query(
                "UPDATE team_members SET accepted_at = $3 WHERE merchant_id = $1 AND user_id = $2 \
                 AND accepted_at IS NULL",
            )
            .bind(&token.merchant_id)
            .bind(&token.owner_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if purpose == "reset" {
            revoke_sessions_of(&mut *tx, kind, &token.owner_id, None, now).await?;
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
