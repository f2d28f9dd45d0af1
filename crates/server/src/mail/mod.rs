//! Delivering the outgoing-mail outbox: over SMTP when `--smtp-url` is set, else as `.eml` files
//! in the mail directory (and a log line), else not at all — mails then wait in the outbox until
//! a transport is configured, never lost.

pub mod transport;
pub mod worker;

pub use transport::MailTransport;
