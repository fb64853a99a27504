//! `payrail-loadtest bulk-insert`: how fast one batch's lines reach PostgreSQL. Each run
//! creates a batch, writes its lines as `--connections` parts at once (one binary COPY and
//! one transaction each), and ends the upload (`finish_upload` counts and sums the lines);
//! the time runs from the first part's start to the last commit.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_engine::ids::MerchantId;
use payrail_engine::money::Currency;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, Batch, NewBatch};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use serde_json::json;

use crate::bench_database::BenchDatabase;
use crate::{machine, payroll};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lines in each batch.
    #[arg(long, default_value_t = 100_000)]
    lines: u32,
    /// Batches inserted, one after another; the best and the median run are reported.
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Connections writing parts of one batch at once.
    #[arg(long, default_value_t = 2)]
    connections: u32,
    /// A PostgreSQL URL; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Also writes the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.lines > 0 && args.runs > 0 && args.connections > 0,
        "--lines, --runs and --connections must be at least 1"
    );
    let database = BenchDatabase::open(args.database_url.as_deref(), args.connections).await?;
    let lines = Arc::new(payroll::lines(args.lines)?);
    let merchant = payroll::funded_merchant(&database.pool, &lines).await?;
    let mut seconds = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let batch = upload(&database.pool, merchant, &lines, args.connections).await?;
        seconds.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(
            batch.line_count == i32::try_from(args.lines)?,
            "the batch counts {} of {} lines",
            batch.line_count,
            args.lines
        );
    }
    let report = Report::new(&args, seconds, database.describe().await?);
    database.close().await?;
    report.print(args.json.as_ref())
}

/// One batch upload: the batch row, its lines written in parts at once, then the end of
/// the upload, which counts them.
async fn upload(
    pool: &Pool,
    merchant: MerchantId,
    lines: &Arc<Vec<NewPayoutLine>>,
    parts: u32,
) -> anyhow::Result<Batch> {
    let new = NewBatch::new(merchant, Currency::Rwf);
    let batch = new.id;
    batches::insert(&pool.get().await?, &new).await?;
    let part_len = lines.len().div_ceil(usize::try_from(parts)?);
    let mut writers = tokio::task::JoinSet::new();
    for start in (0..lines.len()).step_by(part_len) {
        let (pool, lines) = (pool.clone(), Arc::clone(lines));
        writers.spawn(async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let end = (start + part_len).min(lines.len());
            payout_lines::insert_lines(
                &tx,
                merchant,
                batch,
                PayoutState::Validated,
                &lines[start..end],
            )
            .await?;
            tx.commit().await?;
            anyhow::Ok(())
        });
    }
    while let Some(written) = writers.join_next().await {
        written??;
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let batch = batches::finish_upload(&tx, merchant, batch).await?;
    tx.commit().await?;
    Ok(batch)
}

struct Report {
    lines: u32,
    connections: u32,
    seconds: Vec<f64>,
    database: String,
}

impl Report {
    fn new(args: &Args, mut seconds: Vec<f64>, database: String) -> Report {
        seconds.sort_by(f64::total_cmp);
        Report {
            lines: args.lines,
            connections: args.connections,
            seconds,
            database,
        }
    }

    fn lines_per_second(&self, seconds: f64) -> f64 {
        f64::from(self.lines) / seconds
    }

    fn print(&self, json_file: Option<&PathBuf>) -> anyhow::Result<()> {
        let best = self.lines_per_second(self.seconds[0]);
        let median = self.lines_per_second(self.seconds[self.seconds.len() / 2]);
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        let machine = machine::describe();
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "bulk insert: {} lines per batch, written over {} connections at once, {} runs",
            self.lines,
            self.connections,
            self.seconds.len()
        )?;
        writeln!(
            out,
            "  best   {:>10.0} lines/s ({:.3} s)",
            best, self.seconds[0]
        )?;
        writeln!(
            out,
            "  median {:>10.0} lines/s ({:.3} s)",
            median,
            self.seconds[self.seconds.len() / 2]
        )?;
        writeln!(out, "  command:  {command}")?;
        writeln!(out, "  machine:  {machine}")?;
        writeln!(out, "  database: {}", self.database)?;
        if let Some(path) = json_file {
            let figures = json!({
                "benchmark": "bulk_insert",
                "lines": self.lines,
                "connections": self.connections,
                "run_seconds": self.seconds,
                "lines_per_second": { "best": best, "median": median },
                "command": command,
                "machine": machine,
                "database": self.database,
            });
            std::fs::write(path, serde_json::to_vec_pretty(&figures)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}
