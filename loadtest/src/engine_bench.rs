//! `payrail-loadtest engine`: the whole actor engine paying M merchants' N-line batches
//! against the simulator (in-process, or the simulator server over loopback HTTP) until
//! every line is final, then an audit. With `--baseline naive` the same lines are paid the
//! way a simple worker would, one transaction per line, for comparison.

use std::io::Write;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_actors::route::RouteConfig;
use payrail_actors::{Engine, EngineSettings};
use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::money::Currency;
use payrail_engine::operator::Operator;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use payrail_engine::store::payout_numbers;
use serde_json::json;

use crate::audit::{self, OperatorRecord};
use crate::bench_database::BenchDatabase;
use crate::operators::{self, BenchOperators};
use crate::{machine, naive, payroll};

/// Connections the engine's pool may open: claims, flushes of every merchant, status.
const ENGINE_POOL_SIZE: u32 = 24;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A PostgreSQL URL; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 10)]
    merchants: u32,
    /// Lines in each merchant's batch.
    #[arg(long, default_value_t = 10_000)]
    lines: u32,
    /// Where payouts go: the in-process simulator, or the simulator server over HTTP.
    #[arg(long, value_enum, default_value = "in-process")]
    operators: operators::Kind,
    /// Requests each route has in flight at once (over HTTP: connections to the simulator).
    #[arg(long, default_value_t = 4_096)]
    max_in_flight: u32,
    /// The simulated network delay of each operator call.
    #[arg(long, value_enum, default_value = "zero")]
    latency: operators::Delay,
    /// `naive`: pay the lines one transaction per line instead, for comparison.
    #[arg(long, value_parser = ["naive"])]
    baseline: Option<String>,
    /// Also writes the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.merchants > 0 && args.lines > 0,
        "--merchants and --lines must be at least 1"
    );
    let database = BenchDatabase::open(args.database_url.as_deref(), ENGINE_POOL_SIZE).await?;
    let lines = payroll::lines(args.lines)?;
    let mut merchants = Vec::new();
    for _ in 0..args.merchants {
        merchants.push(payroll::funded_merchant(&database.pool, &lines).await?);
    }
    let operators = BenchOperators::start(args.operators, args.latency, None, None).await?;
    let (mode, elapsed) = match args.baseline {
        Some(_) => {
            let simulators = operators
                .simulators()
                .context("the naive baseline runs on the in-process simulator")?;
            let started = Instant::now();
            naive::pay(&database.pool, &merchants, &lines, simulators).await?;
            (
                "naive baseline, one transaction per line",
                started.elapsed(),
            )
        }
        None => {
            let batches = upload(&database.pool, &merchants, &lines).await?;
            let started = Instant::now();
            run_engine(
                &database.pool,
                &batches,
                &operators.routes(),
                args.max_in_flight,
            )
            .await?;
            ("actor engine", started.elapsed())
        }
    };
    report(&args, mode, elapsed, &database, &operators).await
}

/// Each merchant's batch, uploaded and its numbers indexed (not timed: the bulk-insert
/// benchmark measures that).
async fn upload(
    pool: &Pool,
    merchants: &[MerchantId],
    lines: &[NewPayoutLine],
) -> anyhow::Result<Vec<(MerchantId, BatchId)>> {
    let mut uploaded = Vec::new();
    for merchant in merchants {
        let new = NewBatch::new(*merchant, Currency::Rwf);
        let mut client = pool.get().await?;
        batches::insert(&client, &new).await?;
        let tx = client.transaction().await?;
        payout_lines::insert_lines(&tx, *merchant, new.id, PayoutState::Validated, lines).await?;
        batches::finish_upload(&tx, *merchant, new.id).await?;
        tx.commit().await?;
        uploaded.push((*merchant, new.id));
    }
    // As the node's sweep would, before the engine is timed.
    payout_numbers::index_pending(&mut pool.get().await?).await?;
    Ok(uploaded)
}

async fn run_engine(
    pool: &Pool,
    batches: &[(MerchantId, BatchId)],
    operators: &[(String, Arc<dyn Operator>)],
    max_in_flight: u32,
) -> anyhow::Result<()> {
    let routes = operators
        .iter()
        .map(|(name, operator)| {
            let config = RouteConfig {
                name: payrail_engine::route::RouteName::new(name.clone())?,
                sends_per_second: NonZeroU32::new(1_000_000).context("positive")?,
                queries_per_second: NonZeroU32::new(1_000_000).context("positive")?,
                max_in_flight,
                callback_deadline: None,
            };
            Ok((config, Arc::clone(operator)))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let engine = Engine::start(pool.clone(), routes, EngineSettings::default()).await?;
    for (merchant, batch) in batches {
        engine.run_batch(*merchant, *batch);
    }
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    loop {
        poll.tick().await;
        let client = pool.get().await?;
        let open: i64 = client
            .query_one("SELECT count(*) FROM batches WHERE state NOT IN ('completed', 'completed_with_failures')", &[])
            .await?
            .get(0);
        if open == 0 {
            break;
        }
    }
    engine.stop().await;
    Ok(())
}

async fn report(
    args: &Args,
    mode: &str,
    elapsed: Duration,
    database: &BenchDatabase,
    operators: &BenchOperators,
) -> anyhow::Result<()> {
    let merchants = audit::all_merchants(&database.pool).await?;
    let record = OperatorRecord::new(operators.executed(), Vec::new());
    let audit = audit::audit(&database.pool, &merchants, Some(&record)).await?;
    let lines = u64::from(args.merchants) * u64::from(args.lines);
    let seconds = elapsed.as_secs_f64();
    let per_second = lines as f64 / seconds;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let (machine, described) = (machine::describe(), database.describe().await?);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "engine benchmark: {mode}, {} merchants x {} lines, operators {:?}, latency {:?}",
        args.merchants, args.lines, args.operators, args.latency
    )?;
    writeln!(
        out,
        "  {per_second:>10.0} payouts/s ({lines} payouts in {seconds:.2} s)"
    )?;
    writeln!(
        out,
        "  audit:    {}",
        if audit.ok { "ok" } else { "FAILED" }
    )?;
    writeln!(out, "  command:  {command}")?;
    writeln!(out, "  machine:  {machine}")?;
    writeln!(out, "  database: {described}")?;
    if let Some(path) = &args.json {
        let figures = json!({
            "benchmark": "engine",
            "mode": mode,
            "operators": format!("{:?}", args.operators),
            "latency": format!("{:?}", args.latency),
            "merchants": args.merchants,
            "lines": lines,
            "elapsed_seconds": seconds,
            "payouts_per_second": per_second,
            "audit": {
                "ok": audit.ok,
                "checks": audit.checks.iter()
                    .map(|c| json!({ "name": c.name, "ok": c.ok, "detail": c.detail }))
                    .collect::<Vec<_>>(),
            },
            "command": command,
            "machine": machine,
            "database": described,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    anyhow::ensure!(audit.ok, "the audit failed: {audit:?}");
    Ok(())
}
