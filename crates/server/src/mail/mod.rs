//! Delivering the outgoing-mail outbox: over SMTP when `--smtp-url` is set, else as `.eml` files
//! in the mail directory (and a log line), else not at all — mails then wait in the outbox until
//! a transport is configured, never lost. `digest.rs` writes the affiliates' hourly "new
//! commission credited" mails into the outbox.

pub mod digest;
pub mod transport;
pub mod worker;

pub use transport::MailTransport;
