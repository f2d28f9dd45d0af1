//! Affiliates and their memberships: create API-managed affiliates, approve or reject a
//! membership, remove one, and read an affiliate with its earnings.

use refline_domain::{
    canonical_email, check_membership_transition, is_valid_email, MembershipStatus, Transition,
};
use refline_store::{
    Affiliate, AffiliateFilter, AffiliateSort, Campaign, ClickTotals, CreateAffiliateOutcome, Membership,
    MembershipView, Page, PageRequest,
};
use serde_json::json;

use crate::{
    field_order::in_field_order, fingerprint::device_hash, ids::new_id, Actor, Core, CoreError, CoreResult,
    Issue,
};

/// Sort keys of affiliate lists.
pub const SORTS: &[(&str, AffiliateSort)] = &[
    ("joinedAt", AffiliateSort::JoinedAt),
    ("createdAt", AffiliateSort::JoinedAt),
    ("name", AffiliateSort::Name),
    ("email", AffiliateSort::Email),
];

/// Membership statuses a list may be filtered by.
pub const STATUSES: &[&str] = &["pending", "approved", "rejected"];

/// `https://…/redirect?tc=<code>&aff=<id>`: the hosted link that records a click.
pub fn tracking_link(public_url: &str, tracking_code: &str, affiliate_id: &str) -> String {
    format!("{public_url}/redirect?tc={tracking_code}&aff={affiliate_id}")
}

/// A new affiliate, managed by the merchant's own systems, on one campaign.
#[derive(Debug, Clone, Default)]
pub struct NewAffiliate {
    /// Email, in any form: the operation puts it in the canonical one.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The campaign to join (approved at once).
    pub campaign_id: Option<String>,
    /// Where the affiliate signed up from (the merchant's signup form knows): compared with
    /// customers' clicks to spot self-referrals.
    pub ip_address: Option<String>,
    /// The affiliate's browser at signup, for the same comparison.
    pub user_agent: Option<String>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// A created affiliate with its first membership.
#[derive(Debug, Clone)]
pub struct CreatedAffiliate {
    /// The affiliate.
    pub affiliate: Affiliate,
    /// Its membership (approved).
    pub membership: Membership,
    /// The campaign joined.
    pub campaign: Campaign,
    /// The hosted link.
    pub tracking_link: String,
}

/// An affiliate with every membership, earnings and clicks, for the actor's mode.
#[derive(Debug, Clone)]
pub struct AffiliateDetail {
    /// The affiliate.
    pub affiliate: Affiliate,
    /// Its memberships with earnings and clicks per campaign.
    pub memberships: Vec<MembershipView>,
    /// Earnings per campaign currency; currencies are never added together.
    pub earnings_by_currency: Vec<(String, i64)>,
    /// The currency of `total_earnings`: the only one earned in, or else the merchant's.
    pub total_currency: String,
    /// Earnings in `total_currency`.
    pub total_earnings: i64,
    /// Clicks over every membership.
    pub clicks: ClickTotals,
}

impl Core {
    /// A page of the actor's memberships, with earnings and clicks.
    pub async fn list_affiliates(
        &self,
        actor: &Actor,
        filter: &AffiliateFilter,
        page: PageRequest<AffiliateSort>,
    ) -> CoreResult<Page<MembershipView>> {
        Ok(self.store.list_memberships(&actor.merchant_id, filter, actor.mode, page).await?)
    }

    /// One of the actor's affiliates with everything about it.
    pub async fn get_affiliate(&self, actor: &Actor, id: &str) -> CoreResult<AffiliateDetail> {
        let affiliate = self
            .store
            .get_affiliate(&actor.merchant_id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("Affiliate"))?;
        let memberships = self.store.affiliate_memberships(&actor.merchant_id, id, actor.mode).await?;
        let mut earnings_by_currency: Vec<(String, i64)> = Vec::new();
        for m in &memberships {
            match earnings_by_currency.iter_mut().find(|(c, _)| *c == m.currency) {
                Some(entry) => entry.1 = entry.1.saturating_add(m.earnings_minor),
                None => earnings_by_currency.push((m.currency.clone(), m.earnings_minor)),
            }
        }
        let total_currency = match earnings_by_currency.as_slice() {
            [(only, _)] => only.clone(),
            _ => actor.currency.clone(),
        };
        let total_earnings =
            earnings_by_currency.iter().find(|(c, _)| *c == total_currency).map_or(0, |(_, v)| *v);
        let mut clicks = ClickTotals::default();
        for m in &memberships {
            clicks.add(m.clicks);
        }
        Ok(AffiliateDetail {
            affiliate,
            memberships,
            earnings_by_currency,
            total_currency,
            total_earnings,
            clicks,
        })
    }

    /// Creates an affiliate approved on one campaign (`duplicate` when the email is taken by
    /// one of the merchant's affiliates). Announces `affiliate.joined` in live mode.
    pub async fn create_affiliate(&self, actor: &Actor, input: NewAffiliate) -> CoreResult<CreatedAffiliate> {
        self.audited(actor, "affiliate.create", None, self.create_affiliate_work(actor, input)).await
    }

