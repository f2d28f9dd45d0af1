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

    /// After a signed-in person was put on a campaign (applying, or accepting an invitation
    /// without a new login): their session's IP and device go on every row of theirs, the new
    /// row at that business included, so the self-referral check compares that business's sales
    /// with this session too rather than only from the next login on. The membership is
    /// already committed, so a failure here is logged, not answered.
    pub(crate) async fn remember_session_on_new_rows(&self, signed_in: &PortalSignedIn) {
        let context = SessionContext {
            ip: signed_in.session.ip_address.clone(),
            user_agent: signed_in.session.user_agent.clone(),
        };
        if let Err(err) = self.remember_person_fingerprints(&signed_in.person.id, &context).await {
            tracing::warn!(%err, person = %signed_in.person.id, "portal session fingerprints not recorded");
        }
    }

    /// Records a new session's IP and device on every affiliate row of the person.
    pub(crate) async fn remember_person_fingerprints(
        &self,
        person_id: &str,
        context: &SessionContext,
    ) -> CoreResult<()> {
        let mut rows: Vec<String> =
            self.store.person_memberships(person_id).await?.into_iter().map(|m| m.affiliate_id).collect();
        // One row per business, however many of its campaigns the person is on.
        rows.sort_unstable();
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
