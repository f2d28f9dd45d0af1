//! Server settings. Parsed by the binary (flags and `REFLINE_*` variables); defaults here.

use std::sync::Arc;

use crate::{
    clock::{Clock, SystemClock},
    http::{
        client_ip::{ForwardedHeader, ProxyNet},
        connection::ConnectionLimits,
    },
    outbound::{
        settings::WebhookSettings,
        target::{HostResolver, SystemResolver},
    },
    tracking::settings::TrackingSettings,
};

pub use refline_core::PlanLimits;

/// Everything the HTTP server needs to know besides its store.
#[derive(Clone)]
pub struct ServerConfig {
    /// Base URL people reach this server at, for tracking links (no trailing slash).
    pub public_url: String,
    /// Plan rights and limits.
    pub limits: PlanLimits,
    /// Failed authentications allowed per client IP per minute before 429.
    pub unauthenticated_per_minute: u32,
    /// How long an `Idempotency-Key` is remembered, ms.
    pub idempotency_ttl_ms: i64,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// The API base URL the dashboard's Migrate page imports from (tests, an egress proxy);
    /// each source's public API when `None`. Never taken from a form, so no page can point
    /// the server at an internal address.
    pub import_base_url: Option<String>,
    /// Timeouts and caps for connections and request heads (`http::connection`).
    pub connections: ConnectionLimits,
    /// Proxies (addresses or CIDR ranges) whose forwarding header is believed
    /// (`http::client_ip`).
    pub trusted_proxies: Vec<ProxyNet>,
    /// The header those proxies write the client's address in.
    pub forwarded_header: ForwardedHeader,
    /// The bearer token `/metrics` asks for; `None` (the default) turns `/metrics` off.
    pub metrics_token: Option<String>,
    /// Outbound webhooks.
    pub webhooks: WebhookSettings,
    /// Click tracking.
    pub tracking: TrackingSettings,
    /// Time source for schedules (webhook retries).
    pub clock: Arc<dyn Clock>,
    /// Name resolution for webhook targets.
    pub resolver: Arc<dyn HostResolver>,
    /// Development / sandbox only: let lookups in payment processors' APIs (GoPay's
    /// `apiBaseUrl`) reach plain http:// and private or loopback addresses. Separate from
    /// outbound webhooks' switch: a self-hosted processor sandbox is no reason to let
    /// merchants' webhooks reach the internal network.
    pub allow_private_processor_api: bool,
    /// Payouts: the Stripe API base and the automatic payout schedule.
    pub payouts: PayoutSettings,
    /// AES-256 key sealing payment-processor secrets at rest (`crate::secrets`). Losing it
    /// makes stored connection secrets unreadable; never log it.
    pub secret_key: [u8; 32],
    /// The dashboard's sign-up settings.
    pub dashboard: DashboardSettings,
    /// Outgoing mail.
    pub mail: MailSettings,
}

/// Who may sign up on the dashboard, and on which plan.
#[derive(Debug, Clone)]
pub struct DashboardSettings {
    /// Whether `/auth/sign-up` takes new accounts (default yes; an operator running a private
    /// server turns it off and creates logins with `refline user create`).
    pub signup_open: bool,
    /// The plan of a signed-up account's first brand (default Ultimate: a self-hosted server
    /// bills nobody, so it runs the whole product).
    pub signup_plan: refline_domain::Plan,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings { signup_open: true, signup_plan: refline_domain::Plan::Ultimate }
    }
}

/// How mail leaves the outbox.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…:465`, or `None`.
    pub smtp_url: Option<String>,
    /// Where mails are written as `.eml` files when there is no SMTP server (and logged). With
    /// neither, mails wait in the outbox until one is configured: never lost.
    pub mail_dir: Option<std::path::PathBuf>,
    /// The `From:` address.
    pub from: String,
    /// Whether this node runs the delivery worker.
    pub worker_enabled: bool,
    /// How often the worker looks for due mail when nothing woke it.
    pub poll: std::time::Duration,
    /// How often this node looks for due "new commission credited" digests (with
    /// `worker_enabled`; mails wait in the outbox without a transport).
    pub digest_poll: std::time::Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            mail_dir: None,
            from: "Refline <no-reply@localhost>".into(),
            worker_enabled: true,
            poll: std::time::Duration::from_secs(5),
            digest_poll: std::time::Duration::from_secs(30),
        }
    }
}

/// Payout rails and schedules.
#[derive(Debug, Clone)]
pub struct PayoutSettings {
    /// Stripe's API (`https://api.stripe.com`); a stand-in for tests. Plain http or private
    /// addresses only with `allow_private_processor_api`.
    pub stripe_api_base: String,
    /// How often automatic payouts run (once across all nodes); `None` turns the scheduler off.
    pub automatic_interval: Option<std::time::Duration>,
    /// How often a node checks whether the automatic run is due.
    pub schedule_poll: std::time::Duration,
}

impl Default for PayoutSettings {
    fn default() -> Self {
        PayoutSettings {
            stripe_api_base: "https://api.stripe.com".into(),
            automatic_interval: Some(std::time::Duration::from_secs(24 * 60 * 60)),
            schedule_poll: std::time::Duration::from_secs(60),
        }
    }
}

/// Written by hand so the secret key can never reach a log line.
impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("public_url", &self.public_url)
            .field("limits", &self.limits)
            .field("unauthenticated_per_minute", &self.unauthenticated_per_minute)
            .field("idempotency_ttl_ms", &self.idempotency_ttl_ms)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("import_base_url", &self.import_base_url)
            .field("connections", &self.connections)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("forwarded_header", &self.forwarded_header)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("webhooks", &self.webhooks)
            .field("tracking", &self.tracking)
            .field("clock", &self.clock)
            .field("resolver", &self.resolver)
            .field("allow_private_processor_api", &self.allow_private_processor_api)
            .field("payouts", &self.payouts)
            .field("secret_key", &"<redacted>")
            .field("dashboard", &self.dashboard)
            .field("mail_dir", &self.mail.mail_dir)
            .field("smtp", &self.mail.smtp_url.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: "http://127.0.0.1:8080".into(),
            limits: PlanLimits::default(),
            unauthenticated_per_minute: 60,
            idempotency_ttl_ms: 24 * 60 * 60 * 1000,
            max_body_bytes: 1024 * 1024,
            import_base_url: None,
            connections: ConnectionLimits::default(),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            metrics_token: None,
            webhooks: WebhookSettings::default(),
            tracking: TrackingSettings::default(),
            clock: Arc::new(SystemClock),
            resolver: Arc::new(SystemResolver),
            allow_private_processor_api: false,
            payouts: PayoutSettings::default(),
            // A fresh key per process: fine for tests; the binary always sets a persistent one.
            secret_key: crate::secrets::random_key(),
            dashboard: DashboardSettings::default(),
            mail: MailSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_never_shows_the_secret_key() {
        let config = super::ServerConfig { secret_key: [0xAB; 32], ..Default::default() };
        let shown = format!("{config:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("abab"), "{shown}");
    }
}
