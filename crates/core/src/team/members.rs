//! The team of a brand (spec §1.11): the owner invites people by email with a role and the two
//! grantable rights; an invited person sees nothing of the brand until they accept; seats are
//! limited per plan.

use refline_domain::{canonical_email, default_seats, is_valid_email, password_problem, Grant, Plan, Role};
use refline_store::{OneTimeToken, SignInKind, TeamMember, TeamMemberView, User};

use crate::{
    ids::{new_id, new_secret_token, sha256_hex},
    sign_in::{OpenedSession, SessionContext},
    team::{password, INVITE_TTL_MS},
    Actor, Core, CoreError, CoreResult, ErrorKind, Issue,
};

/// An invitation to send.
#[derive(Debug, Clone)]
pub struct InviteInput {
    /// Who to invite.
    pub email: String,
    /// Admin or member (an account has one owner).
    pub role: Role,
    /// Grant "manage payouts" (members; admins have it).
    pub manage_payouts: bool,
    /// Grant "manage API keys" (members; admins have it).
    pub manage_keys: bool,
}

/// An invitation as its link shows it.
#[derive(Debug, Clone)]
pub struct InvitationView {
    /// The brand's name.
    pub brand: String,
    /// Who is invited.
    pub email: String,
    /// True when the person has no password yet (the accept form asks for a new one; otherwise
    /// for their existing one).
    pub needs_password: bool,
}

/// Seats a plan includes, as configured.
pub fn seats_for(limits: &crate::PlanLimits, plan: Plan) -> u32 {
    limits.seats.map_or_else(|| default_seats(plan), |seats| seats[plan_index(plan)])
}

/// A brand's seats: included by its plan, and taken (everyone on the team but the owner,
/// invited or accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatUse {
    /// Seats the plan includes.
    pub included: u32,
    /// Seats taken.
    pub taken: u32,
}

/// Seats `team` takes: everyone but the owner, invited or accepted.
pub fn seats_taken(team: &[TeamMemberView]) -> u32 {
    u32::try_from(team.iter().filter(|m| m.role != Role::Owner).count()).unwrap_or(u32::MAX)
}

fn plan_index(plan: Plan) -> usize {
    Plan::ALL.iter().position(|p| *p == plan).unwrap_or(0)
}

impl Core {
    /// The brand's team, owner first.
    pub async fn team(&self, actor: &Actor) -> CoreResult<Vec<TeamMemberView>> {
        Ok(self.store.team_of_brand(&actor.merchant_id).await?)
    }

    /// The brand's seats: how many its plan includes and how many are taken.
    pub async fn seat_use(&self, actor: &Actor) -> CoreResult<SeatUse> {
        let merchant = self
            .store
            .get_merchant(&actor.merchant_id)
            .await?
            .ok_or_else(|| CoreError::not_found("brand"))?;
        let team = self.store.team_of_brand(&actor.merchant_id).await?;
        Ok(SeatUse { included: seats_for(&self.limits, merchant.plan), taken: seats_taken(&team) })
    }

    /// Invites a person to the brand's team and mails them the link (in the same transaction).
    /// Owner only; `409 duplicate` when they are on the team already; `422 seat_limit_reached`
    /// past the plan's seats.
    pub async fn invite_member(&self, actor: &Actor, input: InviteInput) -> CoreResult<String> {
        self.audited(actor, "team.invite", None, self.invite_member_work(actor, input)).await
    }

