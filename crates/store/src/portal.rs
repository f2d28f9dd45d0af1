//! The affiliate side: people (one login across brands and merchants), joining a campaign, and
//! emailed invitations. Their sessions and one-time tokens are [`crate::SessionStore`]'s
//! (kind [`crate::SignInKind::Person`]).

use refline_domain::MembershipStatus;
use sqlx::FromRow;

use crate::{Affiliate, Campaign, Membership, OutgoingMail, StoreResult};

/// People, joins and invitations.
#[async_trait::async_trait]
pub trait PortalStore {
    /// A person by canonical email.
    async fn find_person_by_email(&self, email: &str) -> StoreResult<Option<Person>>;
    /// A person by id.
    async fn get_person(&self, id: &str) -> StoreResult<Option<Person>>;
    /// Every membership of every affiliate row linked to the person, across merchants.
    async fn person_memberships(&self, person_id: &str) -> StoreResult<Vec<PersonMembership>>;
    /// A campaign by its tracking code (the join page's `/join/<code>`), any merchant.
    async fn campaign_by_code(&self, tracking_code: &str) -> StoreResult<Option<Campaign>>;
    /// The merchant's affiliate row with this canonical email and the person it is linked to.
    async fn affiliate_by_email(
        &self,
        merchant_id: &str,
        email: &str,
    ) -> StoreResult<Option<(Affiliate, Option<String>)>>;
    /// Puts a person on a campaign in one transaction (see [`Enrollment`]).
    async fn enroll(&self, enrollment: &Enrollment) -> StoreResult<EnrollOutcome>;
    /// Stores an invitation (and its mail, when there is one). False when a pending, unexpired
    /// invitation for the same email, campaign and mode exists; pending ones past their expiry
    /// are marked `expired` first.
    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool>;
    /// A merchant's invitation by id.
    async fn get_invitation(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Invitation>>;
    /// An invitation by the hash of its token.
    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    /// Revokes a pending invitation; false when it was not pending.
    async fn revoke_invitation(&self, merchant_id: &str, id: &str) -> StoreResult<bool>;
    /// Whether the merchant mails affiliates whose application it rejects (default false).
    async fn mails_rejected_affiliates(&self, merchant_id: &str) -> StoreResult<bool>;
    /// Sets that choice.
    async fn set_mails_rejected_affiliates(&self, merchant_id: &str, on: bool) -> StoreResult<()>;
    /// Sets a person's display name (the portal's profile).
    async fn set_person_name(&self, person_id: &str, name: &str) -> StoreResult<()>;
    /// Sets a person's password and revokes every other portal session of theirs (`keep`, the
    /// session that changed it, stays), in one transaction.
    async fn change_person_password(
        &self,
        person_id: &str,
        password_hash: &str,
        keep: &str,
        now: i64,
    ) -> StoreResult<()>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// An affiliate person: one login across every brand and merchant.
#[derive(Debug, Clone, FromRow)]
pub struct Person {
    /// `per_…`
    pub id: String,
    /// Canonical email, unique.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Argon2id PHC string, `None` until set.
    pub password_hash: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// One membership of a person, with the merchant's business name.
#[derive(Debug, Clone, FromRow)]
pub struct PersonMembership {
    /// The merchant's affiliate row.
    pub affiliate_id: String,
    /// The merchant (brand).
    pub merchant_id: String,
    /// Its business name.
    pub business_name: String,
    /// The campaign.
    pub campaign_id: String,
    /// Membership status.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
}

/// An emailed invitation to a campaign.
#[derive(Debug, Clone, FromRow)]
pub struct Invitation {
    /// `inv_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The campaign it adds the person to.
    pub campaign_id: String,
    /// Canonical email.
    pub email: String,
    /// For the greeting.
    pub name: Option<String>,
    /// Hex SHA-256 of the token in the link.
    pub token_hash: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    /// Sent with a test key: recorded, never mailed nor acceptable.
    pub is_test: bool,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// The key or user that sent it.
    pub created_by: String,
    /// When it was accepted.
    pub accepted_at: Option<i64>,
}

impl Invitation {
    /// The status as of `now`: a pending invitation past its expiry is `expired`.
    pub fn status_at(&self, now: i64) -> &str {
        if self.status == "pending" && self.expires_at <= now {
            "expired"
        } else {
            &self.status
        }
    }
}

/// The affiliate row an enrollment puts on the campaign.
#[derive(Debug, Clone)]
pub enum EnrolledAffiliate {
    /// A new row of the merchant, linked to the person.
    New(Affiliate),
    /// An existing row; `link` links it to the person (an accepted invitation proved the
    /// mailbox).
    Existing {
        /// The row's id.
        id: String,
        /// Whether to link it to the person now.
        link: bool,
    },
}

/// Everything joining a campaign writes, in one transaction: the person when new, the
/// merchant's affiliate row when new (or the link of an existing one), the membership (or
/// a pending one approved, for an invitation), the invitation marked accepted, the
/// `affiliate.joined` / `affiliate.approved` event and the mails.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The person; inserted when `new_person`.
    pub person: Person,
    /// Whether the person is new.
    pub new_person: bool,
    /// The merchant's row.
    pub affiliate: EnrolledAffiliate,
    /// The membership to insert, or (when `approve_pending`) the pending one to approve.
    pub membership: Membership,
    /// Approve an existing pending membership instead of inserting one.
    pub approve_pending: bool,
    /// The invitation accepted by this enrollment (must still be pending and unexpired).
    pub invitation_id: Option<String>,
    /// Mails written with it.
    pub mails: Vec<OutgoingMail>,
}

/// What an enrollment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollOutcome {
    /// Written.
    Done,
    /// A new person's email has a login already (a race with another sign-up).
    EmailTaken,
    /// The invitation was used, revoked or expired meanwhile.
    InvitationGone,
    /// The membership exists already (or is no longer pending).
    AlreadyMember,
}

#[cfg(test)]
mod tests {
    use super::Invitation;

    #[test]
    fn a_pending_invitation_past_its_time_reads_expired() {
        let invitation = Invitation {
            id: "inv_1".into(),
            merchant_id: "m".into(),
            campaign_id: "c".into(),
            email: "a@b.test".into(),
            name: None,
            token_hash: "h".into(),
            status: "pending".into(),
            is_test: false,
            expires_at: 1_000,
            created_at: 0,
            created_by: "key".into(),
            accepted_at: None,
        };
        assert_eq!(invitation.status_at(999), "pending");
        assert_eq!(invitation.status_at(1_000), "expired");
        let revoked = Invitation { status: "revoked".into(), ..invitation };
        assert_eq!(revoked.status_at(5_000), "revoked");
    }
}
