//! `refline-bench`: loads a real Refline server over loopback and reports throughput, latency
//! and whether every acknowledged write reached the database.
//!
//! The server runs in this process on its own runtime threads; the load generator is a plain
//! hyper client with keep-alive connections. Both share the machine, as `wrk` on loopback would.

mod api;
mod bare;
mod conversions;
mod cpu;
mod dashboard;
mod database;
mod durable;
mod import;
mod load;
mod many_keys;
mod memory;
mod payouts;
mod redirects;
mod server;
mod stripe;
mod webhooks;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "refline-bench", about = "Benchmarks of a real Refline server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
}

/// Where a benchmark keeps its data.
#[derive(Debug, Args)]
struct DbArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: EngineArg,
    /// PostgreSQL server URL; a fresh database is created on it and dropped afterwards.
    #[arg(
        long,
        env = "REFLINE_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
}

impl DbArgs {
    /// The PostgreSQL server to use, or `None` for SQLite.
    fn postgres(self) -> Option<String> {
        matches!(self.engine, EngineArg::Postgres).then_some(self.postgres_url)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// POST /api/v1/conversions with unique order ids. With `--keys N`: N Scale merchants, each
    /// key at 95 % of its real rate limit, against a minimal durable JSON-POST server (group
    /// commit, answer after commit) measured in the same run.
    Conversions {
        #[command(flatten)]
        db: DbArgs,
        /// Merchants, each with its own key sending at 95 % of its rate limit, and the durable
        /// baseline in the same run (0 = one key with its limit lifted, as fast as possible).
        #[arg(long, default_value_t = 0, conflicts_with = "rate")]
        keys: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds of measured load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Requests per second to offer (0 = as fast as possible).
        #[arg(long, default_value_t = 0)]
        rate: u64,
    },
    /// GET /redirect and /l/<code> against a bare "always 302" hyper server, then a graceful
    /// stop that must leave every answered click stored.
    Redirects {
        #[command(flatten)]
        db: DbArgs,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of each measured phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// When a click is answered, as `refline serve --click-ack`: `immediate` (before its
        /// batch is written) or `committed` (after).
        #[arg(long, default_value = "immediate", value_parser = ["immediate", "committed"])]
        click_ack: String,
    },
    /// Resident memory of a `refline serve` process (started from the `refline` binary next to
    /// this one): idle, and at the peak of redirects, conversions and Stripe deliveries.
    Memory {
        #[command(flatten)]
        db: DbArgs,
        /// The `refline` binary (default: next to `refline-bench`).
        #[arg(long)]
        refline: Option<std::path::PathBuf>,
        /// Seconds of each load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Signed Stripe deliveries: verify → inbox → conversion, accepted/s and converted/s.
    Stripe {
        #[command(flatten)]
        db: DbArgs,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// A payout run over many approved commissions, then its CSV export.
    Payouts {
        #[command(flatten)]
        db: DbArgs,
        /// Affiliates, one payout each.
        #[arg(long, default_value_t = 10_000)]
        affiliates: usize,
        /// Approved commissions per affiliate.
        #[arg(long, default_value_t = 10)]
        per_affiliate: usize,
    },
    /// Every dashboard page of a brand with 100,000 conversions this month, against /readyz.
    Dashboard {
        #[command(flatten)]
        db: DbArgs,
        /// Conversions this month.
        #[arg(long, default_value_t = 100_000)]
        conversions: usize,
        /// Times each page is fetched.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// An import of generated CSV files (affiliates, then commissions of four statuses) through
    /// the runner and the core's page operations, then a second run that must change nothing.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Affiliates.
        #[arg(long, default_value_t = 10_000)]
        affiliates: usize,
        /// Commissions.
        #[arg(long, default_value_t = 100_000)]
        commissions: usize,
    },
    /// Outbound webhook deliveries to a local receiver: throughput and event-to-delivery latency.
    Webhooks {
        #[command(flatten)]
        db: DbArgs,
        /// Events in the throughput run (all queued at once).
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Events per second in the latency run.
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        /// Seconds of the latency run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The client gets one runtime, the server another, so neither starves the other's scheduler.
    // Named, so a benchmark can tell the client's CPU time from the server's (`cpu.rs`).
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()?;
    match cli.command {
        Command::Conversions { db, keys, connections, seconds, rate: _ } if keys > 0 => {
            let options = many_keys::Options { postgres: db.postgres(), keys, connections, seconds };
            client_rt.block_on(many_keys::run(server_rt.handle().clone(), options))
        }
        Command::Conversions { db, keys: _, connections, seconds, rate } => {
            let postgres = db.postgres();
            let options = conversions::Options { postgres, connections, seconds, rate };
            client_rt.block_on(conversions::run(server_rt.handle().clone(), options))
        }
        Command::Redirects { db, connections, seconds, click_ack } => {
            let ack_committed = click_ack == "committed";
            let options = redirects::Options { postgres: db.postgres(), connections, seconds, ack_committed };
            client_rt.block_on(redirects::run(server_rt.handle().clone(), options))
        }
        Command::Memory { db, refline, seconds } => {
            let options = memory::Options { postgres: db.postgres(), refline, seconds };
            client_rt.block_on(memory::run(options))
        }
        Command::Stripe { db, connections, seconds } => {
            let options = stripe::Options { postgres: db.postgres(), connections, seconds };
            client_rt.block_on(stripe::run(server_rt.handle().clone(), options))
        }
        Command::Payouts { db, affiliates, per_affiliate } => {
            let options = payouts::Options { postgres: db.postgres(), affiliates, per_affiliate };
            client_rt.block_on(payouts::run(server_rt.handle().clone(), options))
        }
        Command::Dashboard { db, conversions, rounds } => {
            let options = dashboard::Options { postgres: db.postgres(), conversions, rounds };
            client_rt.block_on(dashboard::run(server_rt.handle().clone(), options))
        }
        Command::Import { db, affiliates, commissions } => {
            let options = import::Options { postgres: db.postgres(), affiliates, commissions };
            client_rt.block_on(import::run(server_rt.handle().clone(), options))
        }
        Command::Webhooks { db, events, rate, seconds } => {
            let postgres = db.postgres();
            let options = webhooks::Options { postgres, events, rate, seconds };
            client_rt.block_on(webhooks::run(server_rt.handle().clone(), options))
        }
    }
}
