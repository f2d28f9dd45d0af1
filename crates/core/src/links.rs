//! Short links (`/l/<code>`) for an affiliate on a campaign: created, read, listed and deleted.
//!
//! A door reads `campaignId`, `affiliateId` and `code` (types and lengths, "is required") into a
//! [`LinkInput`]; the operation applies the short-code rule, checks the affiliate is on the
//! campaign, and generates a code when none was asked for.

use rand::Rng;
use refline_domain::is_valid_short_code;
use refline_store::{Link, LinkFilter, LinkView, Page, PageRequest};
use serde_json::json;

use crate::{field_order::in_field_order, ids::new_id, Actor, Core, CoreError, CoreResult, ErrorKind, Issue};

/// A new link as sent.
#[derive(Debug, Clone, Default)]
pub struct LinkInput {
    /// The campaign (required; the door reports it missing).
    pub campaign_id: Option<String>,
    /// The affiliate, who must be on the campaign (required; the door reports it missing).
    pub affiliate_id: Option<String>,
    /// A chosen code; one is generated when `None`.
    pub code: Option<String>,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// A link with its campaign's tracking code, its clicks and its public URL.
#[derive(Debug, Clone)]
pub struct LinkOut {
    /// The link, tracking code and click totals.
    pub view: LinkView,
    /// `<public URL>/l/<code>`.
    pub url: String,
}

/// Field order of link problems.
const FIELDS: &[&str] = &["campaignId", "affiliateId", "code"];

/// A generated code: 8 lower-case letters and digits (40 bits), short enough to type; no
/// `l`, `o`, `0` or `1`, which people misread.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..8).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

impl Core {
    fn link_out(&self, view: LinkView) -> LinkOut {
        let url = format!("{}/l/{}", self.public_url, view.link.code);
        LinkOut { view, url }
    }

    /// One of the actor's links, or `not_found`.
    pub async fn get_link(&self, actor: &Actor, id: &str) -> CoreResult<LinkOut> {
        let view =
            self.store.get_link(&actor.merchant_id, id).await?.ok_or_else(|| CoreError::not_found("Link"))?;
        Ok(self.link_out(view))
    }

    /// A page of the actor's links, optionally of one campaign or affiliate.
    pub async fn list_links(
        &self,
        actor: &Actor,
        filter: &LinkFilter,
        page: PageRequest<()>,
    ) -> CoreResult<Page<LinkOut>> {
        let found = self.store.list_links(&actor.merchant_id, filter, page).await?;
        Ok(Page { items: found.items.into_iter().map(|v| self.link_out(v)).collect(), total: found.total })
    }

    /// Creates a link. The affiliate must be on the campaign; a chosen code already in use
    /// anywhere is `409 code_taken` (codes are global: `/l/<code>` carries no merchant), while a
    /// generated one is simply drawn again.
    pub async fn create_link(&self, actor: &Actor, input: LinkInput) -> CoreResult<LinkOut> {
        self.audited(actor, "link.create", None, self.create_link_work(actor, input)).await
    }

    async fn create_link_work(&self, actor: &Actor, input: LinkInput) -> CoreResult<LinkOut> {
        actor.require_write()?;
        let mut issues = input.unreadable;
        if input.code.as_deref().is_some_and(|code| !is_valid_short_code(code)) {
            issues.push(Issue::field("code", "code must be 3 to 32 letters, digits, '-' or '_'"));
        }
        in_field_order(&mut issues, FIELDS);
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let (Some(campaign_id), Some(affiliate_id)) = (input.campaign_id, input.affiliate_id) else {
            return Err(CoreError::internal("link input without campaign or affiliate and no issue"));
        };
        self.store
            .get_membership(&actor.merchant_id, &campaign_id, &affiliate_id)
            .await?
            .ok_or_else(|| CoreError::not_found("Affiliate membership on this campaign"))?;
        let custom = input.code.is_some();
        for _ in 0..5 {
            let link = Link {
                id: new_id("link"),
                code: input.code.clone().unwrap_or_else(new_code),
                merchant_id: actor.merchant_id.clone(),
                campaign_id: campaign_id.clone(),
                affiliate_id: affiliate_id.clone(),
                created_at: self.now(),
            };
            match self.store.insert_link(&link).await {
                Ok(()) => {
                    self.effects.links_changed();
                    return self.get_link(actor, &link.id).await;
                }
                Err(err) if err.is_conflict_on("code") && custom => {
                    return Err(CoreError::new(
                        ErrorKind::Conflict,
                        "code_taken",
                        "That short-link code is taken",
                    )
                    .with_details(json!({ "code": link.code })));
                }
                Err(err) if err.is_conflict_on("code") => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(CoreError::internal("could not find a free short-link code"))
    }

    /// Deletes one of the actor's links; its code stops resolving.
    pub async fn delete_link(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        self.audited(actor, "link.delete", Some(id), self.delete_link_work(actor, id)).await
    }

    async fn delete_link_work(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        actor.require_write()?;
        if !self.store.delete_link(&actor.merchant_id, id).await? {
            return Err(CoreError::not_found("Link"));
        }
        self.effects.links_changed();
        Ok(())
    }
}