    async fn create_affiliate_work(
        &self,
        actor: &Actor,
        input: NewAffiliate,
    ) -> CoreResult<CreatedAffiliate> {
        actor.require_write()?;
        let mut issues = input.unreadable;
        let email = input.email.map(|e| canonical_email(&e));
        if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
            issues.push(Issue::field("email", "email must be a valid email address"));
        }
        let signup_ip = input.ip_address.as_deref().map(str::parse::<std::net::IpAddr>);
        if matches!(signup_ip, Some(Err(_))) {
            issues.push(Issue::field("ipAddress", "ipAddress must be an IPv4 or IPv6 address"));
        }
        let (Some(email), Some(campaign_id), true) = (email, input.campaign_id, issues.is_empty()) else {
            in_field_order(&mut issues, &["email", "name", "campaignId", "ipAddress", "userAgent"]);
            return Err(CoreError::validation(issues));
        };
        let campaign = self.load_campaign(actor, &campaign_id).await?;
        let now = self.now();
        let affiliate = Affiliate {
            id: new_id("aff"),
            merchant_id: actor.merchant_id.clone(),
            email,
            name: input.name,
            created_via: "api".into(),
            created_at: now,
            payout_method: None,
        };
        let membership = Membership {
            campaign_id: campaign.id.clone(),
            affiliate_id: affiliate.id.clone(),
            merchant_id: actor.merchant_id.clone(),
            status: MembershipStatus::Approved,
            joined_at: now,
            updated_at: now,
        };
        match self.store.create_affiliate(&affiliate, &membership, actor.mode).await? {
            CreateAffiliateOutcome::EmailTaken { existing_id } => Err(CoreError::duplicate(
                "An affiliate with this email already exists",
                json!({ "affiliateId": existing_id }),
            )),
            CreateAffiliateOutcome::Created => {
                self.effects.outbox_written();
                self.effects.links_changed();
                if let Some(Ok(ip)) = signup_ip {
                    self.store.record_fingerprint(&affiliate.id, "ip", &ip.to_string(), now).await?;
                }
                if let Some(agent) = &input.user_agent {
                    self.store.record_fingerprint(&affiliate.id, "device", &device_hash(agent), now).await?;
                }
                let tracking_link = tracking_link(&self.public_url, &campaign.tracking_code, &affiliate.id);
                Ok(CreatedAffiliate { affiliate, membership, campaign, tracking_link })
            }
        }
    }

    /// Approves or rejects an affiliate's membership on a campaign. Rejection is final through
    /// this operation; a no-op changes and announces nothing.
    pub async fn set_membership_status(
        &self,
        actor: &Actor,
        affiliate_id: &str,
        campaign_id: &str,
        target: MembershipStatus,
    ) -> CoreResult<AffiliateDetail> {
        self.audited(
            actor,
            "membership.status",
            Some(affiliate_id),
            self.set_membership_status_work(actor, affiliate_id, campaign_id, target),
        )
        .await
    }

    async fn set_membership_status_work(
        &self,
        actor: &Actor,
        affiliate_id: &str,
        campaign_id: &str,
        target: MembershipStatus,
    ) -> CoreResult<AffiliateDetail> {
        actor.require_write()?;
        if self.store.get_affiliate(&actor.merchant_id, affiliate_id).await?.is_none() {
            return Err(CoreError::not_found("Affiliate"));
        }
        let membership = self
            .store
            .get_membership(&actor.merchant_id, campaign_id, affiliate_id)
            .await?
            .ok_or_else(|| CoreError::not_found("Affiliate membership on this campaign"))?;
        let current = membership.status;
        match check_membership_transition(current, target) {
            Err(_) if current == MembershipStatus::Rejected => {
                return Err(CoreError::invalid_transition(
                    "This affiliate was rejected on this campaign; rejection is final through the API",
                ))
            }
            Err(e) => return Err(CoreError::invalid_transition(e.to_string())),
            Ok(Transition::NoOp) => {}
            Ok(Transition::Change) => {
                // Written with the change, in its transaction: a crash cannot keep one without
                // the other.
                let mail = self.membership_mail(actor, affiliate_id, campaign_id, target).await?;
                let moved = self
                    .store
                    .update_membership_status(
                        &membership,
                        current,
                        target,
                        self.now(),
                        actor.mode,
                        mail.as_ref(),
                    )
                    .await?;
                if !moved {
                    return Err(CoreError::changed_concurrently("membership"));
                }
                self.effects.outbox_written();
                self.effects.links_changed();
                if mail.is_some() {
                    self.effects.mail_written();
                }
            }
        }
        self.get_affiliate(actor, affiliate_id).await
    }

    /// Removes an affiliate from one campaign. Its conversions stay; new ones are refused
    /// until it joins again. Announces `affiliate.removed` in live mode.
    pub async fn remove_membership(
        &self,
        actor: &Actor,
        affiliate_id: &str,
        campaign_id: &str,
    ) -> CoreResult<()> {
        self.audited(
            actor,
            "membership.remove",
            Some(affiliate_id),
            self.remove_membership_work(actor, affiliate_id, campaign_id),
        )
        .await
    }

    async fn remove_membership_work(
        &self,
        actor: &Actor,
        affiliate_id: &str,
        campaign_id: &str,
    ) -> CoreResult<()> {
        actor.require_write()?;
        let missing = || CoreError::not_found("Affiliate membership on this campaign");
        let membership = self
            .store
            .get_membership(&actor.merchant_id, campaign_id, affiliate_id)
            .await?
            .ok_or_else(missing)?;
        if !self.store.remove_membership(&membership, self.now(), actor.mode).await? {
            return Err(missing());
        }
        self.effects.outbox_written();
        self.effects.links_changed();
        Ok(())
    }
}
