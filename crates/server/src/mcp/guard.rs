//! Host and Origin checks of `/mcp` (the MCP transport's defence against DNS rebinding), made to
//! work behind a reverse proxy: the host may be the public URL's (a proxy that passes `Host`
//! through, or `X-Forwarded-Host` from a trusted proxy) or a loopback name (a proxy that
//! connects to `127.0.0.1:<port>`, or a local client). A browser `Origin` must be the public
//! URL's or a loopback one (local tools such as the MCP Inspector). Anything else is refused
//! with 403 before the key is even looked at.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;
use url::Url;

use crate::{error::ApiError, state::AppState};

/// Middleware: 403 `forbidden_host` / `forbidden_origin` for requests not meant for this server.
pub async fn check_host_and_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let public = Url::parse(&state.config.public_url).ok();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let from_proxy =
        peer.is_some_and(|ip| crate::http::client_ip::is_trusted(&state.config.trusted_proxies, ip));
    let hosts = presented_hosts(req.headers(), from_proxy);
    if let Some(bad) = hosts.iter().find(|h| !host_allowed(h, public.as_ref())) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "Host {bad} is not this server's public URL; set --public-url to the address clients use"
            ),
        )
        .into_response();
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let text = origin.to_str().unwrap_or("");
        if !origin_allowed(text, public.as_ref()) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "Requests from this web origin are not accepted by /mcp",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The `Host` header and, from a trusted proxy, the first `X-Forwarded-Host`.
fn presented_hosts(headers: &HeaderMap, from_proxy: bool) -> Vec<String> {
    let mut hosts = Vec::new();
    if let Some(host) = headers.get(header::HOST) {
        hosts.push(host.to_str().unwrap_or("\u{fffd}").to_string());
    }
    if from_proxy {
        if let Some(forwarded) = headers.get("x-forwarded-host").and_then(|v| v.to_str().ok()) {
            if let Some(first) = forwarded.split(',').next() {
                hosts.retain(|_| false);
                hosts.push(first.trim().to_string());
            }
        }
    }
    hosts
}

/// `host[:port]` as (lower-case name, port text); IPv6 keeps its brackets.
fn split_authority(authority: &str) -> (String, Option<String>) {
    let lower = authority.trim().to_ascii_lowercase();
    let name_end = lower.find(']').map_or(0, |end| end + 1);
    match lower[name_end..].rfind(':') {
        Some(at) => {
            let at = name_end + at;
            (lower[..at].to_string(), Some(lower[at + 1..].to_string()))
        }
        None => (lower, None),
    }
}

fn is_loopback_name(name: &str) -> bool {
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

fn host_allowed(authority: &str, public: Option<&Url>) -> bool {
    let (name, port) = split_authority(authority);
    if is_loopback_name(&name) {
        return true;
    }
    let Some(public) = public else { return false };
    let public_name = public.host_str().unwrap_or("").to_ascii_lowercase();
    // With a port, it must be the public URL's (or its scheme's default).
    name == public_name && port.is_none_or(|p| p.parse::<u16>().ok() == public.port_or_known_default())
}

fn origin_allowed(origin: &str, public: Option<&Url>) -> bool {
    let Ok(url) = Url::parse(origin) else { return false };
    let name = url.host_str().map(str::to_ascii_lowercase).unwrap_or_default();
    let name = if name.contains(':') { format!("[{name}]") } else { name };
    if matches!(url.scheme(), "http" | "https") && is_loopback_name(&name) {
        return true;
    }
    public.is_some_and(|p| p.origin() == url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> Url {
        Url::parse("https://refline.example.com").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn public_and_loopback_hosts_pass() {
        let p = public();
        assert!(host_allowed("refline.example.com", Some(&p)));
        assert!(host_allowed("Refline.Example.com:443", Some(&p)));
        assert!(host_allowed("127.0.0.1:8080", Some(&p)));
        assert!(host_allowed("localhost", Some(&p)));
        assert!(host_allowed("[::1]:8080", Some(&p)));
        assert!(!host_allowed("refline.example.com:8443", Some(&p)));
        assert!(!host_allowed("evil.example", Some(&p)));
        assert!(!host_allowed("refline.example.com.evil.example", Some(&p)));
    }

    #[test]
    fn origins_must_be_public_or_loopback() {
        let p = public();
        assert!(origin_allowed("https://refline.example.com", Some(&p)));
        assert!(origin_allowed("http://localhost:6274", Some(&p)));
        assert!(origin_allowed("http://127.0.0.1:3000", Some(&p)));
        assert!(!origin_allowed("http://refline.example.com", Some(&p)));
        assert!(!origin_allowed("https://evil.example", Some(&p)));
        assert!(!origin_allowed("null", Some(&p)));
    }
}
