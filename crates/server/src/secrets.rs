//! Secrets at rest. Moved to the core of operations (`refline_core::secrets`), which seals
//! processor secrets when it creates or changes a connection; re-exported so every
//! `refline_server::secrets` path keeps working.

pub use refline_core::secrets::{parse_key, random_key, SecretBox, SecretError};
