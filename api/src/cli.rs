//! The `payrail` command line (clap). Commands that scripts consume print JSON on stdout;
//! logs go to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::DEFAULT_CONFIG_FILE;

/// Payrail: pay many people at once, pay one person now, and collect money, through mobile
/// money operators, exactly once, on a double-entry ledger.
#[derive(Debug, Parser)]
#[command(name = "payrail", version)]
pub struct Cli {
    /// The configuration file (TOML).
    #[arg(long, global = true, default_value = DEFAULT_CONFIG_FILE)]
    pub config: PathBuf,
    #[command(flatten)]
    pub flags: ConfigFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Configuration given as flags: the top layer, over file and environment.
#[derive(Debug, Args, Serialize)]
pub struct ConfigFlags {
    /// A PostgreSQL URL; without one a private server runs in the data directory.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Where the private PostgreSQL server keeps its data.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Where the HTTP server listens (`serve`).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a node: the HTTP API, `/healthz` and `/readyz`, until SIGINT or SIGTERM.
    Serve,
    /// Applies the database migrations compiled into this binary.
    Migrate,
    /// Creates, funds, shows and lists merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Makes people who sign in to the portal.
    #[command(subcommand)]
    User(UserCommand),
    /// Submits a payroll batch from a CSV file, and shows a batch.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Writes a merchant's report to a file: its account statement, its transactions, or
    /// a batch's reconciliation, as CSV, XLSX or PDF.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Runs the operator simulator server: MTN MoMo and Airtel Money on their own paths,
    /// with the faults of a profile, until SIGINT or SIGTERM. Needs no database.
    Simulate(SimulateArgs),
    /// Manages the secrets that sign operator callback URLs.
    #[command(subcommand)]
    Callbacks(CallbacksCommand),
}

#[derive(Debug, Subcommand)]
pub enum CallbacksCommand {
    /// Makes a new secret sign MTN callback URLs from now on (every node within 30 s); the
    /// old ones stay accepted for `[callbacks] secret_overlap_hours`, so callbacks for
    /// payouts sent before still settle them.
    RotateSecret,
}

/// `payrail simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Where the simulator listens.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    /// The simulator profile: a TOML file (see `adapters/profiles/`), or if no file has
    /// that path, a built-in profile: `default`, `mtn-documented` (MTN as its documents
    /// describe it) or `hostile`. Without one, the defaults.
    #[arg(long)]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Validates a CSV (header `msisdn,amount,reference`) line by line, exactly as an
    /// upload over HTTP: if every line is valid, stores the batch and schedules it for the
    /// running node, or leaves it `awaiting_approval` when the merchant's rule asks for a
    /// checker (who approves over HTTP or in the portal); else prints the first errors with
    /// their line numbers and keeps the batch `invalid`, with nothing to pay.
    Submit {
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Prints a batch with its line counts and totals per state.
    Show {
        #[arg(long)]
        batch: String,
    },
}

/// Where a report goes and in what format.
#[derive(Debug, Args)]
pub struct ReportOutput {
    #[arg(long)]
    pub merchant: String,
    /// `csv`, `xlsx` or `pdf`; by default the output file's extension.
    #[arg(long)]
    pub format: Option<String>,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The account statement: opening balance, every movement with the balance after it,
    /// totals, closing balance.
    Statement {
        #[command(flatten)]
        output: ReportOutput,
        /// The first day (in the merchant's time zone), or a time.
        #[arg(long)]
        from: String,
        /// The last day, included, or a time.
        #[arg(long)]
        to: String,
    },
    /// The transaction report: payouts, collections, fundings and corrections.
    Transactions {
        #[command(flatten)]
        output: ReportOutput,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// A batch's reconciliation: each line with its payout id, operator ids, fee and
    /// outcome.
    Batch {
        #[command(flatten)]
        output: ReportOutput,
        #[arg(long)]
        batch: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Makes a portal user of a merchant and prints a one-time link (valid 72 hours) where
    /// they set their password. The first admin is made this way; admins invite the others
    /// from the portal.
    Create {
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        email: String,
        /// viewer, maker, checker or admin.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Creates a merchant; prints its id and one API key per role (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Fixed fee per payout, in the currency's units (e.g. `100` RWF).
        #[arg(long, default_value = "0", allow_hyphen_values = true)]
        payout_fee: String,
        /// Fee per collection in basis points (150 = 1.5 %), rounded up to the minor unit.
        #[arg(long, default_value_t = 0)]
        collection_fee_bps: u16,
        #[arg(long, default_value = "RWF")]
        currency: String,
        /// Batches above this total need a second person's approval (0: every batch).
        #[arg(long)]
        approval_threshold: Option<String>,
    },
    /// Tops up a merchant's available balance; prints its balances.
    Fund {
        #[arg(long)]
        merchant: String,
        /// In the merchant's currency units, e.g. `250000` RWF.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
    },
    /// Corrects a merchant's available balance against the outside world, with a reason
    /// its statement shows; prints the correction's id and the balances.
    Correct {
        #[arg(long)]
        merchant: String,
        /// Money the merchant is owed (in its currency's units).
        #[arg(long, conflicts_with = "debit", required_unless_present = "debit")]
        credit: Option<String>,
        /// Money the merchant was given by mistake.
        #[arg(long)]
        debit: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// Prints a merchant with its balances.
    Show {
        #[arg(long)]
        merchant: String,
    },
    /// Prints every merchant.
    List,
}
