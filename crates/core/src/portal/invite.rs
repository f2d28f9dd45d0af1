//! Invitations by email: a merchant (API key or dashboard) invites an address to a campaign;
//! the mailed link (`/portal/invite/<token>`) adds the person to the campaign, approved, making
//! their login if they have none. This is how API-created affiliates (`createdVia: "api"`) get a
//! login: accepting links their existing row to the person.
//!
//! Rules: `409 duplicate` when a pending invitation for the email and campaign exists or the
//! person is already on the campaign; links work for [`super::INVITATION_TTL_MS`] (14 days);
//! a pending invitation can be revoked. Test-key invitations are recorded (and answered as
//! usual) but never mailed, and their links cannot be accepted. The per-key limit of 10 a
//! minute is the API door's (an in-memory window per key, like every API rate limit).

use refline_domain::{
    canonical_email, first_forbidden_char, is_valid_email, password_problem, MembershipStatus,
};
use refline_store::{Campaign, Invitation, Person};
use serde_json::json;

use super::{
    join::{Joined, Placement},
    PortalSignedIn, INVITATION_TTL_MS,
};
use crate::{
    audit::AuditTarget,
    field_order::in_field_order,
    ids::{new_id, new_secret_token, sha256_hex},
    sign_in::{reset::expired_link, SessionContext, SignInKind},
    team::password,
    terms, Actor, Core, CoreError, CoreResult, ErrorKind, Issue,
};

/// What an invitation request carries.
#[derive(Debug, Clone, Default)]
pub struct InviteInput {
    /// Email, in any form.
    pub email: Option<String>,
    /// The campaign.
    pub campaign_id: Option<String>,
    /// For the greeting.
    pub name: Option<String>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// An invitation as operations answer it.
#[derive(Debug, Clone)]
pub struct InvitationOut {
    /// The invitation.
    pub invitation: Invitation,
    /// Its status now (`expired` for a pending one past its time).
    pub status: String,
    /// Whether a mail was queued (never for test keys).
    pub mailed: bool,
}

impl AuditTarget for InvitationOut {
    fn audit_target(&self) -> Option<String> {
        Some(self.invitation.id.clone())
    }
}

/// An invitation link as its page shows it.
#[derive(Debug, Clone)]
pub struct InvitationLink {
    /// The invitation.
    pub invitation: Invitation,
    /// The campaign.
    pub campaign: Campaign,
    /// The merchant's business name.
    pub business_name: String,
    /// The commission terms in a sentence.
    pub terms: String,
    /// Whether the email has an affiliate login already (then accepting needs it signed in).
    pub person_exists: bool,
}

/// What the accept form sends for a person without a login.
#[derive(Debug, Clone, Default)]
pub struct AcceptInput {
    /// Display name (the invitation's when blank).
    pub name: String,
    /// The new password.
    pub password: String,
}

impl Core {
    /// Invites `email` to a campaign of the actor's. Audited as `affiliate.invite`.
    pub async fn invite_affiliate(&self, actor: &Actor, input: InviteInput) -> CoreResult<InvitationOut> {
        self.audited(actor, "affiliate.invite", None, self.invite_work(actor, input)).await
    }

    async fn invite_work(&self, actor: &Actor, input: InviteInput) -> CoreResult<InvitationOut> {
        actor.require_write()?;
        let mut issues = input.unreadable;
        let email = input.email.map(|e| canonical_email(&e));
        if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
            issues.push(Issue::field("email", "email must be a valid email address"));
        }
        let name = input.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if let Some(name) = &name {
            if name.chars().count() > 200 || first_forbidden_char(name).is_some() {
                issues.push(Issue::field("name", "name must be 1 to 200 characters of text"));
            }
        }
        for (field, missing) in [("email", email.is_none()), ("campaignId", input.campaign_id.is_none())] {
            if missing && !issues.iter().any(|i| i.path.first().and_then(|p| p.as_str()) == Some(field)) {
                issues.push(Issue::field(field, format!("{field} is required")));
            }
        }
        let (Some(email), Some(campaign_id), true) = (email, input.campaign_id, issues.is_empty()) else {
            in_field_order(&mut issues, &["email", "campaignId", "name"]);
            return Err(CoreError::validation(issues));
        };
        let campaign = self.load_campaign(actor, &campaign_id).await?;
        if let Some((row, _)) = self.store.affiliate_by_email(&actor.merchant_id, &email).await? {
            if let Some(m) = self.store.get_membership(&actor.merchant_id, &campaign.id, &row.id).await? {
                return Err(CoreError::duplicate(
                    "This person is already on the campaign",
                    json!({ "affiliateId": row.id, "status": m.status.as_str() }),
                ));
            }
        }
        let token = new_secret_token();
        let now = self.now();
        let created_by = actor.door.key_id().or(actor.user_id()).unwrap_or(actor.door.as_str()).to_string();
        let invitation = Invitation {
            id: new_id("inv"),
            merchant_id: actor.merchant_id.clone(),
            campaign_id: campaign.id.clone(),
            email,
            name,
            token_hash: sha256_hex(token.as_bytes()),
            status: "pending".into(),
            is_test: actor.is_test(),
            expires_at: now + INVITATION_TTL_MS,
            created_at: now,
            created_by,
            accepted_at: None,
        };
        let mail = match actor.is_test() {
            true => None,
            false => {
                let business = self.business_name(&actor.merchant_id).await?;
                Some(self.affiliate_invitation_mail(
                    &actor.merchant_id,
                    &business,
                    &invitation.email,
                    invitation.name.as_deref(),
                    &campaign,
                    &token,
                ))
            }
        };
        if !self.store.insert_invitation(&invitation, mail.as_ref()).await? {
            return Err(CoreError::duplicate(
                "A pending invitation for this email and campaign exists",
                json!({ "email": invitation.email, "campaignId": campaign.id }),
            ));
        }
        if mail.is_some() {
            self.effects.mail_written();
        }
        Ok(InvitationOut { status: "pending".into(), invitation, mailed: mail.is_some() })
    }

