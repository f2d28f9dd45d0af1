//! Sessions (server-side, so any node serves any session), one-time tokens (password reset,
//! invitations, a first password) and failed logins for the login throttle — one contract for
//! both kinds of people who sign in ([`SignInKind`]): merchant users (the dashboard) and
//! affiliate people (the portal). Each kind keeps its own tables; the rules are written once.

use sqlx::FromRow;

use crate::{OutgoingMail, StoreResult};

/// Who signs in: the kind decides which tables a session or token lives in, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignInKind {
    /// A merchant's user (`users`, `user_sessions`, `user_tokens`): the dashboard.
    User,
    /// An affiliate person (`affiliate_people`, `affiliate_sessions`, `affiliate_tokens`): the
    /// portal.
    Person,
}

/// Sessions, tokens and failed logins.
#[async_trait::async_trait]
pub trait SessionStore {
    /// Stores a new session.
    async fn insert_session(&self, kind: SignInKind, session: &Session) -> StoreResult<()>;
    /// A session by the hash of its cookie token, revoked or not.
    async fn get_session(&self, kind: SignInKind, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Marks a session used at `now`, extending it to `expires_at`.
    async fn touch_session(
        &self,
        kind: SignInKind,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Points a user's session at another brand.
    async fn set_session_brand(&self, id_hash: &str, merchant_id: &str) -> StoreResult<()>;
    /// Revokes one session.
    async fn revoke_session(&self, kind: SignInKind, id_hash: &str, now: i64) -> StoreResult<()>;
    /// Stores a one-time token and, in the same transaction, the mail that carries it.
    async fn insert_token(
        &self,
        kind: SignInKind,
        token: &OneTimeToken,
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<()>;
    /// A token by hash if it is unused and unexpired at `now`.
    async fn live_token(
        &self,
        kind: SignInKind,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<OneTimeToken>>;
    /// Uses a token: marks it used, sets the owner's password when `password_hash` is given,
    /// accepts the token's brand membership for a user's invitation, and revokes every session
    /// of the owner on a password reset — all in one transaction. `None` when the token was
    /// used, expired or unknown (a second use loses the race).
    async fn redeem_token(
        &self,
        kind: SignInKind,
        token_hash: &str,
        purpose: &str,
        now: i64,
        password_hash: Option<&str>,
    ) -> StoreResult<Option<OneTimeToken>>;
    /// Records a failed login and forgets failures older than `forget_before`.
    async fn record_login_failure(
        &self,
        email: &str,
        ip: &str,
        now: i64,
        forget_before: i64,
    ) -> StoreResult<()>;
    /// Failed logins since `since`: for the email, and from the address.
    async fn count_login_failures(&self, email: &str, ip: &str, since: i64) -> StoreResult<(i64, i64)>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// A signed-in browser.
#[derive(Debug, Clone, FromRow)]
pub struct Session {
    /// Hex SHA-256 of the cookie token.
    pub id_hash: String,
    /// Who signed in: the user's or the person's id.
    pub owner_id: String,
    /// The brand being viewed (users only; always `None` for a person).
    pub merchant_id: Option<String>,
    /// The token every form of this session carries (`csrf_token`).
    pub csrf_token: String,
    /// Where the login came from.
    pub ip_address: Option<String>,
    /// The browser.
    pub user_agent: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Last request (unix ms).
    pub last_seen_at: i64,
    /// When it lapses unless used (unix ms).
    pub expires_at: i64,
    /// When it was ended (logout, password change).
    pub revoked_at: Option<i64>,
}

/// A one-time token sent by mail or printed by the command line. Only its hash is stored.
#[derive(Debug, Clone, FromRow)]
pub struct OneTimeToken {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// `reset`, and for users `invite` or `setup`.
    pub purpose: String,
    /// Whose it is: the user's or the person's id.
    pub owner_id: String,
    /// The brand a user's invitation is for (always `None` for a person).
    pub merchant_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// When it was used.
    pub used_at: Option<i64>,
}
