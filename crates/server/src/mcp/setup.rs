//! Setup tools: the launch checklist, business details, the tracking instructions and the check
//! of the merchant's page (fetched over the SSRF-safe outbound client: public https only, no
//! redirects followed, every address the name resolves to checked as the connection is made).

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use refline_core::{connections::webhook_url, team::brands::BusinessInput, Actor};
use refline_domain::format_timestamp;
use refline_processors::Provider;
use reqwest::redirect::Policy;
use serde_json::{json, Map, Value};

use crate::{
    error::ApiError,
    http::body::Fields,
    mcp::answer::ToolOutcome,
    outbound::target::{check_form, GuardedResolver},
    state::AppState,
};

/// The most of a page read when looking for the script tag.
const PAGE_LIMIT: usize = 2 * 1024 * 1024;

fn script_tag(state: &AppState, merchant_id: &str) -> String {
    let public = state.config.public_url.trim_end_matches('/');
    format!(r#"<script src="{public}/api/tracking.js?id={merchant_id}" async></script>"#)
}

/// `get_setup_status`: the overview's checklist, with the dashboard links made absolute.
pub async fn setup_status(state: &AppState, actor: &Actor) -> ToolOutcome {
    let overview = state.core.overview(actor).await?;
    let brand = state.core.brand(actor).await?;
    let public = state.config.public_url.trim_end_matches('/');
    let steps: Vec<Value> = overview
        .checklist
        .iter()
        .map(|s| json!({ "step": s.label, "done": s.done, "url": format!("{public}{}", s.href) }))
        .collect();
    let next = overview.checklist.iter().find(|s| !s.done).map(|s| s.label);
    Ok(json!({
        "business": {
            "name": brand.name,
            "website": brand.website,
            "currency": brand.currency,
            "needsDetails": brand.website.is_none(),
        },
        "steps": steps,
        "complete": next.is_none(),
        "next": next.unwrap_or("Everything is set up: share the join links with affiliates."),
        "tracking": {
            "scriptTag": script_tag(state, &actor.merchant_id),
            "scriptSeen": overview.script_seen_at.is_some(),
            "firstSeenAt": overview.script_seen_at.map(format_timestamp),
        },
        "joinLinks": overview.join_links.iter().map(|j| json!({ "campaign": j.name, "url": j.url })).collect::<Vec<_>>(),
        "connectLinks": { "paymentProcessors": format!("{public}/merchant/integrations") },
    }))
}

/// `https://` in front of a website given without a scheme.
fn with_scheme(website: &str) -> String {
    let trimmed = website.trim();
    if trimmed.is_empty() || trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    }
}

/// `update_business`: what is not given keeps its current value.
pub async fn update_business(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    actor.require_write()?;
    actor.require_live("Business details")?;
    let mut f = Fields::new(map);
    let name = f.optional_string("businessName", 200);
    // LinkJolt's tool asks at least 2 characters (spec §10.3); the dashboard's form takes 1.
    if name.as_ref().is_some_and(|n| n.trim().chars().count() < 2) {
        f.issue("businessName", "businessName must be at least 2 characters");
    }
    let website = f.optional_string("website", 2048);
    f.finish()?;
    let brand = state.core.brand(actor).await?;
    let input = BusinessInput {
        name: name.unwrap_or_else(|| brand.name.clone()),
        website: website.map_or_else(|| brand.website.clone().unwrap_or_default(), |w| with_scheme(&w)),
        currency: brand.currency.clone(),
    };
    state.core.update_business(actor, input).await?;
    let saved = state.core.brand(actor).await?;
    Ok(
        json!({ "data": { "businessName": saved.name, "website": saved.website, "currency": saved.currency } }),
    )
}