    /// One of the actor's invitations (a test key sees test invitations, a live one live ones).
    pub async fn get_affiliate_invitation(&self, actor: &Actor, id: &str) -> CoreResult<InvitationOut> {
        let invitation = self
            .store
            .get_invitation(&actor.merchant_id, id)
            .await?
            .filter(|i| i.is_test == actor.is_test())
            .ok_or_else(|| CoreError::not_found("Invitation"))?;
        let status = invitation.status_at(self.now()).to_string();
        Ok(InvitationOut { mailed: !invitation.is_test, status, invitation })
    }

    /// Revokes a pending invitation: its link stops working. Audited as
    /// `affiliate.invite_revoke`.
    pub async fn revoke_affiliate_invitation(&self, actor: &Actor, id: &str) -> CoreResult<InvitationOut> {
        self.audited(actor, "affiliate.invite_revoke", Some(id), async {
            actor.require_write()?;
            let found = self.get_affiliate_invitation(actor, id).await?;
            if found.status != "pending" {
                return Err(CoreError::invalid_transition(format!(
                    "Only a pending invitation can be revoked; this one is {}",
                    found.status
                )));
            }
            if !self.store.revoke_invitation(&actor.merchant_id, id).await? {
                return Err(CoreError::changed_concurrently("invitation"));
            }
            self.get_affiliate_invitation(actor, id).await
        })
        .await
    }

    /// The invitation behind a link: `404 link_expired` unless it is pending, unexpired and
    /// live.
    pub async fn invitation_link(&self, token: &str) -> CoreResult<InvitationLink> {
        let invitation = self
            .store
            .invitation_by_token(&sha256_hex(token.as_bytes()))
            .await?
            .filter(|i| !i.is_test && i.status_at(self.now()) == "pending")
            .ok_or_else(expired_link)?;
        let campaign = self
            .store
            .get_campaign(&invitation.merchant_id, &invitation.campaign_id)
            .await?
            .ok_or_else(expired_link)?;
        let business_name = self.business_name(&invitation.merchant_id).await?;
        let person_exists = self.store.find_person_by_email(&invitation.email).await?.is_some();
        Ok(InvitationLink {
            terms: terms::summary(&campaign),
            invitation,
            campaign,
            business_name,
            person_exists,
        })
    }

    /// Accepts an invitation: the person (made now, with `input`'s password, when the email has
    /// no login; otherwise they must be signed in as that person) is put on the campaign,
    /// approved. A new person is signed in (the answer's `session`).
    pub async fn accept_affiliate_invitation(
        &self,
        token: &str,
        signed_in: Option<&PortalSignedIn>,
        input: AcceptInput,
        context: &SessionContext,
    ) -> CoreResult<Joined> {
        let link = self.invitation_link(token).await?;
        let existing = self.store.find_person_by_email(&link.invitation.email).await?;
        let (person, new_person) = match existing {
            Some(person) => match signed_in {
                Some(s) if s.person.id == person.id => (person, false),
                _ => {
                    return Err(CoreError::new(
                        ErrorKind::Unauthenticated,
                        "login_required",
                        format!("Log in as {} to accept this invitation", person.email),
                    ))
                }
            },
            None => {
                if let Some(problem) = password_problem(&input.password, &link.invitation.email) {
                    return Err(CoreError::validation(vec![Issue::field("password", problem)]));
                }
                let name = Some(input.name.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .or_else(|| link.invitation.name.clone());
                if name
                    .as_deref()
                    .is_some_and(|n| n.chars().count() > 200 || first_forbidden_char(n).is_some())
                {
                    return Err(CoreError::validation(vec![Issue::field(
                        "name",
                        "name must be 1 to 200 characters of text",
                    )]));
                }
                let person = Person {
                    id: new_id("per"),
                    email: link.invitation.email.clone(),
                    name,
                    password_hash: Some(password::hash(input.password).await?),
                    created_at: self.now(),
                };
                (person, true)
            }
        };
        let person_id = person.id.clone();
        let result = self
            .place_person(Placement {
                campaign: &link.campaign,
                business_name: &link.business_name,
                person,
                new_person,
                status: MembershipStatus::Approved,
                invitation_id: Some(link.invitation.id.clone()),
                created_via: "invite",
            })
            .await;
        let audit = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.record_audit(
            Some(&link.invitation.merchant_id),
            &super::door(&person_id),
            "invitation.accept",
            Some(&link.invitation.id),
            &audit,
        )
        .await;
        let mut joined = result?;
        match signed_in {
            _ if new_person => {
                joined.session =
                    Some(self.open_session(SignInKind::Person, &person_id, None, context).await?);
            }
            Some(signed_in) => self.remember_session_on_new_rows(signed_in).await,
            None => {}
        }
        Ok(joined)
    }

    /// The brand's business name (for mails and pages).
    pub(crate) async fn business_name(&self, merchant_id: &str) -> CoreResult<String> {
        Ok(self.store.get_merchant(merchant_id).await?.map(|m| m.name).unwrap_or_default())
    }
}
