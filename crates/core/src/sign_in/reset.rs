//! Password reset by emailed link, for either kind. Asking never says whether the email has a
//! login (so the form cannot be used to find out who is a customer or an affiliate); the link
//! works once, for an hour, and using it ends every session of the person.

use refline_domain::{canonical_email, password_problem};
use refline_store::{OneTimeToken, SignInKind};

use super::kind::{operation, Step};
use crate::{
    ids::{new_secret_token, sha256_hex},
    team::{password, RESET_TTL_MS},
    Core, CoreError, CoreResult, Issue,
};

impl Core {
    /// Queues a reset mail when `email` has a login of this kind; answers `Ok` either way.
    pub async fn request_password_reset(&self, kind: SignInKind, email: &str) -> CoreResult<()> {
        let email = canonical_email(email);
        let Some(login) = self.login_by_email(kind, &email).await? else {
            return Ok(());
        };
        let token = new_secret_token();
        let now = self.now();
        let stored = OneTimeToken {
            token_hash: sha256_hex(token.as_bytes()),
            purpose: "reset".into(),
            owner_id: login.id.clone(),
            merchant_id: None,
            created_at: now,
            expires_at: now + RESET_TTL_MS,
            used_at: None,
        };
        let mail = self.reset_mail_for(kind, &login.email, &token);
        let result = self.store.insert_token(kind, &stored, Some(&mail)).await.map_err(CoreError::from);
        if result.is_ok() {
            self.effects.mail_written();
        }
        let (merchant, door) = self.audit_place(kind, &login.id).await?;
        let operation = operation(kind, Step::ResetRequest);
        self.record_audit(merchant.as_deref(), &door, operation, Some(&login.id), &result).await;
        result
    }

    /// The email a live reset (or a user's first-password) link is for, or `404 link_expired`
    /// when the link was used, expired or never existed.
    pub async fn reset_link_email(&self, kind: SignInKind, token: &str) -> CoreResult<String> {
        let found = self.store.live_token(kind, &sha256_hex(token.as_bytes()), "reset", self.now()).await?;
        let token = found.ok_or_else(expired_link)?;
        let login = self.login_by_id(kind, &token.owner_id).await?.ok_or_else(expired_link)?;
        Ok(login.email)
    }

    /// Sets a new password through a reset link; every session of the person ends. Answers
    /// whose password it was.
    pub async fn reset_password(
        &self,
        kind: SignInKind,
        token: &str,
        new_password: &str,
    ) -> CoreResult<String> {
        let email = self.reset_link_email(kind, token).await?;
        if let Some(problem) = password_problem(new_password, &email) {
            return Err(CoreError::validation(vec![Issue::field("password", problem)]));
        }
        let hash = password::hash(new_password.to_string()).await?;
        let token_hash = sha256_hex(token.as_bytes());
        let redeemed = self.store.redeem_token(kind, &token_hash, "reset", self.now(), Some(&hash)).await?;
        let token = redeemed.ok_or_else(expired_link)?;
        let (merchant, door) = self.audit_place(kind, &token.owner_id).await?;
        let result: CoreResult<()> = Ok(());
        let operation = operation(kind, Step::Reset);
        self.record_audit(merchant.as_deref(), &door, operation, Some(&token.owner_id), &result).await;
        Ok(token.owner_id)
    }
}

/// `404 link_expired`: a one-time link used, expired or never made (invitations too).
pub(crate) fn expired_link() -> CoreError {
    CoreError::new(
        crate::ErrorKind::NotFound,
        "link_expired",
        "This link has expired or was already used; ask for a new one",
    )
}
