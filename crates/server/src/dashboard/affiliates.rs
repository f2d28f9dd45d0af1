//! `/merchant/affiliates`: memberships listed with a search and filters, approved / rejected
//! one by one or in bulk, an affiliate's page (memberships, links, clicks, earnings, payout
//! details) with approve / reject / remove per campaign, and adding an affiliate to a campaign.
//!
//! Every action calls the operation the REST API calls: `list_affiliates`, `get_affiliate`,
//! `set_membership_status`, `remove_membership`, `create_affiliate` (its input read by the API's
//! own `read_new_affiliate`), `invite_affiliate` (what `POST /api/v1/affiliates/invite` calls) and
//! `list_links` for the affiliate's short links.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::{
    affiliates::{tracking_link, STATUSES},
    payouts::PayoutMethod,
    portal::invite::InviteInput,
    CoreError,
};
use refline_domain::MembershipStatus;
use refline_store::{AffiliateFilter, AffiliateSort, LinkFilter, MembershipView, PageRequest};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    render::{core_error_page, done, money, page, refused, when, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::{api::affiliates::read_new_affiliate, state::AppState};

/// The affiliate routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/affiliates", get(list).post(add))
        .route("/merchant/affiliates/new", get(add_form))
        .route("/merchant/affiliates/invite", post(invite))
        .route("/merchant/affiliates/mail-settings", post(mail_settings))
        .route("/merchant/affiliates/bulk", post(bulk))
        .route("/merchant/affiliates/{id}", get(show))
        .route("/merchant/affiliates/{id}/campaigns/{campaign_id}/{action}", post(membership_action))
}

/// Memberships per list page.
const PAGE_SIZE: i64 = 50;
/// Campaigns offered in the filters and the add form (the largest page the core reads).
const CAMPAIGN_LIMIT: i64 = 100;

/// The list's search and filters, as in the query string.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    /// Text in the affiliate's email or name.
    #[serde(default)]
    q: String,
    /// `pending`, `approved`, `rejected` or blank.
    #[serde(default)]
    status: String,
    /// A campaign id or blank.
    #[serde(default)]
    campaign: String,
    /// 1-based page.
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    notice: String,
}

impl ListQuery {
    fn filter(&self) -> AffiliateFilter {
        AffiliateFilter {
            campaign_id: Some(self.campaign.trim().to_string()).filter(|c| !c.is_empty()),
            status: STATUSES
                .contains(&self.status.as_str())
                .then(|| MembershipStatus::parse(&self.status))
                .flatten(),
            search: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
        }
    }

    /// The list a form was sent from (its hidden `return_to`), read back into its search,
    /// filters and page so the answer returns there. Only `/merchant/affiliates` itself (with or
    /// without a query) is accepted, and the address is rebuilt from the fields read, never
    /// echoed: any other value (another path or host, `//host`, `/\host`, a scheme) is the plain
    /// list, so `return_to` cannot redirect anywhere else.
    fn from_return(value: Option<&str>) -> ListQuery {
        let query = match value.map(|v| v.split_once('?').unwrap_or((v, ""))) {
            Some(("/merchant/affiliates", query)) => query,
            _ => return ListQuery::default(),
        };
        let mut back = ListQuery::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "q" => back.q = value.into_owned(),
                "status" => back.status = value.into_owned(),
                "campaign" => back.campaign = value.into_owned(),
                "page" => back.page = value.parse().ok(),
                _ => {}
            }
        }
        back
    }

    /// The page number asked for (1 when none or out of range).
    fn page_number(&self) -> i64 {
        self.page.unwrap_or(1).clamp(1, 100_000)
    }

    /// The address of the page shown, with its search and filters (where forms return to).
    fn here(&self) -> String {
        self.href(self.page_number())
    }

    /// The list's address on page `n`, keeping the search and filters.
    fn href(&self, n: i64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in
            [("q", self.q.trim()), ("status", self.status.as_str()), ("campaign", self.campaign.as_str())]
        {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        if n > 1 {
            query.append_pair("page", &n.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/merchant/affiliates".to_string()
        } else {
            format!("/merchant/affiliates?{query}")
        }
    }
}

/// A campaign offered in a select.
struct CampaignOption {
    id: String,
    name: String,
    selected: bool,
}

/// One membership as listed.
struct MemberRow {
    affiliate_id: String,
    campaign_id: String,
    name: String,
    email: String,
    campaign_name: String,
    status: &'static str,
    pending: bool,
    joined: String,
    earnings: String,
    clicks: i64,
}

impl MemberRow {
    fn of(m: &MembershipView) -> MemberRow {
        MemberRow {
            affiliate_id: m.affiliate_id.clone(),
            campaign_id: m.campaign_id.clone(),
            name: m.name.clone().unwrap_or_default(),
            email: m.email.clone(),
            campaign_name: m.campaign_name.clone(),
            status: m.status.as_str(),
            pending: m.status == MembershipStatus::Pending,
            joined: when(m.joined_at),
            earnings: money(m.earnings_minor, &m.currency),
            clicks: m.clicks.clicks,
        }
    }

    /// The checkbox value of the bulk form.
    fn key(&self) -> String {
        format!("{}:{}", self.affiliate_id, self.campaign_id)
    }
}

#[derive(Template)]
#[template(path = "merchant/affiliates.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    status: String,
    campaigns: Vec<CampaignOption>,
    rows: Vec<MemberRow>,
    total: i64,
    first: i64,
    last: i64,
    prev: Option<String>,
    next: Option<String>,
    /// This page's address (search, filters, page): the forms' `return_to`.
    return_to: String,
    errors: FormErrors,
}

