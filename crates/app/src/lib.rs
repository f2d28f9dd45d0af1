//! The `refline` program as a library: command-line parsing, opening the store an URL names,
//! and the administrative commands. `main.rs` only calls [`run`].

pub mod admin;
pub mod backup;
pub mod cli;
pub mod config_check;
pub mod config_file;
pub mod import;
pub mod integrations;
pub mod ledger;
pub mod mcp_proxy;
pub mod secret_key;
pub mod settings;
pub mod storage;
pub mod users;

pub use cli::run;
