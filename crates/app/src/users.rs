//! `refline user create`: a dashboard login on an existing brand, for headless installs. The
//! password comes from stdin (`--password-stdin`), or a one-time link to choose it is printed.

use std::{io::Read, sync::Arc};

use anyhow::Context;
use clap::Subcommand;
use refline_core::{clock::SystemClock, effects::DirectEffects, team::users::NewUser, Core, Door};
use refline_domain::Role;
use serde_json::json;

use crate::storage::{open_store, EngineOptions};

/// `refline user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard login on a brand (a merchant id from `refline merchant create`).
    Create {
        /// The person's email (their login).
        #[arg(long)]
        email: String,
        /// The brand: a merchant id (mer_…).
        #[arg(long)]
        brand: String,
        /// Role on the brand: owner, admin or member.
        #[arg(long, default_value = "owner")]
        role: String,
        /// Read the password from stdin (one line) instead of printing a one-time link.
        #[arg(long)]
        password_stdin: bool,
        /// The server's public URL, for the printed link.
        #[arg(long, env = "REFLINE_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `user` command.
pub async fn run(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create { email, brand, role, password_stdin, public_url, json: as_json } = command;
    let role = Role::parse(&role).context("--role must be owner, admin or member")?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_to_string(&mut line).context("reading the password from stdin")?;
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        None
    };
    let store = open_store(database_url, EngineOptions::default()).await?;
    let core = Core::without_sales(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(DirectEffects::new(store)),
        &public_url,
    );
    let input = NewUser { email, merchant_id: brand, role, password };
    let created = core.create_user(&Door::Cli, input).await.map_err(|err| {
        let detail = err
            .details
            .as_deref()
            .and_then(|d| d.as_array())
            .map(|issues| issues.iter().filter_map(|i| i["message"].as_str()).collect::<Vec<_>>().join("; "))
            .filter(|s| !s.is_empty());
        anyhow::anyhow!(detail.unwrap_or(err.message))
    })?;
    if as_json {
        println!("{}", json!({ "userId": created.user_id, "setupLink": created.setup_link }));
    } else {
        println!("User created: {}", created.user_id);
        match &created.setup_link {
            Some(link) => println!("Set the password (link works once, for 7 days): {link}"),
            None => println!("Log in at {public_url}/auth/login"),
        }
    }
    Ok(())
}
