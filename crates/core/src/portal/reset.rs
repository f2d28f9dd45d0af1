//! An affiliate's password reset by emailed link: the dashboard's approach
//! ([`crate::team::reset`]): asking never tells whether the email has a login; the link works
//! once, for an hour; using it ends every portal session of the person.

use refline_domain::{canonical_email, password_problem};
use refline_store::PersonToken;

use crate::{
    ids::{new_secret_token, sha256_hex},
    team::{password, reset::expired_link, RESET_TTL_MS},
    Core, CoreError, CoreResult, Issue,
};

impl Core {
    /// Queues a reset mail when `email` has an affiliate login; `Ok` either way.
    pub async fn request_portal_reset(&self, email: &str) -> CoreResult<()> {
        let email = canonical_email(email);
        let Some(person) = self.store.find_person_by_email(&email).await? else {
            return Ok(());
        };
        let token = new_secret_token();
        let now = self.now();
        let stored = PersonToken {
            token_hash: sha256_hex(token.as_bytes()),
            purpose: "reset".into(),
            person_id: person.id.clone(),
            created_at: now,
            expires_at: now + RESET_TTL_MS,
            used_at: None,
        };
        let mail = self.portal_reset_mail(&person.email, &token);
        let result = self.store.insert_person_token(&stored, &mail).await.map_err(CoreError::from);
        if result.is_ok() {
            self.effects.mail_written();
        }
        let door = super::door(&person.id);
        self.record_audit(None, &door, "portal.password_reset_request", Some(&person.id), &result).await;
        result
    }

    /// The email a live portal reset link is for; `404 link_expired` otherwise.
    pub async fn portal_reset_email(&self, token: &str) -> CoreResult<String> {
        let found = self.store.live_person_token(&sha256_hex(token.as_bytes()), "reset", self.now()).await?;
        let token = found.ok_or_else(expired_link)?;
        let person = self.store.get_person(&token.person_id).await?.ok_or_else(expired_link)?;
        Ok(person.email)
    }

    /// Sets a new password through a reset link; every portal session of the person ends.
    pub async fn portal_reset_password(&self, token: &str, new_password: &str) -> CoreResult<()> {
        let email = self.portal_reset_email(token).await?;
        if let Some(problem) = password_problem(new_password, &email) {
            return Err(CoreError::validation(vec![Issue::field("password", problem)]));
        }
        let hash = password::hash(new_password.to_string()).await?;
        let redeemed =
            self.store.redeem_person_token(&sha256_hex(token.as_bytes()), "reset", self.now(), &hash).await?;
        let token = redeemed.ok_or_else(expired_link)?;
        let result: CoreResult<()> = Ok(());
        let door = super::door(&token.person_id);
        self.record_audit(None, &door, "portal.password_reset", Some(&token.person_id), &result).await;
        result
    }
}
