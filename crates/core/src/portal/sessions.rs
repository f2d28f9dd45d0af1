//! Portal login, sessions and logout. The rules are the dashboard's ([`crate::team::sessions`]):
//! the same password check and throttle (`Core::check_password`, keyed `portal:<email>` so the
//! two logins count apart while an address is counted across both), the same random tokens of
//! which only the SHA-256 is stored, the same idle lifetime, a new session at every login.

use refline_domain::canonical_email;
use refline_store::{Person, PortalSession};

use crate::{
    ids::{new_secret_token, sha256_hex},
    team::{OpenedSession, SessionContext, SESSION_IDLE_MS},
    Core, CoreResult, Door,
};

/// A valid portal session with its person.
#[derive(Debug, Clone)]
pub struct PortalSignedIn {
    /// The session.
    pub session: PortalSession,
    /// The person.
    pub person: Person,
}

impl PortalSignedIn {
    /// The door the person's operations run through.
    pub fn door(&self) -> Door {
        super::door(&self.person.id)
    }
}

impl Core {
    /// Opens a portal session for a person (after login, joining, an accepted invitation), and
    /// remembers the browser's address and device on each of the person's affiliate rows, so
    /// the self-referral check can compare customers with the affiliate.
    pub(crate) async fn open_portal_session(
        &self,
        person_id: &str,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let token = new_secret_token();
        let now = self.now();
        let session = PortalSession {
            id_hash: sha256_hex(token.as_bytes()),
            person_id: person_id.to_string(),
            csrf_token: new_secret_token(),
            ip_address: context.ip.clone(),
            user_agent: context.user_agent.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_IDLE_MS,
            revoked_at: None,
        };
        self.store.insert_portal_session(&session).await?;
        self.remember_person_fingerprints(person_id, context).await?;
        Ok(OpenedSession { token, user_id: person_id.to_string(), merchant_id: None })
    }

    /// Records the session's IP and device on every affiliate row of the person.
    async fn remember_person_fingerprints(
        &self,
        person_id: &str,
        context: &SessionContext,
    ) -> CoreResult<()> {
        let mut rows: Vec<String> =
            self.store.person_memberships(person_id).await?.into_iter().map(|m| m.affiliate_id).collect();
        rows.dedup();
        let now = self.now();
        let ip = context.ip.as_deref().and_then(|ip| ip.parse::<std::net::IpAddr>().ok());
        let device = context.user_agent.as_deref().map(crate::fingerprint::device_hash);
        for affiliate_id in rows {
            if let Some(ip) = ip {
                self.store.record_fingerprint(&affiliate_id, "ip", &ip.to_string(), now).await?;
            }
            if let Some(device) = &device {
                self.store.record_fingerprint(&affiliate_id, "device", device, now).await?;
            }
        }
        Ok(())
    }

    /// Signs an affiliate in: `401 invalid_credentials` alike for an unknown email and a wrong
    /// password, `429 too_many_attempts` past the throttle. Audited (`portal.login`) either way.
    pub async fn portal_log_in(
        &self,
        email: &str,
        password: &str,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let email = canonical_email(email);
        let person = self.store.find_person_by_email(&email).await?;
        let door = super::door(person.as_ref().map_or("", |p| p.id.as_str()));
        let result = async {
            let stored = person.as_ref().and_then(|p| p.password_hash.clone());
            self.check_password(&format!("portal:{email}"), password, stored, context).await?;
            match &person {
                Some(person) => self.open_portal_session(&person.id, context).await,
                None => Err(crate::CoreError::internal("a password matched no person")),
            }
        }
        .await;
        self.record_audit(
            None,
            &door,
            "portal.login",
            None,
            &result.as_ref().map(|_| ()).map_err(Clone::clone),
        )
        .await;
        result
    }

    /// The person behind a portal cookie, or `None` when the session is unknown, revoked or
    /// expired. A session in use is extended at most once a minute.
    pub async fn resolve_portal_session(&self, token: &str) -> CoreResult<Option<PortalSignedIn>> {
        let id_hash = sha256_hex(token.as_bytes());
        let Some(session) = self.store.get_portal_session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let Some(touch) = crate::team::sessions::session_liveness(
            session.revoked_at,
            session.expires_at,
            session.last_seen_at,
            now,
        ) else {
            return Ok(None);
        };
        let Some(person) = self.store.get_person(&session.person_id).await? else {
            return Ok(None);
        };
        if touch {
            self.store.touch_portal_session(&id_hash, now, now + SESSION_IDLE_MS).await?;
        }
        Ok(Some(PortalSignedIn { session, person }))
    }

    /// Ends a portal session (logout), audited.
    pub async fn portal_log_out(&self, signed_in: &PortalSignedIn) -> CoreResult<()> {
        let result = self.end_portal_session(signed_in).await;
        self.record_audit(None, &signed_in.door(), "portal.logout", None, &result).await;
        result
    }

    /// Ends a portal session without an audit entry of its own (what a new login does to the
    /// session the browser held before it).
    pub async fn end_portal_session(&self, signed_in: &PortalSignedIn) -> CoreResult<()> {
        Ok(self.store.revoke_portal_session(&signed_in.session.id_hash, self.now()).await?)
    }
}
