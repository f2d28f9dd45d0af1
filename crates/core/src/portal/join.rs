//! The public join page of a campaign (`/join/<tracking code>`, each campaign's `joinUrl`) and
//! applying through it: a new affiliate signs up (name, email, password), an existing one is
//! signed in and applies. The membership is `pending` unless the campaign auto-approves;
//! `affiliate.joined` is announced in the same transaction; a rejected person cannot apply again.
//!
//! [`Core::place_person`] is also what an accepted invitation runs.

use refline_domain::{
    canonical_email, first_forbidden_char, is_valid_email, password_problem, CampaignStatus, MembershipStatus,
};
use refline_store::{
    Affiliate, Campaign, CouponFilter, EnrollOutcome, EnrolledAffiliate, Enrollment, Membership, PageRequest,
    Person,
};

use super::PortalSignedIn;
use crate::{
    affiliates::tracking_link,
    ids::new_id,
    sign_in::{reset::expired_link, OpenedSession, SessionContext, SignInKind},
    team::password,
    terms, Core, CoreError, CoreResult, ErrorKind, Issue,
};

/// A campaign as its join page shows it.
#[derive(Debug, Clone)]
pub struct JoinView {
    /// The campaign.
    pub campaign: Campaign,
    /// The merchant's business name.
    pub business_name: String,
    /// The commission terms in a sentence.
    pub terms: String,
}

/// What the join form sends for a new affiliate.
#[derive(Debug, Clone, Default)]
pub struct JoinInput {
    /// Display name.
    pub name: String,
    /// Email (the login).
    pub email: String,
    /// Password.
    pub password: String,
}

/// The outcome of applying.
#[derive(Debug, Clone)]
pub struct Joined {
    /// `pending`, or `approved` when the campaign auto-approves.
    pub status: MembershipStatus,
    /// The affiliate row at the merchant.
    pub affiliate_id: String,
    /// A new person's session (they are signed in after signing up).
    pub session: Option<OpenedSession>,
}

/// Where a person is being put and how (join page or invitation).
pub(crate) struct Placement<'a> {
    pub campaign: &'a Campaign,
    pub business_name: &'a str,
    pub person: Person,
    pub new_person: bool,
    pub status: MembershipStatus,
    pub invitation_id: Option<String>,
    pub created_via: &'static str,
}

impl Core {
    /// The join page of `code`: `404` for an unknown code, a paused or non-public campaign, or
    /// an archived brand (the page of a campaign that takes no one looks like no page at all).
    pub async fn join_page(&self, code: &str) -> CoreResult<JoinView> {
        let shaped = (1..=64).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let campaign = match shaped {
            true => self.store.campaign_by_code(code).await?,
            false => None,
        };
        let campaign = campaign
            .filter(|c| c.status == CampaignStatus::Active && c.is_public)
            .ok_or_else(|| CoreError::not_found("Campaign"))?;
        let merchant = self
            .store
            .get_merchant(&campaign.merchant_id)
            .await?
            .filter(|m| m.archived_at.is_none())
            .ok_or_else(|| CoreError::not_found("Campaign"))?;
        Ok(JoinView { terms: terms::summary(&campaign), business_name: merchant.name, campaign })
    }

    /// Signs up a new affiliate person and applies to the campaign of `code`; they are signed
    /// in after. `409 duplicate` when the email already has an affiliate login (log in and
    /// apply instead).
    pub async fn join_as_new(
        &self,
        code: &str,
        input: JoinInput,
        context: &SessionContext,
    ) -> CoreResult<Joined> {
        let view = self.join_page(code).await?;
        let person_id = new_id("per");
        let result = self.join_as_new_work(&view, &person_id, input).await;
        let door = super::door(if result.is_ok() { &person_id } else { "" });
        let target = result.as_ref().ok().map(|j| j.affiliate_id.clone());
        let audit = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.record_audit(
            Some(&view.campaign.merchant_id),
            &door,
            "affiliate.join",
            target.as_deref(),
            &audit,
        )
        .await;
        let mut joined = result?;
        joined.session = Some(self.open_session(SignInKind::Person, &person_id, None, context).await?);
        Ok(joined)
    }

