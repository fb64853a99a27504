//! `payrail-loadtest single`: single payouts (`POST /v1/payouts`) sent to a node it starts
//! at R per second for D seconds, open model: each request leaves at its intended time
//! whether or not earlier ones were answered, and latency is measured from that intended
//! time, so a stall shows in the figures instead of slowing the load. Reports accept
//! latency (until the 202) and accept-to-final latency (until the payout's final state is
//! written, read from the database afterwards) as HDR percentiles.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use jiff::Timestamp;
use payrail_engine::ids::MerchantId;
use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use crate::api_merchant;
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Payouts offered per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds to offer them for.
    #[arg(long, default_value_t = 30)]
    duration: u32,
    /// Merchants the payouts are spread over, in turn (each merchant's balance is one row
    /// that its payouts queue on).
    #[arg(long, default_value_t = 1)]
    merchants: u32,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
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

/// One request's fate.
#[derive(Debug)]
struct Sent {
    /// When it was meant to leave, from the start.
    intended: Duration,
    /// From the intended time to the answer.
    accept: Duration,
    status: u16,
    payout: Option<Uuid>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
    let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
    let total = args.rate * args.duration;
    let mut merchants = Vec::new();
    for _ in 0..args.merchants.max(1) {
        merchants
            .push(api_merchant::create(&database.pool, i64::from(total) * 1_000, false).await?);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let (start, start_wall) = (Instant::now(), Timestamp::now());
    let interval = Duration::from_secs(1) / args.rate;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let intended = interval * i;
        tokio::time::sleep_until(start + intended).await;
        let merchant = &merchants[i as usize % merchants.len()];
        let (client, base, key) = (client.clone(), node.base.clone(), merchant.maker.clone());
        tasks.spawn(async move {
            let body = json!({
                "msisdn": format!("25078{:07}", i % 10_000_000),
                "amount": (500 + i % 400).to_string(),
                "currency": "RWF",
                "reference": format!("single-{i}"),
            });
            let answer = client
                .post(format!("{base}/v1/payouts"))
                .bearer_auth(key)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await;
            let accept = start.elapsed().saturating_sub(intended);
            let (status, payout) = match answer {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let body: serde_json::Value = answer.json().await.unwrap_or_default();
                    let payout = body["id"].as_str().and_then(|id| id.parse().ok());
                    (status, payout)
                }
                Err(_) => (0, None),
            };
            Sent {
                intended,
                accept,
                status,
                payout,
            }
        });
    }
    let offered_for = start.elapsed();
    let mut sent = Vec::with_capacity(total as usize);
    while let Some(done) = tasks.join_next().await {
        sent.push(done.context("a request task")?);
    }
    let ids: Vec<MerchantId> = merchants.iter().map(|merchant| merchant.id).collect();
    wait_until_final(&database, &ids).await?;
    let finals = final_times(&database, &ids).await?;
    let mut accept = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut to_final = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut statuses: HashMap<u16, u32> = HashMap::new();
    for request in &sent {
        *statuses.entry(request.status).or_default() += 1;
        accept.record(micros(request.accept))?;
        if let Some(ended) = request.payout.and_then(|id| finals.get(&id)) {
            let intended = start_wall + request.intended;
            let waited = ended.duration_since(intended).unsigned_abs();
            to_final.record(micros(waited))?;
        }
    }
    let accepted =
        statuses.get(&202).copied().unwrap_or(0) + statuses.get(&200).copied().unwrap_or(0);
    if accepted != total {
        bail!(
            "only {accepted} of {total} payouts were accepted: {statuses:?}; see {}",
            node.dir.path().join("node.log").display()
        );
    }
    let ms = |histogram: &Histogram<u64>, quantile: f64| {
        histogram.value_at_quantile(quantile) as f64 / 1_000.0
    };
    let report = format!(
        "single: {total} payouts for {} merchant(s) offered at {} /s for {} s (offered over {:.1} s), all accepted, {} reached a final state\n\
         accept latency (ms):          p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}\n\
         accept-to-final latency (ms): p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}\n\
         command: payrail-loadtest single --rate {} --duration {} --merchants {}\n\
         machine: {}\n\
         database: {}\n",
        merchants.len(),
        args.rate,
        args.duration,
        offered_for.as_secs_f64(),
        to_final.len(),
        ms(&accept, 0.5),
        ms(&accept, 0.99),
        ms(&accept, 0.999),
        accept.max() as f64 / 1_000.0,
        ms(&to_final, 0.5),
        ms(&to_final, 0.99),
        ms(&to_final, 0.999),
        to_final.max() as f64 / 1_000.0,
        args.rate,
        args.duration,
        merchants.len(),
        machine::describe(),
        database.describe().await?,
    );
    node.stop().await?;
    database.close().await?;
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

const OPEN: &str = "
    SELECT count(*) FROM payout_lines
     WHERE merchant_id = ANY($1) AND state NOT IN ('succeeded', 'failed', 'cancelled')";

async fn wait_until_final(
    database: &BenchDatabase,
    merchants: &[MerchantId],
) -> anyhow::Result<()> {
    let client = database.pool.get().await?;
    for _ in 0..1_200 {
        let open: i64 = client.query_one(OPEN, &[&merchants]).await?.get(0);
        if open == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("payouts were still open a minute after the last was sent")
}

/// When each payout's final state was written (the journal's transaction time).
async fn final_times(
    database: &BenchDatabase,
    merchants: &[MerchantId],
) -> anyhow::Result<HashMap<Uuid, Timestamp>> {
    let client = database.pool.get().await?;
    let rows = client
        .query(
            "SELECT id, updated_at FROM payout_lines WHERE merchant_id = ANY($1)",
            &[&merchants],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}
