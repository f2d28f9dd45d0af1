//! Signing in and out, and what a session may see: server-side sessions whose cookie holds a
//! random token (only its SHA-256 is stored), a CSRF token per session, a new session at every
//! login (so a token planted before login is worthless after it), and the login throttle.

use refline_domain::{canonical_email, login_allowed, Grants, Mode, LOGIN_WINDOW_MS};
use refline_store::{BrandAccess, Session, User};

use crate::{
    ids::{new_secret_token, sha256_hex},
    team::{password, SESSION_IDLE_MS},
    Actor, Core, CoreError, CoreResult, Door, ErrorKind, Rights,
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
    /// Who signed in.
    pub user_id: String,
    /// The brand the session opens on, if the person has one.
    pub merchant_id: Option<String>,
}

/// A valid session with the person and the brands they may open.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// The person.
    pub user: User,
    /// Every brand they may open (accepted memberships), oldest first.
    pub brands: Vec<BrandAccess>,
}

impl SignedIn {
    /// The brand being viewed: the session's, else the first active one, else the first.
    pub fn current(&self) -> Option<&BrandAccess> {
        let chosen = self.session.merchant_id.as_deref();
        chosen
            .and_then(|id| self.brands.iter().find(|b| b.merchant.id == id))
            .or_else(|| self.brands.iter().find(|b| b.merchant.archived_at.is_none()))
            .or_else(|| self.brands.first())
    }

    /// The actor for the brand being viewed: live data, full program rights, the person's grants.
    pub fn actor(&self) -> Option<Actor> {
        let brand = self.current()?;
        Some(Actor {
            merchant_id: brand.merchant.id.clone(),
            mode: Mode::Live,
            rights: Rights::ReadWrite,
            currency: brand.merchant.currency.clone(),
            door: Door::Dashboard { user_id: self.user.id.clone(), grants: brand.grants() },
        })
    }
}

impl Core {
    /// Opens a session for `user` (after sign-up, login or an accepted invitation).
    pub(crate) async fn open_session(
        &self,
        user_id: &str,
        merchant_id: Option<String>,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let token = new_secret_token();
        let now = self.now();
        let session = Session {
            id_hash: sha256_hex(token.as_bytes()),
            user_id: user_id.to_string(),
            merchant_id: merchant_id.clone(),
            csrf_token: new_secret_token(),
            ip_address: context.ip.clone(),
            user_agent: context.user_agent.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_IDLE_MS,
            revoked_at: None,
        };
        self.store.insert_session(&session).await?;
        Ok(OpenedSession { token, user_id: user_id.to_string(), merchant_id })
    }

