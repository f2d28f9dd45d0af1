//! Tracking: the script, the click beacon, hosted redirects and short links.
//!
//! These routes face the public, not API keys: they are answered from memory (link cache,
//! rendered scripts) and hand clicks to a batching writer, so the database is off the hot path.

pub mod beacon;
pub mod cache;
pub mod click_writer;
pub mod redirect;
pub mod script;
pub mod seen;
pub mod settings;
pub mod sweeper;
pub mod visitor;

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::ConnectInfo,
    http::{header, Request},
    routing::{get, post},
    Router,
};
use refline_domain::{CampaignStatus, MembershipStatus};
use refline_store::TrackingTarget;

use self::{cache::LinkCache, click_writer::ClickWriter, script::ScriptCache, seen::SeenMerchants};
use crate::{http::client_ip::client_ip_of, state::AppState};

/// Shared tracking handles.
#[derive(Clone)]
pub struct Tracking {
    /// Resolved links.
    pub links: Arc<LinkCache>,
    /// Rendered scripts.
    pub scripts: Arc<ScriptCache>,
    /// The click writer.
    pub writer: ClickWriter,
    /// Merchants whose script was seen.
    pub seen: Arc<SeenMerchants>,
}

impl Tracking {
    /// Forgets cached resolutions after campaigns, memberships or links changed.
    pub fn invalidate(&self) {
        self.links.clear();
        self.scripts.clear();
    }
}

/// Public tracking routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tracking.js", get(script::tracking_js))
        .route("/api/track/click", post(beacon::click).options(beacon::preflight))
        .route("/redirect", get(redirect::hosted_link))
        .route("/l/{code}", get(redirect::short_link))
}

/// Ids and codes as they appear in links: letters, digits, `_` and `-`.
pub fn is_token(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether clicks on this link are credited: an active campaign and an affiliate that is not
/// rejected (pending affiliates are tracked and paid once approved).
pub fn tracks(target: &TrackingTarget) -> bool {
    let campaign_active = match target.campaign_status {
        CampaignStatus::Active => true,
        CampaignStatus::Inactive => false,
    };
    let affiliate_credited = match target.membership_status {
        MembershipStatus::Pending | MembershipStatus::Approved => true,
        MembershipStatus::Rejected => false,
    };
    campaign_active && affiliate_credited
}

/// What a click records about its request.
pub struct RequestFacts {
    ip: Option<IpAddr>,
    user_agent: Option<String>,
    referrer: Option<String>,
}

/// The peer a request came from, as the connection loop recorded it (none in tests that call
/// the router without a connection).
fn peer_of<B>(request: &Request<B>) -> Option<SocketAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

fn request_facts<B>(
    request: &Request<B>,
    peer: Option<SocketAddr>,
    config: &crate::config::ServerConfig,
) -> RequestFacts {
    let header_text = |name| {
        request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| {
            // Recorded about a visitor, who cannot be asked to fix it: controls are dropped.
            let clean = refline_domain::strip_all_controls(v);
            match clean.char_indices().nth(512) {
                Some((cut, _)) => clean[..cut].to_string(),
                None => clean.into_owned(),
            }
        })
    };
    RequestFacts {
        ip: client_ip_of(peer, request.headers(), config),
        user_agent: header_text(header::USER_AGENT),
        referrer: header_text(header::REFERER),
    }
}
