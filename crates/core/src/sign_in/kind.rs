//! What differs between the kinds of people who sign in; everything else is shared.

use refline_domain::Grants;
use refline_store::{BrandAccess, OutgoingMail, Person, SignInKind, User};

use crate::{Core, CoreResult, Door};

/// The login of either kind: who, under which email, with which password.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    /// The user's or person's id.
    pub id: String,
    /// Canonical email.
    pub email: String,
    /// Argon2id PHC string, `None` until set.
    pub password_hash: Option<String>,
}

impl From<User> for Login {
    fn from(u: User) -> Login {
        Login { id: u.id, email: u.email, password_hash: u.password_hash }
    }
}

impl From<Person> for Login {
    fn from(p: Person) -> Login {
        Login { id: p.id, email: p.email, password_hash: p.password_hash }
    }
}

/// What a sign-in step is audited as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// A login, accepted or refused.
    Login,
    /// A logout.
    Logout,
    /// Asking for a reset link.
    ResetRequest,
    /// Choosing a password through one.
    Reset,
}

/// The audit operation of a step: the dashboard's names predate the portal's, so each kind
/// keeps its own.
pub(crate) fn operation(kind: SignInKind, step: Step) -> &'static str {
    match (kind, step) {
        (SignInKind::User, Step::Login) => "session.login",
        (SignInKind::User, Step::Logout) => "session.logout",
        (SignInKind::User, Step::ResetRequest) => "user.password_reset_request",
        (SignInKind::User, Step::Reset) => "user.password_reset",
        (SignInKind::Person, Step::Login) => "portal.login",
        (SignInKind::Person, Step::Logout) => "portal.logout",
        (SignInKind::Person, Step::ResetRequest) => "portal.password_reset_request",
        (SignInKind::Person, Step::Reset) => "portal.password_reset",
    }
}

/// The key failed logins are counted under: a person's is prefixed, so the two logins of one
/// email count apart while an address is counted across both.
pub(crate) fn throttle_key(kind: SignInKind, email: &str) -> String {
    match kind {
        SignInKind::User => email.to_string(),
        SignInKind::Person => format!("portal:{email}"),
    }
}

impl Core {
    /// The login behind a canonical email.
    pub(crate) async fn login_by_email(&self, kind: SignInKind, email: &str) -> CoreResult<Option<Login>> {
        Ok(match kind {
            SignInKind::User => self.store.find_user_by_email(email).await?.map(Login::from),
            SignInKind::Person => self.store.find_person_by_email(email).await?.map(Login::from),
        })
    }

    /// The login with this id.
    pub(crate) async fn login_by_id(&self, kind: SignInKind, id: &str) -> CoreResult<Option<Login>> {
        Ok(match kind {
            SignInKind::User => self.store.get_user(id).await?.map(Login::from),
            SignInKind::Person => self.store.get_person(id).await?.map(Login::from),
        })
    }

    /// Where a step of someone not (yet) signed in is audited: a user's entries name their
    /// first brand (the oldest), a person's name no merchant. `owner` is empty when the email
    /// matched nobody.
    pub(crate) async fn audit_place(
        &self,
        kind: SignInKind,
        owner: &str,
    ) -> CoreResult<(Option<String>, Door)> {
        Ok(match kind {
            SignInKind::User => {
                let brand = if owner.is_empty() { None } else { self.first_brand(owner).await? };
                let door = Door::Dashboard {
                    user_id: owner.to_string(),
                    grants: brand.as_ref().map_or(Grants::OWNER, BrandAccess::grants),
                };
                (brand.map(|b| b.merchant.id), door)
            }
            SignInKind::Person => (None, crate::portal::door(owner)),
        })
    }

    /// The mail carrying a reset link, which points at the kind's own reset page.
    pub(crate) fn reset_mail_for(&self, kind: SignInKind, to: &str, token: &str) -> OutgoingMail {
        match kind {
            SignInKind::User => self.reset_mail(to, token),
            SignInKind::Person => self.portal_reset_mail(to, token),
        }
    }
}
