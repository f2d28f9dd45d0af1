//! The affiliate side: people (one login across brands and merchants), their portal sessions
//! and one-time tokens, joining a campaign, and emailed invitations.

use refline_domain::MembershipStatus;
use sqlx::FromRow;

use crate::{Affiliate, Campaign, Membership, OutgoingMail, StoreResult};

/// People, portal sessions, joins and invitations.
#[async_trait::async_trait]
pub trait PortalStore {
    /// A person by canonical email.
    async fn find_person_by_email(&self, email: &str) -> StoreResult<Option<Person>>;
    /// A person by id.
    async fn get_person(&self, id: &str) -> StoreResult<Option<Person>>;
    /// Stores a new portal session.
    async fn insert_portal_session(&self, session: &PortalSession) -> StoreResult<()>;
    /// A portal session by the hash of its cookie token, revoked or not.
    async fn get_portal_session(&self, id_hash: &str) -> StoreResult<Option<PortalSession>>;
    /// Marks a portal session used at `now`, extending it to `expires_at`.
    async fn touch_portal_session(&self, id_hash: &str, now: i64, expires_at: i64) -> StoreResult<()>;
    /// Revokes one portal session.
    async fn revoke_portal_session(&self, id_hash: &str, now: i64) -> StoreResult<()>;
    /// Stores a person's one-time token and the mail that carries it, in one transaction.
    async fn insert_person_token(&self, token: &PersonToken, mail: &OutgoingMail) -> StoreResult<()>;
    /// A person's token by hash if it is unused and unexpired at `now`.
    async fn live_person_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<PersonToken>>;
    /// Uses a token: marks it used, sets the password and revokes every portal session of the
    /// person, in one transaction. `None` when it was used, expired or unknown.
    async fn redeem_person_token(
        &self,
        token_hash: &str,
        purpose: &str,
        now: i64,
        password_hash: &str,
    ) -> StoreResult<Option<PersonToken>>;
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

/// A signed-in affiliate browser.
#[derive(Debug, Clone, FromRow)]
pub struct PortalSession {
    /// Hex SHA-256 of the cookie token.
    pub id_hash: String,
    /// Who signed in.
    pub person_id: String,
    /// The token every form of this session carries.
    pub csrf_token: String,
    /// Where the login came from.
    pub ip_address: Option<String>,
    /// The browser.
    pub user_agent: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Last request (unix ms).
    pub last_seen_at: i64,
    /// When it lapses unless used (unix ms).
    pub expires_at: i64,
    /// When it was ended.
    pub revoked_at: Option<i64>,
}

/// A person's one-time token (password reset). Only its hash is stored.
#[derive(Debug, Clone, FromRow)]
pub struct PersonToken {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// `reset`.
    pub purpose: String,
    /// Whose it is.
    pub person_id: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// When it was used.
    pub used_at: Option<i64>,
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
