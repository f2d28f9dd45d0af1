//! Signing in, for both kinds of people who do ([`SignInKind`]): merchant users (the dashboard)
//! and affiliate people (the portal). Every rule is written once here and only the per-kind
//! differences live in [`kind`] (where accounts are found, the throttle key, the audit place and
//! operation names, the reset mail):
//!
//! - [`sessions`]: server-side sessions whose cookie holds a random token (only its SHA-256 is
//!   stored), a CSRF token per session, a new session at every login, the idle lifetime and its
//!   extension, logout;
//! - [`throttle`]: the password check with its login throttle and the audit of failures;
//! - [`reset`]: password reset by emailed link: asking never tells whether the email has a
//!   login, the link works once for an hour, using it ends every session of the person.

pub mod kind;
pub mod reset;
pub mod sessions;
pub mod throttle;

pub use refline_store::SignInKind;
pub use sessions::{OpenedSession, SessionContext, SignedInAs};