/// `get_tracking_instructions`.
pub fn tracking_instructions(state: &AppState, actor: &Actor) -> ToolOutcome {
    let public = state.config.public_url.trim_end_matches('/');
    let receivers: Map<String, Value> = Provider::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), json!(webhook_url(public, p.as_str(), &actor.merchant_id))))
        .collect();
    Ok(json!({
        "scriptTag": script_tag(state, &actor.merchant_id),
        "steps": [
            "Add the script tag to every page of the site, before </body> (or in the <head>).",
            "Affiliates share links of the form /redirect?tc=<trackingCode>&aff=<affiliateId> (list_affiliates answers each trackingLink); the script remembers the referral for the campaign's cookie window.",
            "At checkout, pass the referral to the payment processor: the script sets window.refline.reference and adds client_reference_id to Stripe Payment Links and pricing tables.",
            "Connect the payment processor in the dashboard and paste its webhook address (below) into the processor, so sales and refunds are recorded; or record sales with create_conversion.",
            "Run check_tracking to confirm the tag is on the site.",
        ],
        "webhookUrls": receivers,
        "integrationsPage": format!("{public}/merchant/integrations"),
    }))
}

/// `check_tracking`.
pub async fn check_tracking(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let url = f.optional_string("url", 2048);
    f.finish()?;
    let brand = state.core.brand(actor).await?;
    let seen_at = brand.tracking_seen_at;
    let Some(url) = url.or_else(|| brand.website.clone()).map(|u| with_scheme(&u)) else {
        return Err(ApiError::invalid_field(
            "url",
            "No url given and the business has no website; pass url or set it with update_business",
        ));
    };
    let target = check_form(&url, &state.targets).map_err(|e| {
        ApiError::invalid_field(
            "url",
            format!("url cannot be checked: {e} (a public https:// page is needed)"),
        )
    })?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(Policy::none())
        .user_agent(concat!("Refline-TrackingCheck/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver(state.targets.clone())))
        .build()
        .map_err(ApiError::internal)?;
    let fetched = fetch_page(&client, target.as_str()).await;
    let seen = json!({ "scriptSeen": seen_at.is_some(), "firstSeenAt": seen_at.map(format_timestamp) });
    let (status, body) = match fetched {
        Ok(page) => page,
        Err(reason) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "fetch_failed",
                format!("Could not fetch {target}: {reason}"),
            )
            .with_details(seen));
        }
    };
    let merchant = &actor.merchant_id;
    let has_script = body.contains("/api/tracking.js") && body.contains(merchant.as_str());
    let public_host =
        url::Url::parse(&state.config.public_url).ok().and_then(|u| u.host_str().map(str::to_string));
    let from_this_server = public_host.is_some_and(|h| body.contains(h.as_str()));
    let next = match (has_script, seen_at.is_some()) {
        (true, true) => "Tracking is installed and has run. Test a referral link (trackingLink from list_affiliates) and a purchase.",
        (true, false) => "The tag is on the page but the script has not run yet: open the page in a browser (without an ad blocker) once, then check again.",
        (false, _) => "The tag is not on this page: add scriptTag before </body> on every page, deploy, and check again.",
    };
    Ok(json!({
        "url": target.as_str(),
        "httpStatus": status,
        "scriptTagFound": has_script,
        "pointsAtThisServer": has_script && from_this_server,
        "scriptTag": script_tag(state, merchant),
        "scriptSeen": seen["scriptSeen"],
        "firstSeenAt": seen["firstSeenAt"],
        "next": next,
    }))
}

/// GETs `url`, answering the status and up to [`PAGE_LIMIT`] bytes of the body as text.
async fn fetch_page(client: &reqwest::Client, url: &str) -> Result<(u16, String), String> {
    let mut response = client.get(url).send().await.map_err(|e| e.without_url().to_string())?;
    let status = response.status();
    if status.is_redirection() {
        let to = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
        return Err(format!("it redirects ({status}) to {to}; check that address instead"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url().to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() >= PAGE_LIMIT {
            break;
        }
    }
    Ok((status.as_u16(), String::from_utf8_lossy(&body).into_owned()))
}
