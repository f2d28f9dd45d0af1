//! What a user's session may see: the person, the brands they may open and the brand being
//! viewed. Opening, resolving and ending sessions, the login and its throttle are shared with
//! the affiliate portal ([`crate::sign_in`]).

use refline_domain::{Grants, Mode};
use refline_store::{BrandAccess, Session, SignInKind, User};

use crate::{sign_in::SignedInAs, Actor, Core, CoreError, CoreResult, Door, Rights};

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

impl SignedInAs for SignedIn {
    const KIND: SignInKind = SignInKind::User;

    fn session(&self) -> &Session {
        &self.session
    }

    fn audit_merchant(&self) -> Option<String> {
        self.current().map(|b| b.merchant.id.clone())
    }

    fn door(&self) -> Door {
        Door::Dashboard {
            user_id: self.user.id.clone(),
            grants: self.current().map_or(Grants::OWNER, BrandAccess::grants),
        }
    }
}

impl Core {
    /// The signed-in user behind a dashboard cookie value, or `None` when the session is
    /// unknown, revoked or expired ([`Core::live_session`]).
    pub async fn resolve_session(&self, token: &str) -> CoreResult<Option<SignedIn>> {
        let Some(session) = self.live_session(SignInKind::User, token).await? else {
            return Ok(None);
        };
        let Some(user) = self.store.get_user(&session.owner_id).await? else {
            return Ok(None);
        };
        let brands = self.store.brands_of_user(&user.id).await?;
        Ok(Some(SignedIn { session, user, brands }))
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
