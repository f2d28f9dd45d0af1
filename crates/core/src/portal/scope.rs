//! What a signed-in person may act on: the affiliate rows linked to them (`affiliates.person_id`)
//! and nothing else. Every portal page beyond the programs list runs a merchant's core
//! operation with an [`Actor`] built here, so the rules are the API's, the door is `portal`,
//! and an id of another person's (or another merchant's) row answers 404, as a tenant's would.

use refline_domain::{MembershipStatus, Mode};
use refline_store::PersonMembership;

use super::PortalSignedIn;
use crate::{Actor, Core, CoreError, CoreResult, Rights};

/// One membership of the person with the actor that acts for it.
#[derive(Debug, Clone)]
pub struct Scoped {
    /// The membership (affiliate row, merchant, campaign, status).
    pub membership: PersonMembership,
    /// The merchant's actor, live mode, door `portal`.
    pub actor: Actor,
}

impl Core {
    /// The actor acting for the person at `merchant_id`: live mode (the portal shows the real
    /// program, never test traffic), read-write, through the portal door.
    pub(crate) async fn portal_actor(
        &self,
        signed_in: &PortalSignedIn,
        merchant_id: &str,
    ) -> CoreResult<Actor> {
        let merchant =
            self.store.get_merchant(merchant_id).await?.ok_or_else(|| CoreError::not_found("Program"))?;
        Ok(Actor {
            merchant_id: merchant.id,
            mode: Mode::Live,
            rights: Rights::ReadWrite,
            currency: merchant.currency,
            door: signed_in.door(),
        })
    }

    /// The person's memberships that are not rejected (a rejected membership's clicks are not
    /// credited, so the portal offers nothing to promote there), each with its actor.
    pub(crate) async fn portal_scopes(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<Scoped>> {
        let memberships = self.store.person_memberships(&signed_in.person.id).await?;
        let mut scoped = Vec::with_capacity(memberships.len());
        for membership in memberships.into_iter().filter(|m| m.status != MembershipStatus::Rejected) {
            let actor = self.portal_actor(signed_in, &membership.merchant_id).await?;
            scoped.push(Scoped { membership, actor });
        }
        Ok(scoped)
    }

    /// The person's (not rejected) membership on `campaign_id`, or `404` (someone else's
    /// campaign looks the same as one that does not exist).
    pub(crate) async fn portal_scope(
        &self,
        signed_in: &PortalSignedIn,
        campaign_id: &str,
    ) -> CoreResult<Scoped> {
        self.portal_scopes(signed_in)
            .await?
            .into_iter()
            .find(|s| s.membership.campaign_id == campaign_id)
            .ok_or_else(|| CoreError::not_found("Program"))
    }
}
