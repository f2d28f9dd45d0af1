//! Accounts, the people who sign in, and who may act on which brand. A brand is a merchant row
//! (`merchants`): an account owns one or more, each a fully isolated program.

use refline_domain::{Grants, Role};
use sqlx::FromRow;

use crate::{ApiKey, Merchant, OneTimeToken, OutgoingMail, StoreResult};

/// Accounts, users, brands and teams.
#[async_trait::async_trait]
pub trait AccountStore {
    /// Creates an account with its owner and first brand (and the brand's keys), in one
    /// transaction. `Conflict("users_email_key")` when the email is taken.
    async fn sign_up(&self, signup: &SignUp) -> StoreResult<()>;
    /// A user by id.
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    /// A user by canonical email.
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Sets a user's password hash (and name, when given).
    async fn set_user_password(&self, user_id: &str, password_hash: &str) -> StoreResult<()>;
    /// The brands a user may open (accepted memberships only), with the user's grants on each,
    /// oldest first.
    async fn brands_of_user(&self, user_id: &str) -> StoreResult<Vec<BrandAccess>>;
    /// One brand's access for a user, accepted or not.
    async fn team_member(&self, merchant_id: &str, user_id: &str) -> StoreResult<Option<TeamMember>>;
    /// A brand's team (accepted and invited), owner first.
    async fn team_of_brand(&self, merchant_id: &str) -> StoreResult<Vec<TeamMemberView>>;
    /// Adds a person to a brand's team, creating their user first when `new_user` is given, and
    /// queues `mail` with `token`, all in one transaction. `false` (nothing written) when the
    /// person is already on the team, accepted or invited.
    async fn add_team_member(
        &self,
        new_user: Option<&User>,
        member: &TeamMember,
        token: Option<&OneTimeToken>,
        mail: Option<&OutgoingMail>,
    ) -> StoreResult<bool>;
    /// Changes a member's role and rights; `false` when there is no such member.
    async fn update_team_member(&self, member: &TeamMember) -> StoreResult<bool>;
    /// Removes a member (and their unused invitation tokens for the brand); `false` when there
    /// was none.
    async fn remove_team_member(&self, merchant_id: &str, user_id: &str) -> StoreResult<bool>;
    /// Creates another brand in an account, with its keys and its owner's membership.
    async fn create_brand(&self, merchant: &Merchant, keys: &[ApiKey], owner: &TeamMember)
        -> StoreResult<()>;
    /// Archives (`Some(now)`) or reactivates (`None`) a brand.
    async fn set_brand_archived(&self, merchant_id: &str, archived_at: Option<i64>) -> StoreResult<()>;
    /// Changes a brand's business details.
    async fn update_business(
        &self,
        merchant_id: &str,
        name: &str,
        website: Option<&str>,
        currency: &str,
    ) -> StoreResult<()>;
    /// Creates a user for an existing brand (the command line's `user create`): the user, the
    /// brand's account when it has none yet (owned by this user), the membership (accepted), and
    /// an optional one-time token. `Conflict("users_email_key")` when the email is taken.
    async fn attach_user(
        &self,
        user: &User,
        account: Option<&Account>,
        member: &TeamMember,
        token: Option<&OneTimeToken>,
    ) -> StoreResult<()>;
    /// The account a brand belongs to, if any.
    async fn account_of_brand(&self, merchant_id: &str) -> StoreResult<Option<Account>>;
}

/// Everything a sign-up writes.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// The new account.
    pub account: Account,
    /// Its owner.
    pub user: User,
    /// Its first brand (with `account_id` set).
    pub merchant: Merchant,
    /// The brand's first keys.
    pub keys: Vec<ApiKey>,
    /// The owner's membership of the brand.
    pub member: TeamMember,
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// An account: what owns brands and pays for them.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    /// `acc_…`
    pub id: String,
    /// The owner.
    pub owner_user_id: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A person who signs in to the dashboard.
#[derive(Debug, Clone, FromRow)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// Canonical (lower-cased) email.
    pub email: String,
    /// Display name (may be empty).
    pub name: String,
    /// Argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// A person's place on a brand's team.
#[derive(Debug, Clone, FromRow)]
pub struct TeamMember {
    /// The brand.
    pub merchant_id: String,
    /// The person.
    pub user_id: String,
    /// Their role.
    pub role: Role,
    /// "Manage payouts" granted.
    pub manage_payouts: bool,
    /// "Manage API keys" granted.
    pub manage_keys: bool,
    /// Who invited them.
    pub invited_by: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// When they accepted; `None` while invited (they see nothing of the brand).
    pub accepted_at: Option<i64>,
}

/// A brand a user may open, with their place on it.
#[derive(Debug, Clone, FromRow)]
pub struct BrandAccess {
    /// The brand.
    #[sqlx(flatten)]
    pub merchant: Merchant,
    /// Their role.
    pub role: Role,
    /// "Manage payouts" granted.
    pub manage_payouts: bool,
    /// "Manage API keys" granted.
    pub manage_keys: bool,
}

/// A team member as the team page lists them.
#[derive(Debug, Clone, FromRow)]
pub struct TeamMemberView {
    /// The person.
    pub user_id: String,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// "Manage payouts" granted.
    pub manage_payouts: bool,
    /// "Manage API keys" granted.
    pub manage_keys: bool,
    /// Unix ms.
    pub created_at: i64,
    /// `None` while invited.
    pub accepted_at: Option<i64>,
}

impl TeamMember {
    /// The role and rights this membership grants.
    pub fn grants(&self) -> Grants {
        Grants { role: self.role, manage_payouts: self.manage_payouts, manage_keys: self.manage_keys }
    }
}

impl BrandAccess {
    /// The role and rights the person has on this brand.
    pub fn grants(&self) -> Grants {
        Grants { role: self.role, manage_payouts: self.manage_payouts, manage_keys: self.manage_keys }
    }
}
