//! `payrail-loadtest single`: single payouts (`POST /v1/payouts`) sent to a node it starts
//! at R per second for D seconds, open model: each request leaves at its intended time
//! whether or not earlier ones were answered, and latency is measured from that intended
//! time, so a stall shows in the figures instead of slowing the load. Reports accept
//! latency (until the 202) and accept-to-final latency (until the payout's final state is
//! written, read from the database afterwards) as HDR percentiles, then audits the node's
//! work. With `--knee` it offers rising rates to one node until the accept p99 passes a
//! limit, and reports the highest rate that kept it.
//!
//! # Layout
//! - `step`: one rate offered for a while, drained and measured
//! - `knee`: the sweep of rising rates and its table
//! - `knee_page`: the sweep's HTML page, with its latency-against-rate chart

mod knee;
mod knee_page;
mod step;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::ensure;
use payrail_engine::ids::MerchantId;

use crate::api_merchant::{self, ApiMerchant};
use crate::audit;
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;
use crate::report::AuditSummary;
use step::Load;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Payouts offered per second.
    #[arg(long, default_value_t = 500, conflicts_with = "knee")]
    rate: u32,
    /// Seconds to offer them for (with --knee: at each rate).
    #[arg(long, default_value_t = 30)]
    duration: u32,
    /// Merchants the payouts are spread over, in turn (each merchant's balance is one row
    /// that its payouts queue on).
    #[arg(long, default_value_t = 1)]
    merchants: u32,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Finds the knee: offers --from, --from + --step, ... up to --up-to payouts per
    /// second to one node, and stops after the first rate whose accept p99 passes
    /// --p99-limit-ms or that was not all accepted.
    #[arg(long)]
    knee: bool,
    /// With --knee: the first rate, payouts per second.
    #[arg(long, default_value_t = 250, requires = "knee")]
    from: u32,
    /// With --knee: how much each rate adds to the one before, payouts per second.
    #[arg(long, default_value_t = 250, requires = "knee")]
    step: u32,
    /// With --knee: the highest rate to offer, payouts per second.
    #[arg(long, default_value_t = 4_000, requires = "knee")]
    up_to: u32,
    /// With --knee: the accept p99 a rate must keep, milliseconds.
    #[arg(long, default_value_t = 100, requires = "knee")]
    p99_limit_ms: u32,
    /// With --knee: writes the sweep's table and chart as one self-contained HTML page.
    #[arg(long, requires = "knee")]
    html: Option<PathBuf>,
}

/// The node's limits, wide enough that the API and the routes are not what is measured.
const NODE_CONFIG: &str = "
[engine]
sends_per_second = 10000
queries_per_second = 1000
max_in_flight = 256

[api]
requests_per_second = 100000
burst = 100000
";

/// The most any payout costs its merchant (amount and fee), francs; each merchant is
/// funded with this for every payout of the command.
const PAYOUT_COST_MAX: i64 = 1_000;

/// How long a request may wait for its answer before it counts as unanswered.
const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// The node, its database, the funded merchants and the HTTP client a measurement uses.
struct Bench {
    database: BenchDatabase,
    node: SpawnedNode,
    merchants: Vec<ApiMerchant>,
    client: reqwest::Client,
}

impl Bench {
    /// Starts the database and the node, and funds `merchants` merchants (at least one)
    /// for `payouts` payouts each.
    async fn start(args: &Args, payouts: u64) -> anyhow::Result<Bench> {
        let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
        let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
        let funds = i64::try_from(payouts)?
            .checked_mul(PAYOUT_COST_MAX)
            .ok_or_else(|| anyhow::anyhow!("{payouts} payouts are too many to fund"))?;
        let mut merchants = Vec::new();
        for _ in 0..args.merchants.max(1) {
            merchants.push(api_merchant::create(&database.pool, funds, false).await?);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
            .build()?;
        Ok(Bench {
            database,
            node,
            merchants,
            client,
        })
    }

    fn merchant_ids(&self) -> Vec<MerchantId> {
        self.merchants.iter().map(|merchant| merchant.id).collect()
    }

    /// The correctness audit of everything the node did; the node keeps its operators'
    /// record to itself, so the operator checks are left out.
    async fn audit(&self) -> anyhow::Result<AuditSummary> {
        audit::audit(&self.database.pool, &self.merchant_ids(), None).await
    }

    /// Stops the node and the database; returns the database's description.
    async fn stop(self) -> anyhow::Result<String> {
        let described = self.database.describe().await?;
        self.node.stop().await?;
        self.database.close().await?;
        Ok(described)
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.knee {
        knee::run(&args).await
    } else {
        run_once(&args).await
    }
}

/// One rate for the whole duration.
async fn run_once(args: &Args) -> anyhow::Result<()> {
    let load = Load {
        rate: args.rate,
        duration: args.duration,
        first: 0,
    };
    let bench = Bench::start(args, load.payouts()).await?;
    let step = step::run(&bench, load).await?;
    let audit = bench.audit().await?;
    let merchants = bench.merchants.len();
    let database = bench.stop().await?;
    let ms = |histogram: &hdrhistogram::Histogram<u64>, quantile: f64| {
        histogram.value_at_quantile(quantile) as f64 / 1_000.0
    };
    let (accept, to_final) = (&step.accept, &step.to_final);
    let report = format!(
        "single: {} payouts for {merchants} merchant(s) offered at {} /s for {} s (offered over {:.1} s), {} accepted, {} reached a final state\n\
         accept latency (ms):          p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}\n\
         accept-to-final latency (ms): p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}\n\
         {}\
         command: payrail-loadtest single --rate {} --duration {} --merchants {merchants}\n\
         machine: {}\n\
         database: {database}\n",
        load.payouts(),
        load.rate,
        load.duration,
        step.offered_for.as_secs_f64(),
        step.accepted,
        to_final.len(),
        ms(accept, 0.5),
        ms(accept, 0.99),
        ms(accept, 0.999),
        accept.max() as f64 / 1_000.0,
        ms(to_final, 0.5),
        ms(to_final, 0.99),
        ms(to_final, 0.999),
        to_final.max() as f64 / 1_000.0,
        audit.text(),
        load.rate,
        load.duration,
        machine::describe(),
    );
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    ensure!(
        step.all_accepted(),
        "only {} of {} payouts were accepted: {:?}",
        step.accepted,
        load.payouts(),
        step.statuses
    );
    ensure!(audit.passed(), "the audit failed");
    Ok(())
}