async fn campaign_options(
    state: &AppState,
    page_of: &Page,
    selected: &str,
) -> Result<Vec<CampaignOption>, CoreError> {
    let found = state.core.campaign_names(&page_of.actor, CAMPAIGN_LIMIT).await?;
    Ok(found.into_iter().map(|(id, name)| CampaignOption { selected: id == selected, id, name }).collect())
}

async fn list_page(
    state: &AppState,
    page_of: &Page,
    query: &ListQuery,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<ListPage, CoreError> {
    let n = query.page_number();
    let request = PageRequest {
        limit: PAGE_SIZE,
        offset: (n - 1) * PAGE_SIZE,
        sort: AffiliateSort::JoinedAt,
        descending: true,
    };
    let found = state.core.list_affiliates(&page_of.actor, &query.filter(), request).await?;
    let shown = i64::try_from(found.items.len()).unwrap_or(0);
    let first = if shown == 0 { 0 } else { request.offset + 1 };
    let last = request.offset + shown;
    Ok(ListPage {
        chrome: Chrome::new(page_of, "affiliates", "Affiliates").with_notice(notice),
        q: query.q.trim().to_string(),
        status: query.status.clone(),
        campaigns: campaign_options(state, page_of, &query.campaign).await?,
        rows: found.items.iter().map(MemberRow::of).collect(),
        total: found.total,
        first,
        last,
        prev: (n > 1).then(|| query.href(n - 1)),
        next: (last < found.total).then(|| query.href(n + 1)),
        return_to: query.here(),
        errors,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "approved" => "The affiliate was approved on the campaign.",
        "rejected" => "The affiliate was rejected on the campaign.",
        "removed" => "The affiliate was removed from the campaign; its conversions stay.",
        "bulk_approved" => "The selected affiliates were approved.",
        "bulk_rejected" => "The selected affiliates were rejected.",
        "added" => "The affiliate was added to the campaign and approved.",
        "invited" => "The invitation was sent. The person joins the campaign, approved, when they accept it.",
        "mail_settings" => "The affiliate mail setting was saved.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn list(State(state): State<AppState>, page_of: Page, Query(query): Query<ListQuery>) -> Response {
    match list_page(&state, &page_of, &query, FormErrors::none(), notice_text(&query.notice)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => core_error_page(&err),
    }
}

/// Approves or rejects the memberships ticked on the list (`selected` = `<affiliate>:<campaign>`,
/// `action` = `approve` or `reject`), each through `set_membership_status`.
async fn bulk(
    State(state): State<AppState>,
    page_of: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let action = pairs.iter().find(|(k, _)| k == "action").map(|(_, v)| v.as_str()).unwrap_or_default();
    let back = return_to(&pairs);
    let target = match action {
        "approve" => MembershipStatus::Approved,
        "reject" => MembershipStatus::Rejected,
        _ => return relist(&state, &page_of, &back, "Choose approve or reject.", None).await,
    };
    let selected: Vec<(&str, &str)> =
        pairs.iter().filter(|(k, _)| k == "selected").filter_map(|(_, v)| v.split_once(':')).collect();
    if selected.is_empty() {
        return relist(&state, &page_of, &back, "Select at least one affiliate.", None).await;
    }
    let mut failures = Vec::new();
    for (affiliate_id, campaign_id) in &selected {
        if let Err(err) =
            state.core.set_membership_status(&page_of.actor, affiliate_id, campaign_id, target).await
        {
            failures.push((*affiliate_id, *campaign_id, err));
        }
    }
    let Some((_, _, first)) = failures.first() else {
        return done(
            &back.here(),
            if target == MembershipStatus::Approved { "bulk_approved" } else { "bulk_rejected" },
        );
    };
    let changed = selected.len() - failures.len();
    let mut reasons = Vec::new();
    for (affiliate_id, campaign_id, err) in &failures {
        // Named as the list names them when the affiliate is the brand's; ids otherwise.
        let named = state.core.get_affiliate(&page_of.actor, affiliate_id).await.ok().and_then(|d| {
            let campaign =
                d.memberships.iter().find(|m| m.campaign_id == *campaign_id)?.campaign_name.clone();
            Some(format!("{} on {campaign}", d.affiliate.email))
        });
        let who = named.unwrap_or_else(|| format!("{affiliate_id} on {campaign_id}"));
        reasons.push(format!("{who}: {}", err.message));
    }
    let message = format!("{changed} of {} changed. Not changed: {}", selected.len(), reasons.join("; "));
    relist(&state, &page_of, &back, &message, Some(first)).await
}

/// The list the form was sent from (see [`ListQuery::from_return`]).
fn return_to(pairs: &[(String, String)]) -> ListQuery {
    ListQuery::from_return(pairs.iter().find(|(k, _)| k == "return_to").map(|(_, v)| v.as_str()))
}

/// The list the form came from with a problem above it: the refusal's status, or 422.
async fn relist(
    state: &AppState,
    page_of: &Page,
    back: &ListQuery,
    message: &str,
    err: Option<&CoreError>,
) -> Response {
    match list_page(state, page_of, back, FormErrors::general(message), None).await {
        Ok(view) => match err {
            Some(err) => refused(err, &view),
            None => page(StatusCode::UNPROCESSABLE_ENTITY, &view),
        },
        Err(err) => core_error_page(&err),
    }
}

/// One membership on the affiliate's page.
struct MembershipRow {
    campaign_id: String,
    campaign_name: String,
    status: &'static str,
    pending: bool,
    approved: bool,
    joined: String,
    link: String,
    earnings: String,
    clicks: i64,
    unique_clicks: i64,
}

/// One short link on the affiliate's page.
struct LinkRow {
    url: String,
    /// The campaign's name (its id when the affiliate left it).
    campaign: String,
    campaign_id: String,
    clicks: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "merchant/affiliate.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    name: String,
    email: String,
    created_via: String,
    created: String,
    payout: Option<(&'static str, String)>,
    earnings: Vec<String>,
    clicks: i64,
    unique_clicks: i64,
    bot_clicks: i64,
    memberships: Vec<MembershipRow>,
    links: Vec<LinkRow>,
}

/// The payout method's name and its details as shown.
fn payout_text(method: &PayoutMethod) -> (&'static str, String) {
    match method {
        PayoutMethod::PayPal { email } => ("PayPal", email.clone()),
        PayoutMethod::StripeConnect { account_id } => ("Stripe Connect", account_id.clone()),
        PayoutMethod::Wise { name, email, currency } => {
            ("Wise", format!("{name}, {email}, {}", currency.to_uppercase()))
        }
        PayoutMethod::Manual => ("Manual", "paid outside Refline and marked paid by hand".to_string()),
    }
}

async fn show(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let detail = match state.core.get_affiliate(&page_of.actor, &id).await {
        Ok(detail) => detail,
        Err(err) => return core_error_page(&err),
    };
    let filter = LinkFilter { campaign_id: None, affiliate_id: Some(id.clone()) };
    let request = PageRequest { limit: 100, offset: 0, sort: (), descending: true };
    let links = match state.core.list_links(&page_of.actor, &filter, request).await {
        Ok(found) => found.items,
        Err(err) => return core_error_page(&err),
    };
    let a = &detail.affiliate;
    let base = &state.config.public_url;
    let title = a.name.clone().unwrap_or_else(|| a.email.clone());
    let view = DetailPage {
        chrome: Chrome::new(&page_of, "affiliates", &title).with_notice(notice_text(&notice.notice)),
        id: a.id.clone(),
        name: a.name.clone().unwrap_or_default(),
        email: a.email.clone(),
        created_via: a.created_via.clone(),
        created: when(a.created_at),
        payout: a.payout_method.as_deref().and_then(PayoutMethod::from_stored).map(|m| payout_text(&m)),
        earnings: detail.earnings_by_currency.iter().map(|(c, v)| money(*v, c)).collect(),
        clicks: detail.clicks.clicks,
        unique_clicks: detail.clicks.unique_clicks,
        bot_clicks: detail.clicks.bot_clicks,
        memberships: detail
            .memberships
            .iter()
            .map(|m| MembershipRow {
                campaign_id: m.campaign_id.clone(),
                campaign_name: m.campaign_name.clone(),
                status: m.status.as_str(),
                pending: m.status == MembershipStatus::Pending,
                approved: m.status == MembershipStatus::Approved,
                joined: when(m.joined_at),
                link: tracking_link(base, &m.tracking_code, &a.id),
                earnings: money(m.earnings_minor, &m.currency),
                clicks: m.clicks.clicks,
                unique_clicks: m.clicks.unique_clicks,
            })
            .collect(),
        links: links
            .into_iter()
            .map(|l| LinkRow {
                url: l.url,
                campaign: detail
                    .memberships
                    .iter()
                    .find(|m| m.campaign_id == l.view.link.campaign_id)
                    .map_or_else(|| l.view.link.campaign_id.clone(), |m| m.campaign_name.clone()),
                campaign_id: l.view.link.campaign_id,
                clicks: l.view.totals.clicks,
                created: when(l.view.link.created_at),
            })
            .collect(),
    };
    page(StatusCode::OK, &view)
}

/// Approve, reject or remove one membership; back to the list (`from=list`, at the search,
/// filters and page it was sent from) or the affiliate.
async fn membership_action(
    State(state): State<AppState>,
    page_of: Page,
    Path((id, campaign_id, action)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = match action.as_str() {
        "approve" => state
            .core
            .set_membership_status(&page_of.actor, &id, &campaign_id, MembershipStatus::Approved)
            .await
            .map(|_| "approved"),
        "reject" => state
            .core
            .set_membership_status(&page_of.actor, &id, &campaign_id, MembershipStatus::Rejected)
            .await
            .map(|_| "rejected"),
        "remove" => state.core.remove_membership(&page_of.actor, &id, &campaign_id).await.map(|()| "removed"),
        _ => Err(CoreError::not_found("Action")),
    };
    let from_list = pairs.iter().any(|(k, v)| k == "from" && v == "list");
    match result {
        Ok(code) if from_list => done(&return_to(&pairs).here(), code),
        Ok(code) => done(&format!("/merchant/affiliates/{id}"), code),
        Err(err) => core_error_page(&err),
    }
}

#[derive(Template)]
#[template(path = "merchant/affiliate_add.html")]
struct AddPage {
    chrome: Chrome,
    email: String,
    affiliate_name: String,
    campaigns: Vec<CampaignOption>,
    errors: FormErrors,
    /// The invite form's entries and errors (the same page holds both forms).
    invite: AddForm,
    invite_errors: FormErrors,
    /// Whether rejected applicants get a mail.
    rejected_mails: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "campaignId")]
    campaign_id: String,
}

#[derive(Debug, Default, Deserialize)]
struct AddQuery {
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    notice: String,
}

async fn add_page(
    state: &AppState,
    page_of: &Page,
    form: &AddForm,
    errors: FormErrors,
) -> Result<AddPage, CoreError> {
    Ok(AddPage {
        chrome: Chrome::new(page_of, "affiliates", "Add an affiliate"),
        email: form.email.clone(),
        affiliate_name: form.name.clone(),
        campaigns: campaign_options(state, page_of, &form.campaign_id).await?,
        errors,
        invite: AddForm { campaign_id: form.campaign_id.clone(), ..AddForm::default() },
        invite_errors: FormErrors::none(),
        rejected_mails: state.core.rejected_affiliate_mails(&page_of.actor).await?,
    })
}

/// Turns the mail to rejected applicants on (`rejectedMail=on`) or off (the box unticked).
async fn mail_settings(
    State(state): State<AppState>,
    page_of: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let on = pairs.iter().any(|(k, v)| k == "rejectedMail" && v == "on");
    match state.core.set_rejected_affiliate_mails(&page_of.actor, on).await {
        Ok(()) => done("/merchant/affiliates/new", "mail_settings"),
        Err(err) => core_error_page(&err),
    }
}

async fn add_form(State(state): State<AppState>, page_of: Page, Query(query): Query<AddQuery>) -> Response {
    let form = AddForm { campaign_id: query.campaign, ..AddForm::default() };
    match add_page(&state, &page_of, &form, FormErrors::none()).await {
        Ok(mut view) => {
            view.chrome = view.chrome.with_notice(notice_text(&query.notice));
            page(StatusCode::OK, &view)
        }
        Err(err) => core_error_page(&err),
    }
}

/// Invites a person by email through `invite_affiliate` (what `POST /api/v1/affiliates/invite`
/// calls): they join, approved, when they accept the mailed link in the affiliate portal.
async fn invite(State(state): State<AppState>, page_of: Page, Form(form): Form<AddForm>) -> Response {
    let blank = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
    let input = InviteInput {
        email: blank(&form.email),
        campaign_id: blank(&form.campaign_id),
        name: blank(&form.name),
        unreadable: Vec::new(),
    };
    match state.core.invite_affiliate(&page_of.actor, input).await {
        Ok(_) => done("/merchant/affiliates", "invited"),
        Err(err) => match add_page(&state, &page_of, &form, FormErrors::none()).await {
            Ok(mut view) => {
                view.email = String::new();
                view.affiliate_name = String::new();
                view.invite = form;
                view.invite_errors = FormErrors::from_error(&err);
                if !view.invite_errors.any() {
                    view.invite_errors = FormErrors::general(&err.message);
                }
                refused(&err, &view)
            }
            Err(other) => core_error_page(&other),
        },
    }
}

/// Adds an affiliate, approved, to a campaign through `create_affiliate` (what
/// `POST /api/v1/affiliates` calls), without a mail: for affiliates the merchant manages itself.
async fn add(State(state): State<AppState>, page_of: Page, Form(form): Form<AddForm>) -> Response {
    let mut map = Map::new();
    map.insert("email".into(), Value::String(form.email.clone()));
    map.insert("campaignId".into(), Value::String(form.campaign_id.clone()));
    if !form.name.trim().is_empty() {
        map.insert("name".into(), Value::String(form.name.clone()));
    }
    match state.core.create_affiliate(&page_of.actor, read_new_affiliate(&map)).await {
        Ok(created) => done(&format!("/merchant/affiliates/{}", created.affiliate.id), "added"),
        Err(err) => match add_page(&state, &page_of, &form, FormErrors::from_error(&err)).await {
            Ok(view) => refused(&err, &view),
            Err(other) => core_error_page(&other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::ListQuery;

    fn back(value: &str) -> String {
        ListQuery::from_return(Some(value)).here()
    }

    #[test]
    fn return_to_keeps_the_lists_query_and_nothing_else() {
        assert_eq!(
            back("/merchant/affiliates?q=ann+lee&status=pending&campaign=camp_1&page=3"),
            "/merchant/affiliates?q=ann+lee&status=pending&campaign=camp_1&page=3"
        );
        assert_eq!(back("/merchant/affiliates"), "/merchant/affiliates");
        // Unknown keys and a notice are dropped; a page out of range is the first.
        assert_eq!(back("/merchant/affiliates?notice=approved&x=1&page=-4"), "/merchant/affiliates");
        // Values are re-encoded, never echoed.
        assert_eq!(
            back("/merchant/affiliates?q=%22%3E%3Cscript%3E&campaign=a%26b%3D1"),
            "/merchant/affiliates?q=%22%3E%3Cscript%3E&campaign=a%26b%3D1"
        );
    }

    #[test]
    fn return_to_never_leaves_the_list() {
        for hostile in [
            "https://evil.example/merchant/affiliates",
            "//evil.example/merchant/affiliates",
            "/\\evil.example",
            "/merchant/affiliates/../../logout",
            "/merchant/affiliates/aff_1",
            "/merchant/affiliatesX?q=1",
            "/merchant/campaigns?q=1",
            "javascript:alert(1)",
            " /merchant/affiliates?q=1",
            "",
        ] {
            assert_eq!(back(hostile), "/merchant/affiliates", "{hostile}");
        }
        assert_eq!(ListQuery::from_return(None).here(), "/merchant/affiliates");
    }
}
