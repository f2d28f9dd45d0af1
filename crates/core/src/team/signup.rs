//! Sign-up: an account, its owner and its first brand (with a live and a test key), in one
//! transaction, then a session.

use refline_domain::{canonical_email, is_valid_email, password_problem, Currency, Grants, KeyKind, Plan};
use refline_store::{Account, Merchant, SignUp, TeamMember, User};

use crate::{
    accounts::make_key,
    ids::new_id,
    sign_in::{OpenedSession, SessionContext, SignInKind},
    team::password,
    Core, CoreError, CoreResult, Door, Issue,
};

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct SignUpInput {
    /// The owner's email (their login).
    pub email: String,
    /// Their password.
    pub password: String,
    /// The first brand's business name.
    pub business_name: String,
}

/// Checks a business name: 1–200 characters after trimming.
pub(crate) fn business_name_issue(name: &str, field: &str) -> Option<Issue> {
    let chars = name.trim().chars().count();
    (chars == 0 || chars > 200).then(|| Issue::field(field, "business name must be 1 to 200 characters"))
}

impl Core {
    /// Creates an account, its owner and first brand on `plan` (the operator's default for new
    /// sign-ups), and signs the owner in. `409 duplicate` when the email already has a login.
    pub async fn sign_up(
        &self,
        input: SignUpInput,
        plan: Plan,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let user_id = new_id("usr");
        let merchant_id = new_id("mer");
        let door = Door::Dashboard { user_id: user_id.clone(), grants: Grants::OWNER };
        let result = self.sign_up_work(input, plan, &user_id, &merchant_id).await;
        let merchant = result.is_ok().then_some(merchant_id.as_str());
        self.record_audit(merchant, &door, "account.sign_up", merchant, &result).await;
        result?;
        self.open_session(SignInKind::User, &user_id, Some(merchant_id), context).await
    }

    async fn sign_up_work(
        &self,
        input: SignUpInput,
        plan: Plan,
        user_id: &str,
        merchant_id: &str,
    ) -> CoreResult<()> {
        let email = canonical_email(&input.email);
        let mut issues = Vec::new();
        if !is_valid_email(&email) {
            issues.push(Issue::field("email", "enter a valid email address"));
        }
        if let Some(problem) = password_problem(&input.password, &email) {
            issues.push(Issue::field("password", problem));
        }
        issues.extend(business_name_issue(&input.business_name, "businessName"));
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(email_taken());
        }
        let now = self.now();
        let hash = password::hash(input.password).await?;
        let account = Account { id: new_id("acc"), owner_user_id: user_id.to_string(), created_at: now };
        let merchant = Merchant {
            id: merchant_id.to_string(),
            name: input.business_name.trim().to_string(),
            plan,
            currency: Currency::USD.code().into(),
            created_at: now,
            tracking_seen_at: None,
            account_id: Some(account.id.clone()),
            website: None,
            archived_at: None,
        };
        let keys =
            vec![make_key(merchant_id, KeyKind::Live, now).0, make_key(merchant_id, KeyKind::Test, now).0];
        let signup = SignUp {
            user: User {
                id: user_id.to_string(),
                email,
                name: String::new(),
                password_hash: Some(hash),
                created_at: now,
            },
            member: owner_member(merchant_id, user_id, now),
            account,
            merchant,
            keys,
        };
        match self.store.sign_up(&signup).await {
            Err(err) if err.is_conflict_on("email") => Err(email_taken()),
            other => Ok(other?),
        }
    }
}

/// The owner's membership of a brand.
pub(crate) fn owner_member(merchant_id: &str, user_id: &str, now: i64) -> TeamMember {
    TeamMember {
        merchant_id: merchant_id.to_string(),
        user_id: user_id.to_string(),
        role: refline_domain::Role::Owner,
        manage_payouts: true,
        manage_keys: true,
        invited_by: None,
        created_at: now,
        accepted_at: Some(now),
    }
}

fn email_taken() -> CoreError {
    CoreError::new(
        crate::ErrorKind::Conflict,
        "duplicate",
        "An account with this email already exists; log in or reset your password",
    )
    .with_details(serde_json::json!([{ "path": ["email"], "message": "this email already has a login" }]))
}