    async fn join_as_new_work(
        &self,
        view: &JoinView,
        person_id: &str,
        input: JoinInput,
    ) -> CoreResult<Joined> {
        let email = canonical_email(&input.email);
        let name = input.name.trim().to_string();
        let mut issues = Vec::new();
        let chars = name.chars().count();
        if chars == 0 || chars > 200 {
            issues.push(Issue::field("name", "name must be 1 to 200 characters"));
        } else if first_forbidden_char(&name).is_some() {
            issues.push(Issue::field("name", "name contains a character that is not allowed"));
        }
        if !is_valid_email(&email) {
            issues.push(Issue::field("email", "enter a valid email address"));
        }
        if let Some(problem) = password_problem(&input.password, &email) {
            issues.push(Issue::field("password", problem));
        }
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        if self.store.find_person_by_email(&email).await?.is_some() {
            return Err(person_email_taken());
        }
        let person = Person {
            id: person_id.to_string(),
            email,
            name: Some(name),
            password_hash: Some(password::hash(input.password).await?),
            created_at: self.now(),
        };
        self.place_person(Placement {
            campaign: &view.campaign,
            business_name: &view.business_name,
            person,
            new_person: true,
            status: initial_status(&view.campaign),
            invitation_id: None,
            created_via: "portal",
        })
        .await
    }

    /// A signed-in affiliate applies to the campaign of `code`.
    pub async fn join_as_person(&self, code: &str, signed_in: &PortalSignedIn) -> CoreResult<Joined> {
        let view = self.join_page(code).await?;
        let result = self
            .place_person(Placement {
                campaign: &view.campaign,
                business_name: &view.business_name,
                person: signed_in.person.clone(),
                new_person: false,
                status: initial_status(&view.campaign),
                invitation_id: None,
                created_via: "portal",
            })
            .await;
        if result.is_ok() {
            self.remember_session_on_new_rows(signed_in).await;
        }
        let target = result.as_ref().ok().map(|j| j.affiliate_id.clone());
        let audit = result.as_ref().map(|_| ()).map_err(Clone::clone);
        self.record_audit(
            Some(&view.campaign.merchant_id),
            &signed_in.door(),
            "affiliate.join",
            target.as_deref(),
            &audit,
        )
        .await;
        result
    }