    async fn invite_member_work(&self, actor: &Actor, input: InviteInput) -> CoreResult<String> {
        require_team_change(actor)?;
        let email = canonical_email(&input.email);
        let mut issues = Vec::new();
        if !is_valid_email(&email) {
            issues.push(Issue::field("email", "enter a valid email address"));
        }
        if input.role == Role::Owner {
            issues.push(Issue::field("role", "a brand has one owner; invite an admin or a member"));
        }
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let merchant = self
            .store
            .get_merchant(&actor.merchant_id)
            .await?
            .ok_or_else(|| CoreError::not_found("brand"))?;
        let team = self.store.team_of_brand(&actor.merchant_id).await?;
        if team.iter().any(|m| m.email == email) {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "duplicate",
                "this person is already on the team or invited",
            )
            .with_details(
                serde_json::json!([{ "path": ["email"], "message": "already on the team or invited" }]),
            ));
        }
        let seats = seats_for(&self.limits, merchant.plan);
        if seats_taken(&team) >= seats {
            return Err(CoreError::new(
                ErrorKind::Unprocessable,
                "seat_limit_reached",
                format!(
                    "The {} plan includes {seats} team seats, all taken; remove someone or upgrade",
                    merchant.plan.as_str()
                ),
            ));
        }
        let now = self.now();
        let existing = self.store.find_user_by_email(&email).await?;
        let new_user = existing.is_none().then(|| User {
            id: new_id("usr"),
            email: email.clone(),
            name: String::new(),
            password_hash: None,
            created_at: now,
        });
        let user_id = existing.as_ref().or(new_user.as_ref()).map(|u| u.id.clone()).unwrap_or_default();
        let admin = input.role == Role::Admin;
        let member = TeamMember {
            merchant_id: actor.merchant_id.clone(),
            user_id: user_id.clone(),
            role: input.role,
            manage_payouts: admin || input.manage_payouts,
            manage_keys: admin || input.manage_keys,
            invited_by: actor.user_id().map(str::to_string),
            created_at: now,
            accepted_at: None,
        };
        let token = new_secret_token();
        let stored = OneTimeToken {
            token_hash: sha256_hex(token.as_bytes()),
            purpose: "invite".into(),
            owner_id: user_id.clone(),
            merchant_id: Some(actor.merchant_id.clone()),
            created_at: now,
            expires_at: now + INVITE_TTL_MS,
            used_at: None,
        };
        let inviter = match actor.user_id() {
            Some(id) => self.store.get_user(id).await?.map_or_else(|| "The owner".to_string(), |u| u.email),
            None => "The owner".to_string(),
        };
        let mail = self.invitation_mail(&actor.merchant_id, &email, &merchant.name, &inviter, &token);
        if !self.store.add_team_member(new_user.as_ref(), &member, Some(&stored), Some(&mail)).await? {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "duplicate",
                "this person is already on the team or invited",
            ));
        }
        self.effects.mail_written();
        Ok(user_id)
    }

    /// What an invitation link is for; `404 link_expired` when it was used, revoked or expired.
    pub async fn invitation(&self, token: &str) -> CoreResult<InvitationView> {
        let found = self
            .store
            .live_token(SignInKind::User, &sha256_hex(token.as_bytes()), "invite", self.now())
            .await?;
        let token = found.ok_or_else(expired_invitation)?;
        let user = self.store.get_user(&token.owner_id).await?.ok_or_else(expired_invitation)?;
        let merchant_id = token.merchant_id.unwrap_or_default();
        let brand = self.store.get_merchant(&merchant_id).await?.ok_or_else(expired_invitation)?;
        Ok(InvitationView {
            brand: brand.name,
            email: user.email,
            needs_password: user.password_hash.is_none(),
        })
    }

    /// Accepts an invitation: a person without a password sets one, a person with one confirms
    /// it; then they are on the team and signed in, on the brand.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        context: &SessionContext,
    ) -> CoreResult<OpenedSession> {
        let view = self.invitation(token).await?;
        let user = self.store.find_user_by_email(&view.email).await?.ok_or_else(expired_invitation)?;
        let new_hash = match &user.password_hash {
            None => {
                if let Some(problem) = password_problem(password, &user.email) {
                    return Err(CoreError::validation(vec![Issue::field("password", problem)]));
                }
                Some(password::hash(password.to_string()).await?)
            }
            Some(stored) => {
                if !password::verify(password.to_string(), Some(stored.clone())).await {
                    return Err(CoreError::validation(vec![Issue::field(
                        "password",
                        "wrong password for this login",
                    )]));
                }
                None
            }
        };
        let redeemed = self
            .store
            .redeem_token(
                SignInKind::User,
                &sha256_hex(token.as_bytes()),
                "invite",
                self.now(),
                new_hash.as_deref(),
            )
            .await?
            .ok_or_else(expired_invitation)?;
        let grants = self
            .store
            .team_member(redeemed.merchant_id.as_deref().unwrap_or_default(), &user.id)
            .await?
            .map_or(refline_domain::Grants::OWNER, |m| m.grants());
        let door = crate::Door::Dashboard { user_id: user.id.clone(), grants };
        let result: CoreResult<()> = Ok(());
        self.record_audit(redeemed.merchant_id.as_deref(), &door, "team.accept", Some(&user.id), &result)
            .await;
        self.open_session(SignInKind::User, &user.id, redeemed.merchant_id, context).await
    }

    /// Changes a member's role and rights. Owner only; the owner's own place cannot change.
    pub async fn update_member(&self, actor: &Actor, user_id: &str, change: InviteInput) -> CoreResult<()> {
        self.audited(actor, "team.update", Some(user_id), async {
            require_team_change(actor)?;
            let current = self.member_of(actor, user_id).await?;
            if current.role == Role::Owner || change.role == Role::Owner {
                return Err(CoreError::new(
                    ErrorKind::Unprocessable,
                    "owner_fixed",
                    "The owner's role cannot change",
                ));
            }
            let admin = change.role == Role::Admin;
            let updated = TeamMember {
                role: change.role,
                manage_payouts: admin || change.manage_payouts,
                manage_keys: admin || change.manage_keys,
                ..current
            };
            self.store.update_team_member(&updated).await?;
            Ok(())
        })
        .await
    }

    /// Removes a member or revokes an invitation. Owner only; the owner cannot be removed.
    pub async fn remove_member(&self, actor: &Actor, user_id: &str) -> CoreResult<()> {
        self.audited(actor, "team.remove", Some(user_id), async {
            require_team_change(actor)?;
            let current = self.member_of(actor, user_id).await?;
            if current.role == Role::Owner {
                return Err(CoreError::new(
                    ErrorKind::Unprocessable,
                    "owner_fixed",
                    "The owner cannot be removed",
                ));
            }
            self.store.remove_team_member(&actor.merchant_id, user_id).await?;
            Ok(())
        })
        .await
    }

    async fn member_of(&self, actor: &Actor, user_id: &str) -> CoreResult<TeamMember> {
        self.store
            .team_member(&actor.merchant_id, user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("team member"))
    }
}

/// Who may change the team: the owner (a dashboard member's grants), or a key with write access
/// that is live (a test key must not mail real people nor change who runs the brand).
fn require_team_change(actor: &Actor) -> CoreResult<()> {
    actor.require_write()?;
    actor.require_live("The team")?;
    actor.require_grant(Grant::ManageTeam)
}

fn expired_invitation() -> CoreError {
    CoreError::new(
        ErrorKind::NotFound,
        "link_expired",
        "This invitation has expired, was revoked or was already used",
    )
}
