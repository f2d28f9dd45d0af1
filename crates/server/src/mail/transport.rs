//! Where a mail goes: an SMTP server (lettre's async transport, TLS by rustls) or a directory.

use std::path::PathBuf;

use lettre::{
    message::{
        header::{ContentType, Header, HeaderName, HeaderValue},
        Mailbox, MultiPart,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use refline_store::OutgoingMail;

/// How mails leave this node.
#[derive(Clone)]
pub enum MailTransport {
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory.
    Dir(PathBuf),
}

impl MailTransport {
    /// The transport the settings describe, or `None` when there is neither an SMTP URL nor a
    /// mail directory. An unreadable SMTP URL is an error at startup, not a lost mail later.
    pub fn from_settings(settings: &crate::config::MailSettings) -> anyhow::Result<Option<MailTransport>> {
        if let Some(url) = &settings.smtp_url {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("--smtp-url is not a usable SMTP URL: {e}"))?
                .build();
            return Ok(Some(MailTransport::Smtp(transport)));
        }
        Ok(settings.mail_dir.clone().map(MailTransport::Dir))
    }

    /// Delivers one mail from `from`; the error says why it failed (kept on the mail).
    pub async fn deliver(&self, from: &str, mail: &OutgoingMail) -> Result<(), String> {
        let message = message(from, mail)?;
        match self {
            MailTransport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            MailTransport::Dir(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("mail directory {}: {e}", dir.display()))?;
                // The id is `mail_` and base-62: a safe file name.
                let name = format!("{}-{}.eml", mail.created_at, mail.id);
                let path = dir.join(&name);
                // Written under a hidden temporary name and renamed (atomic within a directory), so
                // whatever watches the directory never reads a half-written `.eml`.
                let partial = dir.join(format!(".{name}.partial"));
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .map_err(|e| format!("{}: {e}", partial.display()))?;
                tokio::fs::rename(&partial, &path).await.map_err(|e| format!("{}: {e}", path.display()))?;
                tracing::info!(to = %mail.to_address, subject = %mail.subject, path = %path.display(), "mail written to the mail directory");
                Ok(())
            }
        }
    }
}

/// The RFC 5322 message of a mail: plain text, or plain text and HTML as alternatives; a
/// mail sent in a brand's name keeps the server's From address with the brand as its name.
fn message(from: &str, mail: &OutgoingMail) -> Result<Message, String> {
    let mut from: Mailbox = from.parse().map_err(|e| format!("From address {from:?}: {e}"))?;
    if let Some(name) = mail.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        from.name = Some(name.to_string());
    }
    let to: Mailbox = mail.to_address.parse().map_err(|e| format!("recipient {:?}: {e}", mail.to_address))?;
    let mut builder = Message::builder().from(from).to(to).subject(mail.subject.clone());
    if let Some(url) = mail.unsubscribe_url.as_deref() {
        // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the https URL.
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    match &mail.body_html {
        Some(html) => builder
            .multipart(MultiPart::alternative_plain_html(mail.body_text.clone(), html.clone()))
            .map_err(|e| e.to_string()),
        None => {
            builder.header(ContentType::TEXT_PLAIN).body(mail.body_text.clone()).map_err(|e| e.to_string())
        }
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the URL unsubscribes with
/// one POST, no page to visit.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}
