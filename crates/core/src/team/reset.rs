//! Password reset by emailed link. Asking never says whether the email has a login (so the form
//! cannot be used to find out who is a customer); the link works once, for an hour, and using it
//! ends every session of the person.

use refline_domain::{canonical_email, password_problem, Grants};
use refline_store::UserToken;

use crate::{
    ids::{new_secret_token, sha256_hex},
    team::{password, RESET_TTL_MS},
    Core, CoreError, CoreResult, Door, Issue,
};

impl Core {
    /// Queues a reset mail when `email` has a login; answers `Ok` either way.
    pub async fn request_password_reset(&self, email: &str) -> CoreResult<()> {
        let email = canonical_email(email);
        let Some(user) = self.store.find_user_by_email(&email).await? else {
            return Ok(());
        };
        let token = new_secret_token();
        let now = self.now();
        let stored = UserToken {
            token_hash: sha256_hex(token.as_bytes()),
            purpose: "reset".into(),
            user_id: user.id.clone(),
            merchant_id: None,
            created_at: now,
            expires_at: now + RESET_TTL_MS,
            used_at: None,
        };
        let mail = self.reset_mail(&user.email, &token);
        let result = self.store.insert_token(&stored, Some(&mail)).await.map_err(CoreError::from);
        if result.is_ok() {
            self.effects.mail_written();
        }
        let door = Door::Dashboard { user_id: user.id.clone(), grants: Grants::OWNER };
        let brand = self.first_brand(&user.id).await?.map(|b| b.merchant.id);
        self.record_audit(brand.as_deref(), &door, "user.password_reset_request", Some(&user.id), &result)
            .await;
        result
    }

    /// The email a live reset (or first-password) link is for, or `404` when the link was used,
    /// expired or never existed.
    pub async fn reset_link_email(&self, token: &str) -> CoreResult<String> {
        let found = self.store.live_token(&sha256_hex(token.as_bytes()), "reset", self.now()).await?;
        let token = found.ok_or_else(expired_link)?;
        let user = self.store.get_user(&token.user_id).await?.ok_or_else(expired_link)?;
        Ok(user.email)
    }

    /// Sets a new password through a reset link; every session of the person ends. Answers the
    /// user's id.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> CoreResult<String> {
        let email = self.reset_link_email(token).await?;
        if let Some(problem) = password_problem(new_password, &email) {
            return Err(CoreError::validation(vec![Issue::field("password", problem)]));
        }
        let hash = password::hash(new_password.to_string()).await?;
        let redeemed =
            self.store.redeem_token(&sha256_hex(token.as_bytes()), "reset", self.now(), Some(&hash)).await?;
        let token = redeemed.ok_or_else(expired_link)?;
        let door = Door::Dashboard { user_id: token.user_id.clone(), grants: Grants::OWNER };
        let brand = self.first_brand(&token.user_id).await?.map(|b| b.merchant.id);
        let result: CoreResult<()> = Ok(());
        self.record_audit(brand.as_deref(), &door, "user.password_reset", Some(&token.user_id), &result)
            .await;
        Ok(token.user_id)
    }
}

/// `404 link_expired`: a one-time link used, expired or never made (the portal's links too).
pub(crate) fn expired_link() -> CoreError {
    CoreError::new(
        crate::ErrorKind::NotFound,
        "link_expired",
        "This link has expired or was already used; ask for a new one",
    )
}
