//! Outbound webhook rules: the event names, the retry schedule, when an endpoint is disabled,
//! and which network addresses a webhook may never reach (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::lifecycle::{ConversionStatus, MembershipStatus};

/// Every event a merchant can subscribe to, as LinkJolt names them.
pub const EVENTS: [&str; 11] = [
    "conversion.created",
    "conversion.approved",
    "conversion.rejected",
    "conversion.paid",
    "conversion.updated",
    "affiliate.joined",
    "affiliate.approved",
    "affiliate.rejected",
    "affiliate.removed",
    "payout.completed",
    "payout.failed",
];

/// True for a known event name.
pub fn is_event(name: &str) -> bool {
    EVENTS.contains(&name)
}

/// The event a conversion's move to `status` announces; statuses without their own event
/// (refunded, trial…) are `conversion.updated`.
pub fn conversion_status_event(status: ConversionStatus) -> &'static str {
    match status {
        ConversionStatus::Approved => "conversion.approved",
        ConversionStatus::Rejected => "conversion.rejected",
        ConversionStatus::Paid => "conversion.paid",
        ConversionStatus::Trial | ConversionStatus::Pending | ConversionStatus::Refunded => {
            "conversion.updated"
        }
    }
}

/// The event a membership's move to `status` announces.
pub fn membership_status_event(status: MembershipStatus) -> &'static str {
    match status {
        MembershipStatus::Approved => "affiliate.approved",
        MembershipStatus::Rejected => "affiliate.rejected",
        MembershipStatus::Pending => "affiliate.joined",
    }
}

/// Consecutive failed attempts after which an endpoint is disabled.
pub const DISABLE_AFTER_FAILURES: i64 = 5;

/// Delays before each retry, in ms: a failed first attempt is retried after the first delay, and
/// so on; once the list is spent the delivery has failed. LinkJolt documents "up to 3 retries
/// with exponential backoff": 1 min, 5 min, 30 min by default (configurable).
pub const DEFAULT_RETRY_DELAYS_MS: [i64; 3] = [60_000, 300_000, 1_800_000];

/// When to try again after `failed_attempts` failures (1 after the first), or `None` when the
/// retries are spent. `jitter_permille` in -200..=200 spreads retries of many deliveries by up to
/// ±20 % so a recovering receiver is not hit by all of them at once.
pub fn next_retry_at(
    now_ms: i64,
    failed_attempts: i64,
    delays_ms: &[i64],
    jitter_permille: i64,
) -> Option<i64> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    let delay = *delays_ms.get(index)?;
    let jitter = delay.saturating_mul(jitter_permille.clamp(-200, 200)) / 1000;
    Some(now_ms.saturating_add(delay.saturating_add(jitter).max(0)))
}

/// Why a webhook URL or address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not `https://` (or `http://` when private targets are allowed).
    #[error("must be an https:// URL")]
    NotHttps,
    /// The URL could not be read.
    #[error("is not a valid URL")]
    Malformed,
    /// The host names a private or special-purpose network.
    #[error("points to a private, loopback or link-local address")]
    PrivateAddress,
    /// The host name is reserved for local networks (see [`is_local_host_name`]).
    #[error("uses a host name reserved for local networks")]
    LocalName,
    /// The host name does not resolve.
    #[error("has a host name that does not resolve")]
    Unresolvable,
}

/// True when `ip` is loopback, private (RFC 1918 / ULA), link-local (incl. cloud metadata),
/// CGNAT, unspecified (`0.0.0.0/8`, `::`), multicast, broadcast, documentation or otherwise not
/// a public unicast address; IPv4-mapped IPv6 addresses are judged as their IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_forbidden_v4(v4),
            None => is_forbidden_v6(v6),
        },
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 may reach private IPv4
        || first == 0x2002 // 6to4 embeds an IPv4 address
        || (first == 0x2001 && ip.segments()[1] == 0) // Teredo
        || (first & 0xffc0) == 0xfec0 // deprecated site-local
        || (first == 0x0100 && ip.segments()[1..4] == [0, 0, 0]) // discard-only 100::/64
        || (ip.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible ::a.b.c.d (deprecated)
}

/// True for host names that only make sense on a local network.
pub fn is_local_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".local")
        || host.ends_with(".internal")
        || host.ends_with(".home.arpa")
        || !host.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_forbidden_range_is_refused() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden_ip(ip(bad)), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111"] {
            assert!(!is_forbidden_ip(ip(good)), "{good} is public");
        }
    }

    #[test]
    fn local_names_are_refused() {
        for bad in ["localhost", "LOCALHOST.", "printer.local", "db.internal", "api.localhost", "intranet"] {
            assert!(is_local_host_name(bad), "{bad}");
        }
        assert!(!is_local_host_name("hooks.example.com"));
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let delays = DEFAULT_RETRY_DELAYS_MS;
        assert_eq!(next_retry_at(1_000, 1, &delays, 0), Some(61_000));
        assert_eq!(next_retry_at(1_000, 2, &delays, 0), Some(301_000));
        assert_eq!(next_retry_at(1_000, 3, &delays, 0), Some(1_801_000));
        assert_eq!(next_retry_at(1_000, 4, &delays, 0), None, "three retries, then failed");
        assert_eq!(next_retry_at(0, 1, &delays, 200), Some(72_000), "+20 % jitter");
        assert_eq!(next_retry_at(0, 1, &delays, -999), Some(48_000), "jitter is clamped to ±20 %");
        assert_eq!(next_retry_at(0, 0, &delays, 0), None);
    }

    #[test]
    fn all_eleven_events_are_known() {
        assert_eq!(EVENTS.len(), 11);
        assert!(is_event("payout.failed"));
        assert!(!is_event("conversion.deleted"));
    }
}
