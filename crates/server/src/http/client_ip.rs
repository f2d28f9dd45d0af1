//! The client's IP, decided in one place for every door (API rate limits and audit, dashboard
//! and portal sessions, MCP audit, clicks).
//!
//! The socket peer is the client unless the peer is one of the configured trusted proxies
//! (`--trusted-proxy`, single addresses or CIDR ranges). Only then is the forwarding header
//! read (`X-Forwarded-For` by default, or RFC 7239 `Forwarded` with `--forwarded-header
//! forwarded`; one header, never both, since a proxy that sets one passes a client's forged
//! other one through untouched). Its hops are walked from the nearest (rightmost) outwards,
//! skipping trusted proxies; the first untrusted hop is the client ("rightmost untrusted"):
//! everything left of it was written by someone we do not trust and could be forged. A hop that
//! is not an address (`unknown`, an obfuscated `_name`, garbage) ends the walk: the last hop we
//! could vouch for is answered instead of anything a client may have written.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::{extract::ConnectInfo, http::Request};
use ipnet::IpNet;

use crate::config::ServerConfig;

/// One trusted proxy entry: an address (`10.0.0.7`, `::1`) or a range (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(IpNet);

impl ProxyNet {
    /// Whether `ip` is inside this entry (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(ProxyNet(net.trunc()));
        }
        text.parse::<IpAddr>().map(|ip| ProxyNet(IpNet::from(ip.to_canonical()))).map_err(|_| {
            format!("{text:?} is not an IP address or CIDR range (such as 10.0.0.7 or 10.0.0.0/8)")
        })
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Which header a trusted proxy writes the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, Caddy, Traefik, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!("{other:?}: the forwarded header is x-forwarded-for or forwarded")),
        }
    }
}

/// Whether `ip` is one of `proxies`.
pub fn is_trusted(proxies: &[ProxyNet], ip: IpAddr) -> bool {
    proxies.iter().any(|net| net.contains(ip))
}

/// The client IP of a request under the server's trusted-proxy settings (see the module docs).
pub fn client_ip<B>(req: &Request<B>, config: &ServerConfig) -> Option<IpAddr> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    client_ip_of(peer, req.headers(), config)
}

/// The same for a peer the caller already holds (the accept loop's fast lane passes it along
/// instead of putting it in the request's extensions).
pub fn client_ip_of(
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
    config: &ServerConfig,
) -> Option<IpAddr> {
    let peer = peer?.ip().to_canonical();
    Some(resolve(peer, headers, &config.trusted_proxies, config.forwarded_header))
}

/// The rule itself, on plain values (unit tested below).
pub fn resolve(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    proxies: &[ProxyNet],
    header: ForwardedHeader,
) -> IpAddr {
    if !is_trusted(proxies, peer) {
        return peer;
    }
    let values = headers.get_all(match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    });
    // Several header lines are one list, in order.
    let hops: Vec<&str> = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let parsed = match header {
            ForwardedHeader::XForwardedFor => parse_hop(hop),
            ForwardedHeader::Forwarded => forwarded_for(hop).and_then(parse_hop),
        };
        let Some(ip) = parsed else { break };
        client = ip;
        if !is_trusted(proxies, ip) {
            break;
        }
    }
    client
}

/// The `for=` parameter of one `Forwarded` element (`for=1.2.3.4;proto=https`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip().to_canonical());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn nets(list: &[&str]) -> Vec<ProxyNet> {
        list.iter().map(|s| s.parse().expect("test range")).collect()
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = headers("x-forwarded-for", &["6.6.6.6"]);
        assert_eq!(
            resolve(ip("9.9.9.9"), &h, &nets(&["10.0.0.0/8"]), ForwardedHeader::XForwardedFor),
            ip("9.9.9.9")
        );
        assert_eq!(resolve(ip("9.9.9.9"), &h, &[], ForwardedHeader::XForwardedFor), ip("9.9.9.9"));
    }

    #[test]
    fn a_trusted_peer_names_the_rightmost_untrusted_hop() {
        let proxies = nets(&["10.0.0.0/8", "192.168.1.5"]);
        // The client forged "6.6.6.6"; the edge proxy appended the address it saw, 1.2.3.4;
        // an inner proxy (10.1.1.1) appended the edge proxy's.
        let h = headers("x-forwarded-for", &["6.6.6.6, 1.2.3.4", "192.168.1.5"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies, ForwardedHeader::XForwardedFor), ip("1.2.3.4"));
        // Every hop trusted: the leftmost (closest to the client) is the best we know.
        let h = headers("x-forwarded-for", &["10.9.9.9, 192.168.1.5"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies, ForwardedHeader::XForwardedFor), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &proxies, ForwardedHeader::XForwardedFor),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn garbage_ends_the_walk_at_the_last_hop_we_can_vouch_for() {
        let proxies = nets(&["10.0.0.0/8"]);
        let h = headers("x-forwarded-for", &["1.2.3.4, unknown, 10.0.0.3"]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies, ForwardedHeader::XForwardedFor), ip("10.0.0.3"));
    }

    #[test]
    fn forwarded_is_read_only_when_chosen() {
        let proxies = nets(&["10.0.0.0/8"]);
        let mut h =
            headers("forwarded", &["for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.9"]);
        h.append("x-forwarded-for", HeaderValue::from_static("5.5.5.5"));
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies, ForwardedHeader::Forwarded), ip("2001:db8::7"));
        assert_eq!(resolve(ip("10.0.0.2"), &h, &proxies, ForwardedHeader::XForwardedFor), ip("5.5.5.5"));
    }

    #[test]
    fn entries_parse_as_addresses_or_ranges() {
        let net: ProxyNet = "10.1.2.3/8".parse().expect("range");
        assert!(net.contains(ip("10.200.0.1")) && !net.contains(ip("11.0.0.1")));
        let one: ProxyNet = "127.0.0.1".parse().expect("address");
        assert!(one.contains(ip("127.0.0.1")) && one.contains(ip("::ffff:127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        for bad in ["", "10.0.0.0/33", "example.com", "1.2.3"] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad}");
        }
        assert_eq!(
            resolve(
                ip("::ffff:10.0.0.2"),
                &headers("x-forwarded-for", &["1.2.3.4:5678"]),
                &nets(&["10.0.0.0/8"]),
                ForwardedHeader::XForwardedFor
            ),
            ip("1.2.3.4")
        );
    }
}
