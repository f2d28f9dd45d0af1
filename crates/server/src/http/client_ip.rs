//! The client's IP: the socket peer, or the left-most untrusted `X-Forwarded-For` hop when the
//! peer is a configured trusted proxy (anyone else could forge the header).

use std::net::{IpAddr, SocketAddr};

use axum::{extract::ConnectInfo, http::Request};

/// The client IP of a request, honouring `X-Forwarded-For` only from `trusted` proxies.
pub fn client_ip<B>(req: &Request<B>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    // Walk from the nearest hop outwards, skipping our own proxies.
    Some(forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer))
}
