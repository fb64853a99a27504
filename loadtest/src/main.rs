//! `payrail-loadtest`: benchmarks and load tests that print their figures together with
//! the command that produced them.
//!
//! # Layout
//! - `bulk_insert`: how fast a batch's lines are written to PostgreSQL
//! - `upload_bench`: a payroll file through the HTTP API, seconds and the node's memory
//! - `cancel_bench`: cancelling batches of growing size through the HTTP API
//! - `single_bench`: single payouts at an open-model rate, accept and final latency, and
//!   the knee: the highest rate whose accept p99 keeps within a limit
//! - `portal_bench`: the portal's pages opened by many people at once among millions of lines
//! - `transactions_bench`: a small merchant's transactions among millions of other lines
//! - `reports_bench`: a large merchant's statement, reconciliation, transaction report and analytics
//! - `run`: scenarios through the HTTP API with an audit and reports (`report`)
//! - `node`: a `payrail serve` node a benchmark starts; `api_merchant`: its merchant
//! - `engine_bench`: how fast the actor engine pays, and the naive baseline (`naive`)
//! - `operators`: the simulated operators a benchmark pays through, in-process or over HTTP
//! - `audit`: the correctness audit after every benchmark and run (`payrail-loadtest audit`)
//! - `payroll`: the lines and funded merchants every benchmark uses
//! - `bench_database`: the database a benchmark runs on (a URL, or a private server)
//! - `machine`: the description of the machine printed with every figure

mod api_merchant;
mod audit;
mod bench_database;
mod bulk_insert;
mod cancel_bench;
mod engine_bench;
mod machine;
mod naive;
mod node;
mod operators;
mod payroll;
mod portal_bench;
mod report;
mod reports_bench;
mod run;
mod single_bench;
mod transactions_bench;
mod upload_bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// glibc's allocator spends a fifth of a benchmark's time in malloc and free under many
/// threads; mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "payrail-loadtest", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inserts batches of N payout lines in one statement each and reports lines per second.
    BulkInsert(bulk_insert::Args),
    /// Runs the actor engine on M merchants' N-line batches and reports payouts per second.
    Engine(engine_bench::Args),
    /// Uploads an N-line payroll CSV to a node it starts; seconds to validated, node memory.
    Upload(upload_bench::Args),
    /// Sends single payouts to a node it starts at R per second (open model) for D seconds,
    /// then audits; with --knee, rising rates until the accept p99 passes a limit.
    Single(single_bench::Args),
    /// Cancels batches of each size through the HTTP API of a node it starts; seconds each.
    Cancel(cancel_bench::Args),
    /// Times GET /v1/transactions for a small merchant among millions of others' lines.
    Transactions(transactions_bench::Args),
    /// Times the portal's dashboard, transactions, statement and batch pages opened by
    /// many people at once, among millions of other lines; and weighs them.
    Portal(portal_bench::Args),
    /// Times a large merchant's reports: exports to CSV, XLSX and PDF, a filtered
    /// transaction report's first page, a month of daily analytics.
    Reports(reports_bench::Args),
    /// Runs a scenario through the HTTP API, audits it and reports (terminal, JSON, HTML).
    Run(run::Args),
    /// Audits a run's database (and its operator record) again.
    Audit(audit::AuditArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = async {
        match Cli::parse().command {
            Command::BulkInsert(args) => bulk_insert::run(args).await,
            Command::Engine(args) => engine_bench::run(args).await,
            Command::Upload(args) => upload_bench::run(args).await,
            Command::Single(args) => single_bench::run(args).await,
            Command::Cancel(args) => cancel_bench::run(args).await,
            Command::Transactions(args) => transactions_bench::run(args).await,
            Command::Portal(args) => portal_bench::run(args).await,
            Command::Reports(args) => reports_bench::run(args).await,
            Command::Run(args) => run::run(args).await,
            Command::Audit(args) => audit::audit_again(args).await,
        }
    };
    // Interrupted, the command is dropped: a node it started is killed, and its private
    // PostgreSQL server is stopped and its directory removed (a large benchmark's is
    // gigabytes).
    let result = tokio::select! {
        result = command => result,
        signal = interrupted() => Err(anyhow::anyhow!("interrupted by {signal}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "payrail-loadtest: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves with the signal's name on SIGINT or SIGTERM.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}
