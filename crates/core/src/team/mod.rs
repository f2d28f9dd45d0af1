//! The people side of a merchant: signing up, signing in, sessions, password resets, brands and
//! the team. The dashboard is the door that calls these today; the command line creates users
//! for headless installs. Sessions, the login, its throttle and password resets are shared
//! with the affiliate portal ([`crate::sign_in`]).
//!
//! Passwords are hashed with Argon2id ([`password`]); sessions live in the database
//! ([`sessions`]) so any node serves any session; every mail goes through the outbox in the
//! transaction of its change ([`mail`]).

pub mod brands;
pub mod mail;
pub mod members;
pub mod password;
pub mod sessions;
pub mod signup;
pub mod users;

pub use crate::sign_in::{OpenedSession, SessionContext};
pub use sessions::SignedIn;

/// How long a session lasts without use.
pub const SESSION_IDLE_MS: i64 = 14 * 24 * 60 * 60 * 1000;
/// How long a password-reset link works.
pub const RESET_TTL_MS: i64 = 60 * 60 * 1000;
/// How long a first-password link printed by `refline user create` works.
pub const SETUP_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// How long a team invitation works.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