    /// Puts a person on a campaign: their row at the merchant (new, or theirs already, or —
    /// only through an invitation, which proved the mailbox — an unlinked row with their email,
    /// such as an API-created affiliate's), the membership, the event and the mails, in one
    /// transaction.
    pub(crate) async fn place_person(&self, p: Placement<'_>) -> CoreResult<Joined> {
        let campaign = p.campaign;
        let merchant_id = campaign.merchant_id.clone();
        let invited = p.invitation_id.is_some();
        let now = self.now();
        let existing = self.store.affiliate_by_email(&merchant_id, &p.person.email).await?;
        let (affiliate, affiliate_id) = match existing {
            Some((row, Some(owner))) if owner == p.person.id => {
                (EnrolledAffiliate::Existing { id: row.id.clone(), link: false }, row.id)
            }
            Some((row, None)) if invited => {
                (EnrolledAffiliate::Existing { id: row.id.clone(), link: true }, row.id)
            }
            Some(_) => return Err(already_listed()),
            None => {
                let row = Affiliate {
                    id: new_id("aff"),
                    merchant_id: merchant_id.clone(),
                    email: p.person.email.clone(),
                    name: p.person.name.clone(),
                    created_via: p.created_via.to_string(),
                    created_at: now,
                    payout_method: None,
                };
                let id = row.id.clone();
                (EnrolledAffiliate::New(row), id)
            }
        };
        let mut approve_pending = false;
        if matches!(affiliate, EnrolledAffiliate::Existing { .. }) {
            match self.store.get_membership(&merchant_id, &campaign.id, &affiliate_id).await? {
                Some(m) if m.status == MembershipStatus::Rejected => return Err(application_rejected()),
                Some(m) if m.status == MembershipStatus::Pending && invited => approve_pending = true,
                Some(m) => return Err(already_applied(m.status)),
                None => {}
            }
        }
        let mut mails = Vec::new();
        if p.status == MembershipStatus::Approved {
            let coupon = self.coupon_of(&merchant_id, &campaign.id, &affiliate_id).await?;
            let link = tracking_link(&self.public_url, &campaign.tracking_code, &affiliate_id);
            mails.push(self.approved_mail(
                &merchant_id,
                p.business_name,
                &p.person.email,
                campaign,
                &link,
                coupon,
            ));
        }
        if !invited {
            if let Some(owner) = self.owner_email(&merchant_id).await? {
                mails.push(self.application_mail(
                    &merchant_id,
                    p.business_name,
                    &owner,
                    campaign,
                    &p.person,
                    &affiliate_id,
                    p.status,
                ));
            }
        }
        let enrollment = Enrollment {
            person: p.person,
            new_person: p.new_person,
            affiliate,
            membership: Membership {
                campaign_id: campaign.id.clone(),
                affiliate_id: affiliate_id.clone(),
                merchant_id,
                status: p.status,
                joined_at: now,
                updated_at: now,
            },
            approve_pending,
            invitation_id: p.invitation_id,
            mails,
        };
        match self.store.enroll(&enrollment).await? {
            EnrollOutcome::Done => {}
            EnrollOutcome::EmailTaken => return Err(person_email_taken()),
            EnrollOutcome::InvitationGone => return Err(expired_link()),
            EnrollOutcome::AlreadyMember => return Err(already_applied(MembershipStatus::Pending)),
        }
        self.effects.outbox_written();
        self.effects.links_changed();
        if !enrollment.mails.is_empty() {
            self.effects.mail_written();
        }
        Ok(Joined { status: p.status, affiliate_id, session: None })
    }

    /// The first coupon of the affiliate on the campaign, for the approval mail.
    pub(crate) async fn coupon_of(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
    ) -> CoreResult<Option<String>> {
        let filter = CouponFilter {
            campaign_id: Some(campaign_id.to_string()),
            affiliate_id: Some(affiliate_id.to_string()),
            ..CouponFilter::default()
        };
        let page = PageRequest { limit: 1, offset: 0, sort: (), descending: false };
        let found = self.store.list_coupons(merchant_id, &filter, page).await?;
        Ok(found.items.into_iter().next().map(|c| c.code))
    }

    /// The email of the brand's account owner (the application mails go there), if any.
    pub(crate) async fn owner_email(&self, merchant_id: &str) -> CoreResult<Option<String>> {
        let Some(account) = self.store.account_of_brand(merchant_id).await? else {
            return Ok(None);
        };
        Ok(self.store.get_user(&account.owner_user_id).await?.map(|u| u.email))
    }
}

/// `approved` when the campaign auto-approves, else `pending`.
fn initial_status(campaign: &Campaign) -> MembershipStatus {
    if campaign.auto_approve_affiliates {
        MembershipStatus::Approved
    } else {
        MembershipStatus::Pending
    }
}

fn person_email_taken() -> CoreError {
    CoreError::new(
        ErrorKind::Conflict,
        "duplicate",
        "This email already has an affiliate login; log in to apply",
    )
    .with_details(serde_json::json!([{ "path": ["email"], "message": "this email already has an affiliate login; log in to apply" }]))
}

fn application_rejected() -> CoreError {
    CoreError::new(
        ErrorKind::Conflict,
        "application_rejected",
        "This business declined your application to this campaign, so you cannot apply again",
    )
}

fn already_applied(status: MembershipStatus) -> CoreError {
    CoreError::new(
        ErrorKind::Conflict,
        "already_applied",
        format!("You are already on this campaign (status: {})", status.as_str()),
    )
}

fn already_listed() -> CoreError {
    CoreError::new(
        ErrorKind::Conflict,
        "already_listed",
        "This business already lists your email as an affiliate; ask it for an invitation to link your login",
    )
}
