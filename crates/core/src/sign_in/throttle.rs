//! The password check of every login and of a signed-in password change, with its throttle.

use refline_domain::{login_allowed, LOGIN_WINDOW_MS};
use refline_store::SignInKind;

use super::kind::throttle_key;
use crate::{team::password, Core, CoreError, CoreResult, ErrorKind};

impl Core {
    /// `429 too_many_attempts` once the login (its email, counted per kind) or the client's
    /// address has failed too often in the last 15 minutes; otherwise `password` is checked
    /// against `stored` (an unknown login, `None`, takes as long to refuse) and a failure is
    /// counted and answered `401 invalid_credentials`.
    pub(crate) async fn check_password(
        &self,
        kind: SignInKind,
        email: &str,
        password: &str,
        stored: Option<String>,
        context: &super::SessionContext,
    ) -> CoreResult<()> {
        let key = throttle_key(kind, email);
        let now = self.now();
        let ip = context.ip.clone().unwrap_or_default();
        let (by_account, by_ip) = self.store.count_login_failures(&key, &ip, now - LOGIN_WINDOW_MS).await?;
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
        self.store.record_login_failure(&key, &ip, now, now - LOGIN_WINDOW_MS).await?;
        Err(invalid_credentials())
    }
}

/// `401 invalid_credentials`: the same refusal for an unknown email and a wrong password.
fn invalid_credentials() -> CoreError {
    CoreError::new(ErrorKind::Unauthenticated, "invalid_credentials", "Wrong email or password")
}
