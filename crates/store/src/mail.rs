//! The outgoing-mail outbox: a mail is written in the transaction of the change that sends it
//! and delivered by a worker, so a crash between the two loses nothing.

use sqlx::FromRow;

use crate::StoreResult;

/// The mail outbox.
#[async_trait::async_trait]
pub trait MailStore {
    /// Queues a mail on its own (when no other write goes with it).
    async fn enqueue_mail(&self, mail: &OutgoingMail) -> StoreResult<()>;
    /// Claims up to `limit` mails due at `now`: each is leased until `lease_until`, so another
    /// worker (or node) skips it meanwhile; a crashed worker's lease simply lapses.
    async fn claim_mail(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<OutgoingMail>>;
    /// Records a delivered mail.
    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()>;
    /// Records a failed attempt: retried at `next_attempt_at`, or given up (`status = failed`)
    /// when that is `None`.
    async fn mail_failed(
        &self,
        id: &str,
        attempts: i64,
        next_attempt_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()>;
    /// The newest mails to `to_address` (every address when `None`), newest first.
    async fn recent_mail(&self, to_address: Option<&str>, limit: i64) -> StoreResult<Vec<OutgoingMail>>;
    /// How many mails wait (pending), for the operator.
    async fn mail_backlog(&self) -> StoreResult<i64>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// One mail.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct OutgoingMail {
    /// `mail_…`
    pub id: String,
    /// The brand it is sent for, when there is one.
    pub merchant_id: Option<String>,
    /// What it is (`password_reset`, `team_invite`, …), for logs and tests.
    pub kind: String,
    /// Recipient.
    pub to_address: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (unix ms).
    pub next_attempt_at: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// When it was delivered.
    pub sent_at: Option<i64>,
    /// The HTML part, when the mail has one (the plain text is always there).
    #[sqlx(default)]
    pub body_html: Option<String>,
    /// The sender's display name (the brand's), in front of the server's From address.
    #[sqlx(default)]
    pub from_name: Option<String>,
    /// The one-click unsubscribe URL of a non-essential mail: sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). `None` for essential
    /// mails (invitations, password resets, approvals, payouts).
    #[sqlx(default)]
    pub unsubscribe_url: Option<String>,
}

impl OutgoingMail {
    /// A pending mail due at once.
    pub fn new(
        id: String,
        merchant_id: Option<&str>,
        kind: &str,
        to: &str,
        subject: &str,
        body: String,
        now: i64,
    ) -> Self {
        OutgoingMail {
            id,
            merchant_id: merchant_id.map(str::to_string),
            kind: kind.to_string(),
            to_address: to.to_string(),
            subject: subject.to_string(),
            body_text: body,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
            body_html: None,
            from_name: None,
            unsubscribe_url: None,
        }
    }

    /// The same mail with an HTML part and sent in `from_name`'s name.
    pub fn branded(mut self, html: String, from_name: &str) -> Self {
        self.body_html = Some(html);
        self.from_name = Some(from_name.to_string());
        self
    }

    /// The same mail with a one-click unsubscribe URL (see [`OutgoingMail::unsubscribe_url`]).
    pub fn unsubscribable(mut self, url: Option<String>) -> Self {
        self.unsubscribe_url = url;
        self
    }
}
