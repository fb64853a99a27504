//! `payrail-loadtest run`: a scenario (payroll, single, collections or mixed) through the
//! HTTP API, on a node it starts itself (`--spawn`) or one already running (`--target`).
//! It waits until everything offered is final, audits the run, prints a summary and
//! writes the JSON and HTML reports; the exit status is non-zero when the audit fails.

mod finals;
mod node;
mod send_log;
mod tally;
mod target;
mod traffic;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use jiff::Timestamp;

use crate::operators::{Delay, Kind};
use target::Target;
use traffic::{Api, Work};

/// What the run offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Each merchant uploads an N-line payroll CSV, its checker approves it.
    Payroll,
    /// Single payouts at R per second for D seconds.
    Single,
    /// Collections (requests to pay) at R per second for D seconds.
    Collections,
    /// Payrolls, single payouts at R per second and collections at R/5, at once.
    Mixed,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Start a node in this process, on `--database-url` or a private PostgreSQL.
    #[arg(long, conflicts_with = "target", required_unless_present = "target")]
    spawn: bool,
    /// Drive the node at this URL instead (needs --maker-key and --database-url).
    #[arg(long, requires_all = ["maker_key", "database_url"])]
    target: Option<String>,
    /// With --target: a maker key of the merchant the run pays from.
    #[arg(long)]
    maker_key: Option<String>,
    /// With --target: a checker key of the same merchant, to approve payrolls.
    #[arg(long)]
    checker_key: Option<String>,
    /// The node's database (with --target: to follow and audit the run).
    #[arg(long)]
    database_url: Option<String>,
    /// With --spawn: the operators, in this process or the simulator server over HTTP.
    #[arg(long, value_enum, default_value = "in-process")]
    operators: Kind,
    /// With --spawn: the operators' latency.
    #[arg(long, value_enum, default_value = "zero")]
    latency: Delay,
    /// With --spawn and --operators http-sim: a simulator profile (TOML) whose faults,
    /// latency and limits the operators show, e.g. adapters/profiles/hostile.toml.
    #[arg(long)]
    faults: Option<PathBuf>,
    /// With --spawn: merchants the work is spread over.
    #[arg(long, default_value_t = 1)]
    merchants: u32,
    /// Lines in each merchant's payroll.
    #[arg(long, default_value_t = 1_000)]
    lines: u64,
    /// Single payouts (or collections) offered per second.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds to offer them for.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// With --spawn: each route's sends per second.
    #[arg(long, default_value_t = 1_000)]
    sends_per_second: u32,
    /// With --spawn: each route's status queries per second (a --faults profile's own
    /// limit, if lower, wins).
    #[arg(long, default_value_t = 1_000)]
    queries_per_second: u32,
    /// Seconds to wait for everything to end after the last request.
    #[arg(long, default_value_t = 900)]
    patience: u64,
    /// Writes the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Writes the report as one self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Saves what the operators executed and each route's busiest second here, for a
    /// later `payrail-loadtest audit`.
    #[arg(long)]
    operator_record: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.faults.is_some() && args.operators != Kind::HttpSim {
        bail!("--faults needs --operators http-sim (the faults are the simulator server's)");
    }
    let target = Target::open(&args).await?;
    let files = match args.scenario {
        Scenario::Payroll | Scenario::Mixed => {
            traffic::payroll_files(target.merchants.len(), args.lines)
        }
        Scenario::Single | Scenario::Collections => Vec::new(),
    };
    let api = Api::new(&target.base)?;
    let started_at = Timestamp::now();
    let offered = offer(&args, &api, &target, files).await;
    let ids = target.merchant_ids();
    let expected = tally::expected(&offered);
    finals::wait(
        &target.database.pool,
        &ids,
        expected,
        Duration::from_secs(args.patience),
    )
    .await?;
    let ended = finals::ended(&target.database.pool, &ids).await?;
    let ended_by_callback = finals::ended_by_callback(&target.database.pool, &ids).await?;
    let record = target.operator_record();
    if let (Some(path), Some(record)) = (&args.operator_record, &record) {
        std::fs::write(path, serde_json::to_vec_pretty(record)?)?;
    }
    let audit = crate::audit::audit(&target.database.pool, &ids, record.as_ref()).await?;
    let report = tally::report(tally::Run {
        scenario: args.scenario,
        database: target.database.describe().await?,
        started_at,
        offered: &offered,
        ended: &ended,
        ended_by_callback,
        audit,
    })?;
    use std::io::Write;
    std::io::stdout().write_all(report.summary().as_bytes())?;
    report.write_files(args.json.as_deref(), args.html.as_deref())?;
    target.stop().await?;
    if !report.audit.ok {
        bail!("the audit failed");
    }
    Ok(())
}

/// Sends the scenario's work (with these payroll files); returns every request and its
/// answer.
async fn offer(
    args: &Args,
    api: &Api,
    target: &Target,
    files: Vec<Vec<u8>>,
) -> Vec<traffic::Offered> {
    let merchants = &target.merchants;
    let duration = Duration::from_secs(args.duration);
    let payroll = traffic::payroll(api, merchants, files, args.lines);
    let single = traffic::open_model(api, merchants, Work::Single, args.rate, duration);
    let collections = |rate| traffic::open_model(api, merchants, Work::Collection, rate, duration);
    match args.scenario {
        Scenario::Payroll => payroll.await,
        Scenario::Single => single.await,
        Scenario::Collections => collections(args.rate).await,
        Scenario::Mixed => {
            let (mut all, single, collected) =
                tokio::join!(payroll, single, collections((args.rate / 5).max(1)));
            all.extend(single);
            all.extend(collected);
            all
        }
    }
}
