//! The HTTP side of every source: one GET with the source's authentication, its rate limit,
//! `429` answered by waiting `Retry-After`, `5xx` and timeouts retried with a bounded back-off,
//! and a refused key turned into one clear error.

use std::{collections::VecDeque, time::Duration};

use reqwest::{header::RETRY_AFTER, StatusCode};
use serde_json::Value;
use tokio::{sync::Mutex, time::Instant};

use crate::ImportError;

/// How a source authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// HTTP Basic (Rewardful: the API secret as user, no password).
    Basic {
        /// User.
        user: String,
        /// Password.
        password: Option<String>,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts of one request that fails with a `5xx`, a timeout or a connection error.
    pub attempts: u32,
    /// The first back-off; doubled after each failure.
    pub base_delay: Duration,
    /// The longest back-off.
    pub max_delay: Duration,
    /// `429` answers one request may meet before the import stops.
    pub throttled_attempts: u32,
    /// The longest `Retry-After` waited (a longer one is cut to this).
    pub max_retry_after: Duration,
    /// Each request's timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            throttled_attempts: 20,
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

/// At most `requests` requests in any `per` window (Rewardful documents 45 per 30 s).
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests.
    pub requests: usize,
    /// Window.
    pub per: Duration,
}

/// A client of one source's API.
pub struct SourceClient {
    source: &'static str,
    http: reqwest::Client,
    base: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    policy: RetryPolicy,
    rate: Option<RateLimit>,
    sent: Mutex<VecDeque<Instant>>,
}

impl SourceClient {
    /// A client of `source` at `base` (no trailing slash needed).
    pub fn new(
        source: &'static str,
        base: &str,
        auth: Auth,
        headers: Vec<(String, String)>,
        policy: RetryPolicy,
        rate: Option<RateLimit>,
    ) -> Result<SourceClient, ImportError> {
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ImportError::Usage(format!("--base-url {base:?} must be an http(s) URL")));
        }
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("refline-import/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ImportError::Usage(format!("HTTP client: {e}")))?;
        let base = base.trim_end_matches('/').to_string();
        Ok(SourceClient {
            source,
            http,
            base,
            auth,
            headers,
            policy,
            rate,
            sent: Mutex::new(VecDeque::new()),
        })
    }

    /// `GET <base><path>?<query>` answered as JSON, with every retry rule applied.
    pub async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ImportError> {
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            self.wait_for_rate().await;
            let mut request = self.http.get(format!("{}{path}", self.base)).query(query);
            request = match &self.auth {
                Auth::Basic { user, password } => request.basic_auth(user, password.as_ref()),
                Auth::Bearer(token) => request.bearer_auth(token),
            };
            for (name, value) in &self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        let bytes = match response.bytes().await {
                            Ok(bytes) => bytes,
                            Err(e) => {
                                failures += 1;
                                self.back_off(failures, format!("reading the answer: {e}")).await?;
                                continue;
                            }
                        };
                        return serde_json::from_slice(&bytes).map_err(|e| ImportError::Unreadable {
                            source_name: self.source,
                            path: path.to_string(),
                            detail: e.to_string(),
                        });
                    }
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        return Err(ImportError::BadKey {
                            source_name: self.source,
                            status: status.as_u16(),
                        });
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        throttled += 1;
                        if throttled > self.policy.throttled_attempts {
                            return Err(ImportError::Unavailable {
                                source_name: self.source,
                                detail: "still rate limited (429)".into(),
                                attempts: throttled,
                            });
                        }
                        let wait = retry_after(response.headers().get(RETRY_AFTER))
                            .unwrap_or_else(|| self.delay(throttled))
                            .min(self.policy.max_retry_after);
                        tracing::info!(
                            source = self.source,
                            seconds = wait.as_secs_f64(),
                            "rate limited; waiting"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
                        format!("HTTP {}", status.as_u16())
                    } else {
                        let body = response.text().await.unwrap_or_default();
                        return Err(ImportError::Refused {
                            source_name: self.source,
                            path: path.to_string(),
                            status: status.as_u16(),
                            body: body.chars().take(200).collect(),
                        });
                    }
                }
                Err(e) if e.is_timeout() => "timed out".to_string(),
                Err(e) => format!("connection failed: {e}"),
            };
            failures += 1;
            self.back_off(failures, failure).await?;
        }
    }

    /// Waits before retry number `failures`, or gives up with `detail` past the policy.
    async fn back_off(&self, failures: u32, detail: String) -> Result<(), ImportError> {
        if failures >= self.policy.attempts {
            return Err(ImportError::Unavailable { source_name: self.source, detail, attempts: failures });
        }
        let wait = self.delay(failures);
        tracing::warn!(source = self.source, %detail, retry_in_ms = wait.as_millis() as u64, "request failed; retrying");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// The back-off before retry `n` (1-based): the base delay doubled `n - 1` times, capped.
    fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1).min(16)).unwrap_or(u32::MAX);
        self.policy.base_delay.saturating_mul(factor).min(self.policy.max_delay)
    }

    /// Keeps to the source's documented rate: waits until the oldest request of a full window
    /// leaves it.
    async fn wait_for_rate(&self) {
        let Some(rate) = self.rate else { return };
        let mut sent = self.sent.lock().await;
        let now = Instant::now();
        while sent.front().is_some_and(|t| now.duration_since(*t) >= rate.per) {
            sent.pop_front();
        }
        if sent.len() >= rate.requests {
            if let Some(oldest) = sent.pop_front() {
                tokio::time::sleep_until(oldest + rate.per).await;
            }
        }
        sent.push_back(Instant::now());
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these sources).
fn retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(retry_after(Some(&HeaderValue::from_static("2"))), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some(&HeaderValue::from_static("0.5"))), Some(Duration::from_millis(500)));
        assert_eq!(retry_after(Some(&HeaderValue::from_static("soon"))), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn back_off_doubles_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let client = SourceClient::new(
            "test",
            "http://127.0.0.1:1",
            Auth::Bearer("k".into()),
            Vec::new(),
            policy,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(client.delay(1), Duration::from_millis(100));
        assert_eq!(client.delay(2), Duration::from_millis(200));
        assert_eq!(client.delay(3), Duration::from_millis(350));
        assert_eq!(client.delay(40), Duration::from_millis(350));
    }

    #[tokio::test]
    async fn a_full_window_waits_for_its_oldest_request() {
        let rate = RateLimit { requests: 2, per: Duration::from_millis(300) };
        let client = SourceClient::new(
            "test",
            "http://127.0.0.1:1",
            Auth::Bearer("k".into()),
            Vec::new(),
            RetryPolicy::default(),
            Some(rate),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        client.wait_for_rate().await;
        client.wait_for_rate().await;
        assert!(start.elapsed() < Duration::from_millis(100), "two fit in the window");
        client.wait_for_rate().await;
        assert!(start.elapsed() >= Duration::from_millis(300), "the third waits for the first to leave");
    }

    #[test]
    fn a_base_url_must_be_http() {
        let made = SourceClient::new(
            "t",
            "ftp://x",
            Auth::Bearer("k".into()),
            Vec::new(),
            RetryPolicy::default(),
            None,
        );
        assert!(matches!(made, Err(ImportError::Usage(_))));
    }
}
