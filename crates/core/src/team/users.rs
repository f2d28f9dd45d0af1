//! Users made by the operator for headless installs (`refline user create`): the person gets a
//! login on an existing brand, with a password given now or a printed one-time link to set one.

use refline_domain::{canonical_email, is_valid_email, password_problem, Role};
use refline_store::{Account, OneTimeToken, TeamMember, User};

use crate::{
    ids::{new_id, new_secret_token, sha256_hex},
    team::{password, SETUP_TTL_MS},
    Core, CoreError, CoreResult, Door, ErrorKind, Issue,
};

/// A user to create on a brand.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Their email.
    pub email: String,
    /// The brand (merchant id).
    pub merchant_id: String,
    /// Their role there.
    pub role: Role,
    /// A password, or `None` to print a one-time link instead.
    pub password: Option<String>,
}

/// What creating a user answers.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    /// `usr_…`
    pub user_id: String,
    /// The link that sets the first password (when none was given), valid 7 days.
    pub setup_link: Option<String>,
}

impl crate::audit::AuditTarget for CreatedUser {
    fn audit_target(&self) -> Option<String> {
        Some(self.user_id.clone())
    }
}

impl Core {
    /// Creates a login on an existing brand. An owner also becomes the owner of the brand's
    /// account when it has none yet (a merchant made by `refline merchant create`).
    pub async fn create_user(&self, door: &Door, input: NewUser) -> CoreResult<CreatedUser> {
        let merchant_id = input.merchant_id.clone();
        let result = self.create_user_work(input).await;
        self.record_audit(Some(&merchant_id), door, "user.create", None, &result).await;
        result
    }

    async fn create_user_work(&self, input: NewUser) -> CoreResult<CreatedUser> {
        let email = canonical_email(&input.email);
        let mut issues = Vec::new();
        if !is_valid_email(&email) {
            issues.push(Issue::field("email", "enter a valid email address"));
        }
        if let Some(problem) = input.password.as_deref().and_then(|p| password_problem(p, &email)) {
            issues.push(Issue::field("password", problem));
        }
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        if self.store.get_merchant(&input.merchant_id).await?.is_none() {
            return Err(CoreError::not_found("brand"));
        }
        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "duplicate",
                "a user with this email already exists",
            ));
        }
        let now = self.now();
        let user_id = new_id("usr");
        let password_hash = match input.password {
            Some(password) => Some(password::hash(password).await?),
            None => None,
        };
        let account = match (input.role, self.store.account_of_brand(&input.merchant_id).await?) {
            (Role::Owner, None) => {
                Some(Account { id: new_id("acc"), owner_user_id: user_id.clone(), created_at: now })
            }
            _ => None,
        };
        let member = TeamMember {
            merchant_id: input.merchant_id.clone(),
            user_id: user_id.clone(),
            role: input.role,
            manage_payouts: input.role != Role::Member,
            manage_keys: input.role != Role::Member,
            invited_by: None,
            created_at: now,
            accepted_at: Some(now),
        };
        let setup = password_hash.is_none().then(new_secret_token);
        let token = setup.as_ref().map(|token| OneTimeToken {
            token_hash: sha256_hex(token.as_bytes()),
            purpose: "reset".into(),
            owner_id: user_id.clone(),
            merchant_id: None,
            created_at: now,
            expires_at: now + SETUP_TTL_MS,
            used_at: None,
        });
        let user = User { id: user_id.clone(), email, name: String::new(), password_hash, created_at: now };
        match self.store.attach_user(&user, account.as_ref(), &member, token.as_ref()).await {
            Err(err) if err.is_conflict_on("email") => {
                return Err(CoreError::new(
                    ErrorKind::Conflict,
                    "duplicate",
                    "a user with this email already exists",
                ))
            }
            other => other?,
        }
        let setup_link = setup.map(|token| format!("{}/auth/reset/{token}", self.public_url));
        Ok(CreatedUser { user_id, setup_link })
    }
}
