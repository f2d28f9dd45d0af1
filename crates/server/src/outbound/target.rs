//! Where a webhook may be sent: public HTTPS only, checked when the URL is saved, when a test is
//! dispatched and before every delivery, on the addresses the host resolves to (so a name that
//! later resolves to a private address — DNS rebinding — is still refused).

use std::{
    fmt,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
};

use refline_domain::{is_forbidden_ip, is_local_host_name, TargetError};
use url::{Host, Url};

/// Resolves host names; the system resolver in production, a fixed map in tests.
pub trait HostResolver: Send + Sync + fmt::Debug {
    /// The addresses of `host`.
    fn resolve(
        &self,
        host: String,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The operating system's resolver.
#[derive(Debug, Default)]
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn resolve(
        &self,
        host: String,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct TargetPolicy {
    /// Development switch: allow `http://` and private addresses.
    pub allow_private: bool,
    /// Name resolution.
    pub resolver: Arc<dyn HostResolver>,
}

/// Checks the URL's form and, unless private targets are allowed, its host: a literal address
/// or every address the name resolves to must be public. Used when a URL is saved.
pub async fn check_target(raw: &str, policy: &TargetPolicy) -> Result<Url, TargetError> {
    let url = check_form(raw, policy)?;
    if let (false, Some(Host::Domain(name))) = (policy.allow_private, url.host()) {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs =
            policy.resolver.resolve(name.to_string(), port).await.map_err(|_| TargetError::Unresolvable)?;
        if addrs.is_empty() {
            return Err(TargetError::Unresolvable);
        }
        for addr in addrs {
            forbid(addr.ip())?;
        }
    }
    Ok(url)
}

/// Everything [`check_target`] checks except resolving names: the scheme, no credentials, a
/// public literal address, no local name. Enough before a send, because the connection resolves
/// through [`GuardedResolver`], which refuses private addresses itself (one lookup, not two).
pub fn check_form(raw: &str, policy: &TargetPolicy) -> Result<Url, TargetError> {
    let url = Url::parse(raw).map_err(|_| TargetError::Malformed)?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_private => {}
        _ => return Err(TargetError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Malformed);
    }
    let host = url.host().ok_or(TargetError::Malformed)?;
    if !policy.allow_private {
        match host {
            Host::Ipv4(ip) => forbid(IpAddr::V4(ip))?,
            Host::Ipv6(ip) => forbid(IpAddr::V6(ip))?,
            Host::Domain(name) if is_local_host_name(name) => return Err(TargetError::LocalName),
            Host::Domain(_) => {}
        }
    }
    Ok(url)
}

fn forbid(ip: IpAddr) -> Result<(), TargetError> {
    if is_forbidden_ip(ip) {
        Err(TargetError::PrivateAddress)
    } else {
        Ok(())
    }
}

/// A reqwest resolver that resolves through `policy` and drops every forbidden address, so the
/// connection itself can never reach a private network whatever DNS answers at that moment.
#[derive(Debug, Clone)]
pub struct GuardedResolver(pub TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let addrs = policy.resolver.resolve(name.as_str().to_string(), 0).await?;
            let allowed: Vec<SocketAddr> =
                addrs.into_iter().filter(|a| policy.allow_private || !is_forbidden_ip(a.ip())).collect();
            if allowed.is_empty() {
                return Err("refused: the host resolves only to private addresses".into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The core's outbound operations check URLs through this policy, so a URL saved by any door
/// meets the same rule the connection enforces when sending.
#[refline_store::async_trait]
impl refline_core::outbound::TargetCheck for TargetPolicy {
    async fn check(&self, url: &str) -> Result<(), TargetError> {
        check_target(url, self).await.map(|_| ())
    }
}
