//! What a portal session sees: the person. Opening, resolving and ending sessions, the login
//! and its throttle are the dashboard's ([`crate::sign_in`], kind `Person`: its own tables and
//! cookie, failures counted under `portal:<email>`).

use refline_store::{Person, Session, SignInKind};

use crate::{sign_in::SessionContext, sign_in::SignedInAs, Core, CoreResult, Door};

/// A valid portal session with its person.
#[derive(Debug, Clone)]
pub struct PortalSignedIn {
    /// The session.
    pub session: Session,
    /// The person.
    pub person: Person,
}

impl PortalSignedIn {
    /// The door the person's operations run through.
    pub fn door(&self) -> Door {
        super::door(&self.person.id)
    }
}

impl SignedInAs for PortalSignedIn {
    const KIND: SignInKind = SignInKind::Person;

    fn session(&self) -> &Session {
        &self.session
    }

    fn audit_merchant(&self) -> Option<String> {
        None
    }

    fn door(&self) -> Door {
        PortalSignedIn::door(self)
    }
}

impl Core {
    /// The person behind a portal cookie, or `None` when the session is unknown, revoked or
    /// expired ([`Core::live_session`]).
    pub async fn resolve_portal_session(&self, token: &str) -> CoreResult<Option<PortalSignedIn>> {
        let Some(session) = self.live_session(SignInKind::Person, token).await? else {
            return Ok(None);
        };
        let Some(person) = self.store.get_person(&session.owner_id).await? else {
            return Ok(None);
        };
        Ok(Some(PortalSignedIn { session, person }))
    }

    /// Records a new session's IP and device on every affiliate row of the person.
    pub(crate) async fn remember_person_fingerprints(
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
}
