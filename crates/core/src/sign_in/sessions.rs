//! Sessions of either kind: opening one (a new random token at every login, so a token planted
//! before login is worthless after it), signing in with email and password, finding the live
//! session behind a cookie (extended while in use), and ending it.

use refline_domain::canonical_email;
use refline_store::{Session, SignInKind};

use super::kind::{operation, Step};
use crate::{
    ids::{new_secret_token, sha256_hex},
    team::SESSION_IDLE_MS,
    Core, CoreError, CoreResult, Door,
};

/// Where a request comes from, kept with the session and used by the throttle.
#[derive(Debug, Clone, Default)]
pub struct SessionContext {
    /// Client IP.
    pub ip: Option<String>,
    /// Browser user agent.
    pub user_agent: Option<String>,
}

/// A session just opened: the cookie value is shown to the browser once and never stored.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    /// The cookie value.
    pub token: String,
    /// Who signed in (the user's or person's id).
    pub owner_id: String,
    /// The brand a user's session opens on, if they have one.
    pub merchant_id: Option<String>,
}

/// A resolved session of either kind, as the operations that end it need it.
pub trait SignedInAs {
    /// Which kind of login it is.
    const KIND: SignInKind;
    /// The session.
    fn session(&self) -> &Session;
    /// The merchant its audit entries name (a user's brand being viewed; none for a person).
    fn audit_merchant(&self) -> Option<String>;
    /// The door its operations run through.
    fn door(&self) -> Door;
}

impl Core {
    /// Opens a session (after sign-up, login, joining or an accepted invitation). A person's
    /// browser address and device are remembered on each of their affiliate rows, so the
    /// self-referral check can compare customers with the affiliate.
    pub(crate) async fn open_session(
        &self,
        kind: SignInKind,
        owner_id: &str,
        merchant_id: Option<String>,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let token = new_secret_token();
        let now = self.now();
        let session = Session {
            id_hash: sha256_hex(token.as_bytes()),
            owner_id: owner_id.to_string(),
            merchant_id: merchant_id.clone(),
            csrf_token: new_secret_token(),
            ip_address: context.ip.clone(),
            user_agent: context.user_agent.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_IDLE_MS,
            revoked_at: None,
        };
        self.store.insert_session(kind, &session).await?;
        if kind == SignInKind::Person {
            self.remember_person_fingerprints(owner_id, context).await?;
        }
        Ok(OpenedSession { token, owner_id: owner_id.to_string(), merchant_id })
    }

    /// Signs in with email and password. Refused alike for an unknown email and a wrong
    /// password (`401 invalid_credentials`), and with `429 too_many_attempts` past the throttle
    /// ([`Core::check_password`]). Audited either way (`session.login` / `portal.login`). A
    /// user's session opens on their first brand.
    pub async fn sign_in(
        &self,
        kind: SignInKind,
        email: &str,
        password: &str,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let email = canonical_email(email);
        let login = self.login_by_email(kind, &email).await?;
        let owner = login.as_ref().map_or("", |l| l.id.as_str());
        let (merchant_id, door) = self.audit_place(kind, owner).await?;
        let result = async {
            let stored = login.as_ref().and_then(|l| l.password_hash.clone());
            self.check_password(kind, &email, password, stored, context).await?;
            match &login {
                Some(login) => self.open_session(kind, &login.id, merchant_id.clone(), context).await,
                None => Err(CoreError::internal("a password matched no login")),
            }
        }
        .await;
        let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.record_audit(merchant_id.as_deref(), &door, operation(kind, Step::Login), None, &outcome).await;
        result
    }

    /// The live session behind a cookie value, or `None` when it is unknown, revoked or
    /// expired. A session in use is extended (at most once a minute, to spare writes).
    pub async fn live_session(&self, kind: SignInKind, token: &str) -> CoreResult<Option<Session>> {
        let id_hash = sha256_hex(token.as_bytes());
        let Some(session) = self.store.get_session(kind, &id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let Some(touch) = session_liveness(session.revoked_at, session.expires_at, session.last_seen_at, now)
        else {
            return Ok(None);
        };
        if touch {
            self.store.touch_session(kind, &id_hash, now, now + SESSION_IDLE_MS).await?;
        }
        Ok(Some(session))
    }

    /// Ends a session (logout), audited (`session.logout` / `portal.logout`).
    pub async fn log_out<S: SignedInAs>(&self, signed_in: &S) -> CoreResult<()> {
        let result = self.end_session(signed_in).await;
        let merchant = signed_in.audit_merchant();
        let operation = operation(S::KIND, Step::Logout);
        self.record_audit(merchant.as_deref(), &signed_in.door(), operation, None, &result).await;
        result
    }

    /// Ends a session without an audit entry of its own: what logout does, and what a new login
    /// does to the session the browser held before it (a token from before a login never
    /// survives it).
    pub async fn end_session<S: SignedInAs>(&self, signed_in: &S) -> CoreResult<()> {
        Ok(self.store.revoke_session(S::KIND, &signed_in.session().id_hash, self.now()).await?)
    }
}

/// Whether a session still opens at `now`: `None` once revoked or expired, else whether to
/// extend it, at most once a minute to spare writes.
pub(crate) fn session_liveness(
    revoked_at: Option<i64>,
    expires_at: i64,
    last_seen_at: i64,
    now: i64,
) -> Option<bool> {
    if revoked_at.is_some() || expires_at <= now {
        return None;
    }
    Some(now - last_seen_at > 60_000)
}
