//! The affiliate side: one person (`affiliate_people`) behind the per-merchant `affiliates`
//! rows, with one login that sees every program they are in, across brands and merchants.
//!
//! - [`sessions`]: portal login, sessions, logout (the dashboard's rules: Argon2id, the login
//!   throttle, hashed session tokens, a new session at every login);
//! - [`reset`]: password reset by emailed link;
//! - [`programs`]: what the portal lists;
//! - [`scope`]: the merchant actor a person acts through, limited to their own rows;
//! - [`links`]: tracking and short links;
//! - [`performance`]: this month's figures and the commissions list;
//! - [`payouts`]: balances, payout history and payout details;
//! - [`history`]: the paged lists of a program's commissions and a business's payouts;
//! - [`account`]: coupons, name and password change;
//! - [`export`]: the person's own data, for download;
//! - [`join`]: the public join page of a campaign (`/join/<code>`) and applying through it;
//! - [`invite`]: invitations by email (`POST /api/v1/affiliates/invite`, the dashboard's form)
//!   and accepting them;
//! - [`settings`]: whether rejected applicants get a mail;
//! - [`unsubscribe`]: one-click unsubscribe from the non-essential mails, and resubscribing;
//! - [`digest`]: the "new commission credited" mail, at most one an hour per affiliate row;
//! - [`mail`]: the mails of the affiliate side, with a plain-text and an HTML part, in the
//!   brand's name.
//!
//! Everything here runs through the door [`crate::Door::Portal`] when a person acts, and audits
//! it under the merchant concerned.

pub mod account;
pub mod digest;
pub mod export;
pub mod history;
pub mod invite;
pub mod join;
pub mod links;
pub mod mail;
pub mod payouts;
pub mod performance;
pub mod programs;
pub mod reset;
pub mod scope;
pub mod sessions;
pub mod settings;
pub mod unsubscribe;

pub use sessions::PortalSignedIn;

/// How long an invitation link works: 14 days, twice the team's, since affiliates are
/// outsiders who may take a while to read their mail.
pub const INVITATION_TTL_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// A person's door.
pub(crate) fn door(person_id: &str) -> crate::Door {
    crate::Door::Portal { person_id: person_id.to_string() }
}
