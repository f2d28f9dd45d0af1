//! Command-line interface. Every option also reads a `REFLINE_*` environment variable.

use std::{collections::BTreeSet, ffi::OsString, path::PathBuf};

use anyhow::Context;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use refline_domain::{parse_amount, Currency, ExchangeRates, KeyKind, Plan};
use refline_server::{
    config::ServerConfig,
    http::client_ip::{ForwardedHeader, ProxyNet},
};
use refline_store_sqlite::Durability;
use serde_json::json;
use tokio::net::TcpListener;

use crate::{
    admin, backup, config_check, config_file,
    integrations::{self, IntegrationCommand},
    ledger::{self, LedgerCommand},
    secret_key::SecretKeyArgs,
    settings::{self, SettingsCommand},
    storage::{open_store, EngineOptions},
    users::{self, UserCommand},
};

#[derive(Debug, Parser)]
#[command(name = "refline", version, about = "Self-hosted, LinkJolt-compatible affiliate tracking")]
struct Cli {
    /// Database: sqlite://path (created on first start) or postgres://user@host/db.
    #[arg(long, global = true, env = "REFLINE_DATABASE_URL", default_value = "sqlite://refline.db")]
    database_url: String,
    #[command(flatten)]
    secret_key: SecretKeyArgs,
    /// TOML file of settings (keys: the options' names in snake case, see `refline config
    /// check`); flags and REFLINE_* variables take precedence over it.
    #[arg(long, global = true, env = "REFLINE_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as human-readable "text" or one JSON object per line ("json").
    #[arg(long, global = true, env = "REFLINE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<ServeArgs>),
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage payment-processor connections.
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Check the commission ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Show or change a merchant's payout settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Manage dashboard logins.
    #[command(subcommand)]
    User(UserCommand),
    /// The MCP tools over stdio, relayed to a Refline server's /mcp (for desktop AI clients).
    Mcp(crate::mcp_proxy::McpArgs),
    /// Import a program from Rewardful, Tolt, FirstPromoter or PartnerStack (affiliates, links,
    /// coupons, customers, commissions) or CSV files; safe to run again, and an interrupted run
    /// resumes.
    Import(Box<crate::import::ImportArgs>),
    /// Check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy a running server's SQLite database to a new file, consistently (for PostgreSQL use
    /// pg_dump or continuous archiving).
    Backup {
        /// The file to write; it must not exist.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the settings `refline serve` would run with (flags, REFLINE_* variables,
    /// --config file, defaults) and print them as a config file, secrets redacted. Takes
    /// `serve`'s options too.
    Check {
        /// Any `refline serve` options, checked as `serve` would.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        serve_options: Vec<OsString>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REFLINE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Public base URL used in tracking links (default: http://<listen>).
    #[arg(long, env = "REFLINE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Requests per minute per Pro key.
    #[arg(long, env = "REFLINE_RATE_LIMIT_PRO")]
    rate_limit_pro: Option<u32>,
    /// Requests per minute per Ultimate key.
    #[arg(long, env = "REFLINE_RATE_LIMIT_ULTIMATE")]
    rate_limit_ultimate: Option<u32>,
    /// Requests per minute per Scale key.
    #[arg(long, env = "REFLINE_RATE_LIMIT_SCALE")]
    rate_limit_scale: Option<u32>,
    /// Monthly tracked-sales cap of the Pro plan in major units, or "none".
    #[arg(long, env = "REFLINE_MONTHLY_CAP_PRO")]
    monthly_cap_pro: Option<String>,
    /// Monthly tracked-sales cap of the Ultimate plan in major units, or "none".
    #[arg(long, env = "REFLINE_MONTHLY_CAP_ULTIMATE")]
    monthly_cap_ultimate: Option<String>,
    /// Monthly tracked-sales cap of the Scale plan in major units, or "none".
    #[arg(long, env = "REFLINE_MONTHLY_CAP_SCALE")]
    monthly_cap_scale: Option<String>,
    /// Exchange rate the monthly cap counts sales in other currencies with: CODE=RATE, what one
    /// unit of CODE is worth in the base currency, e.g. eur=1.08 (repeat, or comma-separate in
    /// the variable). A sale in a currency without a rate counts at par, with a warning.
    #[arg(long = "currency-rate", env = "REFLINE_CURRENCY_RATES", value_delimiter = ',')]
    currency_rates: Vec<String>,
    /// The currency the --currency-rate values are written in (its own rate is 1).
    #[arg(long, env = "REFLINE_CURRENCY_RATE_BASE", default_value = "usd")]
    currency_rate_base: String,
    /// Failed authentications per client IP per minute before 429.
    #[arg(long, env = "REFLINE_UNAUTHENTICATED_RATE_LIMIT", default_value_t = 60)]
    unauthenticated_rate_limit: u32,
    /// Proxy (address or CIDR range, e.g. 10.0.0.0/8) whose forwarding header is believed for
    /// the client's IP (repeat, or comma-separate in the variable).
    #[arg(long = "trusted-proxy", env = "REFLINE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<ProxyNet>,
    /// The header trusted proxies put the client's address in: x-forwarded-for or forwarded
    /// (RFC 7239).
    #[arg(long, env = "REFLINE_FORWARDED_HEADER", default_value = "x-forwarded-for")]
    forwarded_header: ForwardedHeader,
    /// Serve Prometheus metrics at /metrics to requests with this bearer token (default: off).
    #[arg(long, env = "REFLINE_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// SQLite commit durability: "normal" (survives process crashes) or "full" (fsync each commit).
    #[arg(long, env = "REFLINE_SQLITE_SYNCHRONOUS", default_value = "normal")]
    sqlite_synchronous: String,
    /// Development only: let webhooks go to plain http:// and private or loopback addresses.
    #[arg(long, env = "REFLINE_ALLOW_PRIVATE_WEBHOOK_TARGETS", default_value_t = false)]
    allow_private_webhook_targets: bool,
    /// Sandbox / development only: let payment-processor API lookups (GoPay's apiBaseUrl) go to
    /// plain http:// and private or loopback addresses.
    #[arg(long, env = "REFLINE_ALLOW_PRIVATE_PROCESSOR_API", default_value_t = false)]
    allow_private_processor_api: bool,
    /// Stripe's API, for Stripe Connect payouts (a stand-in in tests; plain http or private
    /// addresses need --allow-private-processor-api).
    #[arg(long, env = "REFLINE_STRIPE_API_BASE", default_value = "https://api.stripe.com")]
    stripe_api_base: String,
    /// Seconds between automatic payout runs (once across all nodes); 0 turns them off.
    #[arg(long, env = "REFLINE_AUTOMATIC_PAYOUTS_EVERY", default_value_t = 86_400)]
    automatic_payouts_every: u64,
    /// Seconds before each webhook retry (the count is the number of retries).
    #[arg(long, env = "REFLINE_WEBHOOK_RETRY_DELAYS", value_delimiter = ',', default_value = "60,300,1800")]
    webhook_retry_delays: Vec<u64>,
    /// Seconds a webhook receiver has to answer.
    #[arg(long, env = "REFLINE_WEBHOOK_TIMEOUT", default_value_t = 10)]
    webhook_timeout: u64,
    /// PostgreSQL connection pool size.
    #[arg(long, env = "REFLINE_POSTGRES_MAX_CONNECTIONS", default_value_t = 16)]
    postgres_max_connections: u32,
    /// Days a click's raw IP is kept for self-referral checks before it is cleared.
    #[arg(long, env = "REFLINE_CLICK_IP_RETENTION_DAYS", default_value_t = 30)]
    click_ip_retention_days: u32,
    /// When a click is answered: `immediate` (default; a crash can lose the clicks of the
    /// current 50 ms batch) or `committed` (after its batch is written: none lost, every click
    /// answer waits for one write; such batches skip the 50 ms window).
    #[arg(long, env = "REFLINE_CLICK_ACK", default_value = "immediate", value_parser = ["immediate", "committed"])]
    click_ack: String,
    /// Seconds a node holds a claimed webhook or processor delivery before another node may take
    /// it over (how soon a crashed node's work resumes). At least three times --webhook-timeout.
    #[arg(long, env = "REFLINE_WORKER_LEASE", default_value_t = 60)]
    worker_lease: u64,
    /// Where unknown or inactive tracking links send visitors (default: a 404 page).
    #[arg(long, env = "REFLINE_TRACKING_FALLBACK_URL")]
    tracking_fallback_url: Option<String>,
    /// Seconds a client has to send a request's head; also how long an idle kept-alive
    /// connection stays open.
    #[arg(long, env = "REFLINE_HEADER_READ_TIMEOUT", default_value_t = 15)]
    header_read_timeout: u64,
    /// Seconds a client has to send a request's whole body (408 past it).
    #[arg(long, env = "REFLINE_BODY_READ_TIMEOUT", default_value_t = 30)]
    body_read_timeout: u64,
    /// Most connections open at once; past it new connections wait to be accepted.
    #[arg(long, env = "REFLINE_MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// SMTP server for outgoing mail (invitations, password resets):
    /// smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465.
    #[arg(long, env = "REFLINE_SMTP_URL")]
    smtp_url: Option<String>,
    /// Where mails are written as .eml files when there is no --smtp-url.
    #[arg(long, env = "REFLINE_MAIL_DIR", default_value = "refline-mail")]
    mail_dir: std::path::PathBuf,
    /// The From: address of outgoing mail.
    #[arg(long, env = "REFLINE_MAIL_FROM", default_value = "Refline <no-reply@localhost>")]
    mail_from: String,
    /// Whether anyone may sign up at /auth/sign-up ("open") or only people the operator creates
    /// with `refline user create` ("closed").
    #[arg(long, env = "REFLINE_SIGNUP", default_value = "open")]
    signup: String,
    /// The plan of a new sign-up's first brand.
    #[arg(long, env = "REFLINE_SIGNUP_PLAN", default_value = "ultimate")]
    signup_plan: String,
    /// Team seats per plan, PLAN=N (repeat, or comma-separate in the variable), e.g. pro=5.
    #[arg(long = "team-seats", env = "REFLINE_TEAM_SEATS", value_delimiter = ',')]
    team_seats: Vec<String>,
    /// Largest request body, bytes (a larger declared Content-Length is 413 before reading).
    #[arg(long, env = "REFLINE_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    max_body_bytes: usize,
    /// Longest request target (path and query), bytes (414 past it).
    #[arg(long, env = "REFLINE_MAX_URI_BYTES", default_value_t = 8_192)]
    max_uri_bytes: usize,
    /// Most header bytes in a request (431 past it; at most 100 header fields).
    #[arg(long, env = "REFLINE_MAX_HEADER_BYTES", default_value_t = 32_768)]
    max_header_bytes: usize,
}

#[derive(Debug, Subcommand)]
enum MerchantCommand {
    /// Create a merchant and print its id, a live key and a test key (shown once).
    Create {
        /// Business name.
        #[arg(long)]
        name: String,
        /// Plan: starter, pro, ultimate or scale.
        #[arg(long, default_value = "ultimate")]
        plan: String,
        /// Default currency of new campaigns.
        #[arg(long, default_value = "usd")]
        currency: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key for a merchant (shown once).
    Create {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// Create a test key (lj_pk_test_…).
        #[arg(long)]
        test: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key by its id (key_…).
    Revoke {
        /// Key id.
        key_id: String,
    },
    /// List a merchant's keys (ids and hints; the keys themselves are never stored).
    List {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
    },
}

/// The command line with the --config file layered beneath it (`config_file`): the parsed
/// arguments, their matches, and which options the file supplied.
fn parse_layered(argv: Vec<OsString>) -> anyhow::Result<(Cli, ArgMatches, BTreeSet<String>)> {
    let mut root = Cli::command();
    root.build();
    let first = root.clone().try_get_matches_from(&argv).unwrap_or_else(|e| e.exit());
    let relayed = matches!(first.subcommand_name(), Some("mcp"));
    let (argv, layered, path) = match config_path(&first) {
        Some(path) if !relayed => {
            let file = config_file::read(&path)?;
            let (argv, layered) = config_file::layer(&root, &first, argv, &file)?;
            (argv, layered, Some(path))
        }
        _ => (argv, BTreeSet::new(), None),
    };
    let matches = match root.try_get_matches_from(&argv) {
        Ok(matches) => matches,
        // A value the file supplied is checked like the flag; say where it came from.
        Err(err) if !layered.is_empty() => {
            let path = path.map(|p| p.display().to_string()).unwrap_or_default();
            anyhow::bail!("with config file {path}: {}", err.render().to_string().trim());
        }
        Err(err) => err.exit(),
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Ok((cli, matches, layered))
}

/// `--config` / `REFLINE_CONFIG`, wherever on the command line it was given.
fn config_path(matches: &ArgMatches) -> Option<PathBuf> {
    let mut current = Some(matches);
    while let Some(m) = current {
        if let Some(path) = m.get_one::<PathBuf>("config") {
            return Some(path.clone());
        }
        current = m.subcommand().map(|(_, sub)| sub);
    }
    None
}

/// Parses `args` and runs the command.
pub async fn run(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<()> {
    let argv: Vec<OsString> = args.into_iter().collect();
    let (cli, _, _) = parse_layered(argv.clone())?;
    let log_format = cli.log_format.clone();
    let start_logs = || init_tracing(&log_format);
    match cli.command {
        Command::Serve(args) => {
            start_logs();
            serve(&cli.database_url, &cli.secret_key, *args).await
        }
        Command::Config(ConfigCommand::Check { .. }) => config_check(argv),
        Command::Backup { file } => backup::run(&cli.database_url, &file).await,
        Command::Integration(command) => {
            start_logs();
            integrations::run(&cli.database_url, &cli.secret_key, command).await
        }
        Command::Settings(command) => settings::run(&cli.database_url, &cli.secret_key, command).await,
        Command::User(command) => users::run(&cli.database_url, command).await,
        Command::Mcp(args) => crate::mcp_proxy::run(args).await,
        Command::Import(args) => crate::import::run(&cli.database_url, *args).await,
        Command::Ledger(command) => {
            if !ledger::run(&cli.database_url, command).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Merchant(MerchantCommand::Create { name, plan, currency, json: as_json }) => {
            let store = open_store(&cli.database_url, EngineOptions::default()).await?;
            let created = admin::create_merchant(&store, &name, &plan, &currency).await?;
            if as_json {
                let out = json!({
                    "merchantId": created.merchant_id,
                    "apiKey": created.api_key,
                    "testApiKey": created.test_api_key,
                });
                println!("{out}");
            } else {
                println!("Merchant created: {}", created.merchant_id);
                println!("Live API key:     {}", created.api_key);
                println!("Test API key:     {}", created.test_api_key);
                println!("Keep the keys now: they are stored hashed and cannot be shown again.");
            }
            Ok(())
        }
        Command::Key(KeyCommand::Create { merchant, test, json: as_json }) => {
            let store = open_store(&cli.database_url, EngineOptions::default()).await?;
            let kind = if test { KeyKind::Test } else { KeyKind::Live };
            let (id, key) = admin::create_key(&store, &merchant, kind).await?;
            if as_json {
                println!("{}", json!({ "apiKey": key }));
            } else {
                println!("Key {id}: {key}");
                println!("Keep the key now: it is stored hashed and cannot be shown again.");
            }
            Ok(())
        }
        Command::Key(KeyCommand::Revoke { key_id }) => {
            let store = open_store(&cli.database_url, EngineOptions::default()).await?;
            admin::revoke_key(&store, &key_id).await?;
            println!("Key {key_id} revoked.");
            Ok(())
        }
        Command::Key(KeyCommand::List { merchant }) => {
            let store = open_store(&cli.database_url, EngineOptions::default()).await?;
            for key in store.list_api_keys(&merchant).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}  {:4}  {:7}  {}", key.id, key.kind.as_str(), state, key.hint);
            }
            Ok(())
        }
    }
}

fn cap(value: Option<&str>, plan: Plan) -> anyhow::Result<Option<Option<i64>>> {
    match value {
        None => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(text) => parse_amount(text, 2)
            .ok()
            .filter(|v| *v > 0)
            .map(|v| Some(Some(v)))
            .with_context(|| format!("monthly cap for {} must be an amount or \"none\"", plan.as_str())),
    }
}

/// The rate table of `--currency-rate-base` and `--currency-rate`; any bad entry stops the
/// start (a cap silently counted with a wrong rate would be worse).
fn exchange_rates(base: &str, entries: &[String]) -> anyhow::Result<ExchangeRates> {
    let base = Currency::parse(base).ok().with_context(|| {
        format!("--currency-rate-base {base:?} is not a supported ISO 4217 currency code")
    })?;
    let mut rates = ExchangeRates::new(base);
    for entry in entries.iter().filter(|e| !e.trim().is_empty()) {
        rates.set(entry).with_context(|| format!("--currency-rate {entry:?}"))?;
    }
    Ok(rates)
}

/// Seats per plan from `--team-seats` entries (`pro=5`); `None` when none are given.
fn team_seats(entries: &[String]) -> anyhow::Result<Option<[u32; 4]>> {
    let entries: Vec<&String> = entries.iter().filter(|e| !e.trim().is_empty()).collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let mut seats = Plan::ALL.map(refline_domain::default_seats);
    for entry in entries {
        let (plan, count) =
            entry.split_once('=').with_context(|| format!("--team-seats {entry:?}: write PLAN=N"))?;
        let plan =
            Plan::parse(plan.trim()).with_context(|| format!("--team-seats {entry:?}: unknown plan"))?;
        let count: u32 =
            count.trim().parse().with_context(|| format!("--team-seats {entry:?}: N must be a number"))?;
        if let Some(slot) = Plan::ALL.iter().position(|p| *p == plan).and_then(|i| seats.get_mut(i)) {
            *slot = count;
        }
    }
    Ok(Some(seats))
}

fn server_config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig {
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.listen))
            .trim_end_matches('/')
            .to_string(),
        unauthenticated_per_minute: args.unauthenticated_rate_limit,
        trusted_proxies: args.trusted_proxies.clone(),
        forwarded_header: args.forwarded_header,
        metrics_token: args.metrics_token.clone().filter(|t| !t.trim().is_empty()),
        ..ServerConfig::default()
    };
    config.webhooks.allow_private_targets = args.allow_private_webhook_targets;
    config.max_body_bytes = args.max_body_bytes.max(1);
    config.connections.header_read_timeout = std::time::Duration::from_secs(args.header_read_timeout.max(1));
    config.connections.body_read_timeout = std::time::Duration::from_secs(args.body_read_timeout.max(1));
    config.connections.max_connections = args.max_connections.max(1);
    config.connections.max_uri_bytes = args.max_uri_bytes.max(256);
    config.connections.max_header_bytes = args.max_header_bytes.max(1024);
    config.allow_private_processor_api = args.allow_private_processor_api;
    config.payouts.stripe_api_base = args.stripe_api_base.clone();
    config.payouts.automatic_interval = (args.automatic_payouts_every > 0)
        .then(|| std::time::Duration::from_secs(args.automatic_payouts_every));
    config.webhooks.retry_delays_ms = args
        .webhook_retry_delays
        .iter()
        .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
        .collect();
    config.webhooks.timeout = std::time::Duration::from_secs(args.webhook_timeout.max(1));
    config.tracking.ip_retention_days = i64::from(args.click_ip_retention_days.max(1));
    config.tracking.ack_after_commit = args.click_ack == "committed";
    config.webhooks.lease_ms =
        i64::try_from(args.worker_lease.max(1).saturating_mul(1000)).unwrap_or(i64::MAX);
    if let Some(fallback) = &args.tracking_fallback_url {
        anyhow::ensure!(
            refline_domain::is_valid_target_url(fallback),
            "--tracking-fallback-url must be an absolute http:// or https:// URL"
        );
        config.tracking.fallback_url = Some(fallback.clone());
    }
    let rates = [
        (Plan::Pro, args.rate_limit_pro),
        (Plan::Ultimate, args.rate_limit_ultimate),
        (Plan::Scale, args.rate_limit_scale),
    ];
    for (plan, rate) in rates {
        if let Some(rate) = rate {
            config.limits.set_rate(plan, rate);
        }
    }
    let caps = [
        (Plan::Pro, args.monthly_cap_pro.as_deref()),
        (Plan::Ultimate, args.monthly_cap_ultimate.as_deref()),
        (Plan::Scale, args.monthly_cap_scale.as_deref()),
    ];
    for (plan, value) in caps {
        if let Some(cap) = cap(value, plan)? {
            config.limits.set_cap(plan, cap);
        }
    }
    config.limits.rates = exchange_rates(&args.currency_rate_base, &args.currency_rates)?;
    config.mail.smtp_url = args.smtp_url.clone().filter(|u| !u.trim().is_empty());
    config.mail.mail_dir = Some(args.mail_dir.clone());
    config.mail.from = args.mail_from.clone();
    anyhow::ensure!(
        config.mail.from.parse::<lettre::message::Mailbox>().is_ok(),
        "--mail-from must be an address such as \"Refline <no-reply@example.com>\""
    );
    config.dashboard.signup_open = match args.signup.as_str() {
        "open" => true,
        "closed" => false,
        other => anyhow::bail!("--signup must be open or closed, not {other:?}"),
    };
    config.dashboard.signup_plan =
        Plan::parse(&args.signup_plan).context("--signup-plan must be starter, pro, ultimate or scale")?;
    config.limits.seats = team_seats(&args.team_seats)?;
    Ok(config)
}

/// `refline config check`: the same parse as `refline serve` (the words `config check` stand in
/// for `serve`), every check `serve` makes before opening the database, then the effective
/// settings printed as a config file.
fn config_check(mut argv: Vec<OsString>) -> anyhow::Result<()> {
    // The subcommand's words, not a `--config config` value that happens to precede `check`.
    let at = (1..argv.len().saturating_sub(1))
        .find(|&i| argv[i] == "config" && argv[i + 1] == "check" && argv[i - 1] != "--config")
        .context("`config check` not found on the command line")?;
    argv.splice(at..at + 2, [OsString::from("serve")]);
    let (cli, matches, layered) = parse_layered(argv)?;
    let Command::Serve(args) = cli.command else { anyhow::bail!("config check: serve settings expected") };
    server_config(&args)?;
    durability(&args.sqlite_synchronous)?;
    if let Some(key) = cli.secret_key.given() {
        refline_server::secrets::parse_key(key)
            .context("--secret-key must be 64 hexadecimal characters (32 bytes)")?;
    }
    let mut root = Cli::command();
    root.build();
    let serve = root.find_subcommand("serve").context("serve subcommand")?;
    let serve_matches = matches.subcommand_matches("serve").context("serve matches")?;
    print!("{}", config_check::render(serve, serve_matches, &layered));
    Ok(())
}

fn durability(text: &str) -> anyhow::Result<Durability> {
    match text {
        "full" => Ok(Durability::Full),
        "normal" => Ok(Durability::Normal),
        other => anyhow::bail!("--sqlite-synchronous must be normal or full, not {other:?}"),
    }
}

async fn serve(database_url: &str, secret_key: &SecretKeyArgs, args: ServeArgs) -> anyhow::Result<()> {
    let mut config = server_config(&args)?;
    config.secret_key = secret_key.resolve()?;
    tracing::info!(rates = %config.limits.rates.describe().join(","), "monthly cap exchange rates");
    let options = EngineOptions {
        sqlite_durability: durability(&args.sqlite_synchronous)?,
        postgres_max_connections: args.postgres_max_connections,
    };
    let store = open_store(database_url, options).await?;
    let listener =
        TcpListener::bind(&args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, engine = store.engine(), "refline listening");
    refline_server::serve(listener, store, config, shutdown_signal()).await?;
    tracing::info!("refline stopped");
    Ok(())
}

/// Logs to stderr, as text or one JSON object per line; every line written while a request is
/// answered carries its `request_id` (the span `http::request_id` opens).
fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every default `refline serve --help` shows must be accepted back by the parser, as a flag
    /// value: a default printed in another form (say, space-separated for a comma-separated
    /// list) misleads whoever copies it.
    #[test]
    fn serve_help_defaults_parse_back() {
        let mut command = Cli::command();
        let serve = command.find_subcommand_mut("serve").expect("serve subcommand");
        let help = serve.render_long_help().to_string();
        let mut checked = 0;
        // Each option's block starts with its flag; its default is shown as `[default: …]`.
        for block in help.split("\n      --").skip(1) {
            let Some((flag, rest)) = block.split_once(' ') else { continue };
            let Some(shown) = rest.split("[default: ").nth(1).and_then(|d| d.split(']').next()) else {
                continue;
            };
            if shown == "false" || shown == "true" {
                continue;
            }
            let flag = format!("--{flag}");
            let parsed = Cli::try_parse_from(["refline", "serve", flag.as_str(), shown]);
            assert!(parsed.is_ok(), "{flag} {shown:?}: {:?}", parsed.err());
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} defaults checked in:\n{help}");
    }

    #[test]
    fn currency_rates_are_read_from_repeated_flags_and_refused_when_wrong() {
        let parsed = Cli::try_parse_from([
            "refline",
            "serve",
            "--currency-rate",
            "eur=1.08",
            "--currency-rate",
            "JPY=0.0067,gbp=1.27",
            "--currency-rate-base",
            "usd",
        ])
        .expect("flags parse");
        let Command::Serve(args) = parsed.command else { panic!("serve expected") };
        let config = server_config(&args).expect("valid rates");
        assert_eq!(config.limits.rates.describe(), ["usd=1", "eur=1.08", "jpy=0.0067", "gbp=1.27"]);
        for bad in
            [["--currency-rate", "eur=zero"], ["--currency-rate", "xyz=1"], ["--currency-rate-base", "xyz"]]
        {
            let parsed = Cli::try_parse_from(["refline", "serve", bad[0], bad[1]]).expect("flags parse");
            let Command::Serve(args) = parsed.command else { panic!("serve expected") };
            assert!(server_config(&args).is_err(), "{bad:?}");
        }
    }
}