    /// Signs in with email and password. Refused alike for an unknown email and a wrong
    /// password (`401 invalid_credentials`), and with `429 too_many_attempts` once the account
    /// or the address has failed too often in the last 15 minutes. Both outcomes are audited.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let email = canonical_email(email);
        let user = self.store.find_user_by_email(&email).await?;
        let brand = match &user {
            Some(user) => self.first_brand(&user.id).await?,
            None => None,
        };
        let merchant_id = brand.as_ref().map(|b| b.merchant.id.clone());
        let door = Door::Dashboard {
            user_id: user.as_ref().map_or_else(String::new, |u| u.id.clone()),
            grants: brand.as_ref().map_or(Grants::OWNER, BrandAccess::grants),
        };
        let result = self.log_in_work(&email, password, user, merchant_id.clone(), context).await;
        self.record_audit(
            merchant_id.as_deref(),
            &door,
            "session.login",
            None,
            &result.as_ref().map(|_| ()).map_err(Clone::clone),
        )
        .await;
        result
    }

    async fn log_in_work(
        &self,
        email: &str,
        password: &str,
        user: Option<User>,
        merchant_id: Option<String>,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        self.check_password(email, password, stored, context).await?;
        match user {
            Some(user) => self.open_session(&user.id, merchant_id, context).await,
            None => Err(invalid_credentials()),
        }
    }

    /// The login rule both sign-in doors share (the dashboard's and the affiliate portal's):
    /// `429 too_many_attempts` once `throttle_key` (the account) or the client's address has
    /// failed too often in the last 15 minutes; otherwise `password` is checked against
    /// `stored` (an unknown account, `None`, takes as long to refuse) and a failure is counted
    /// and answered `401 invalid_credentials`.
    pub(crate) async fn check_password(
        &self,
        throttle_key: &str,
        password: &str,
        stored: Option<String>,
        context: &SessionContext,
    ) -> CoreResult<()> {
        let now = self.now();
        let ip = context.ip.clone().unwrap_or_default();
        let (by_account, by_ip) =
            self.store.count_login_failures(throttle_key, &ip, now - LOGIN_WINDOW_MS).await?;
        if !login_allowed(by_account, by_ip) {
            return Err(CoreError::new(
                ErrorKind::RateLimited,
                "too_many_attempts",
                "Too many failed logins; wait 15 minutes or reset your password",
            ));
        }
        if password::verify(password.to_string(), stored).await {
            return Ok(());
        }
        self.store.record_login_failure(throttle_key, &ip, now, now - LOGIN_WINDOW_MS).await?;
        Err(invalid_credentials())
    }

    /// The signed-in person behind a cookie value, or `None` when the session is unknown,
    /// revoked or expired. A session in use is extended (at most once a minute, to spare writes).
    pub async fn resolve_session(&self, token: &str) -> CoreResult<Option<SignedIn>> {
        let id_hash = sha256_hex(token.as_bytes());
        let Some(session) = self.store.get_session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let Some(touch) = session_liveness(session.revoked_at, session.expires_at, session.last_seen_at, now)
        else {
            return Ok(None);
        };
        let Some(user) = self.store.get_user(&session.user_id).await? else {
            return Ok(None);
        };
        if touch {
            self.store.touch_session(&id_hash, now, now + SESSION_IDLE_MS).await?;
        }
        let brands = self.store.brands_of_user(&user.id).await?;
        Ok(Some(SignedIn { session, user, brands }))
    }

    /// Ends a session (logout).
    pub async fn log_out(&self, signed_in: &SignedIn) -> CoreResult<()> {
        let result = self.end_session(signed_in).await;
        let merchant = signed_in.current().map(|b| b.merchant.id.clone());
        let door = Door::Dashboard {
            user_id: signed_in.user.id.clone(),
            grants: signed_in.current().map_or(Grants::OWNER, BrandAccess::grants),
        };
        self.record_audit(merchant.as_deref(), &door, "session.logout", None, &result).await;
        result
    }

    /// Ends a session without an audit entry of its own: what logout does, and what a new login
    /// does to the session the browser held before it (a token from before a login never
    /// survives it).
    pub async fn end_session(&self, signed_in: &SignedIn) -> CoreResult<()> {
        Ok(self.store.revoke_session(&signed_in.session.id_hash, self.now()).await?)
    }

    /// The first brand (oldest) a person is on, the one their audit entries name when no brand
    /// is being viewed (login, password reset).
    pub(crate) async fn first_brand(&self, user_id: &str) -> CoreResult<Option<BrandAccess>> {
        Ok(self.store.brands_of_user(user_id).await?.into_iter().next())
    }

    /// Points the session at another of the person's brands; `404` for a brand they are not on
    /// (another tenant's brand looks like no brand at all).
    pub async fn switch_brand(&self, signed_in: &SignedIn, merchant_id: &str) -> CoreResult<()> {
        if !signed_in.brands.iter().any(|b| b.merchant.id == merchant_id) {
            return Err(CoreError::not_found("brand"));
        }
        self.store.set_session_brand(&signed_in.session.id_hash, merchant_id).await?;
        Ok(())
    }
}

/// `401 invalid_credentials`: the same refusal for an unknown email and a wrong password.
fn invalid_credentials() -> CoreError {
    CoreError::new(ErrorKind::Unauthenticated, "invalid_credentials", "Wrong email or password")
}

/// Whether a session (dashboard or portal) still opens at `now`: `None` once revoked or expired,
/// else whether to extend it, at most once a minute to spare writes.
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
