//! `payrail-loadtest transactions`: how long `GET /v1/transactions` takes for a merchant
//! with a few rows while other merchants hold millions, through the HTTP API of a node it
//! starts. The other merchants' lines are written in SQL, in batches of 100,000; the small
//! merchant's through the API. Prints the percentiles and the page's query plan.

use std::time::Instant;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde_json::json;

use payrail_engine::ids::MerchantId;
use payrail_engine::store::payout_numbers;
use payrail_engine::store::transactions::{self, TransactionFilter};

use crate::api_merchant;
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lines other merchants hold.
    #[arg(long, default_value_t = 5_000_000)]
    others: u32,
    /// The small merchant's payouts.
    #[arg(long, default_value_t = 20)]
    own: u32,
    /// Requests timed.
    #[arg(long, default_value_t = 500)]
    requests: u32,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

/// Lines per other merchant's batch.
const BATCH_LINES: u32 = 100_000;

const OTHER_LINES: &str = "
    WITH batch AS (
        INSERT INTO batches (id, merchant_id, state, currency, line_count)
        VALUES (gen_random_uuid(), $1, 'completed', 'RWF', $2) RETURNING id)
    INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route,
                              state, client_reference)
    SELECT gen_random_uuid(), $1, batch.id, n, '2507881' || lpad(n::text, 5, '0'), 1000, 100,
           'mtn-rw', 'succeeded', 'salary-' || n
      FROM batch, generate_series(1, $2) AS n";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
    let node = SpawnedNode::start(&database.url, "").await?;
    let client = database.pool.get().await?;
    fill_others(&database, args.others).await?;
    let merchant = api_merchant::create(&database.pool, 100_000_000, false).await?;
    let http = reqwest::Client::new();
    pay_singles(&http, &node.base, &merchant.maker, args.own).await?;
    let mut latency = Histogram::<u64>::new(3)?;
    for _ in 0..args.requests {
        let started = Instant::now();
        let page: serde_json::Value = http
            .get(format!("{}/v1/transactions", node.base))
            .bearer_auth(&merchant.maker)
            .send()
            .await?
            .json()
            .await?;
        latency.record(u64::try_from(started.elapsed().as_micros())?)?;
        let rows = page["data"].as_array().map_or(0, Vec::len);
        if rows != usize::try_from(args.own)? {
            bail!("the page has {rows} rows, not {}", args.own);
        }
    }
    let plan = plan(&client, merchant.id, &TransactionFilter::default()).await?;
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let report = format!(
        "transactions: GET /v1/transactions for a merchant with {} rows among {} other lines: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)\n\
         command: payrail-loadtest transactions --others {} --own {}\n\
         machine: {}\n\
         database: {}\n\
         plan of the page's query:\n{plan}\n",
        args.own,
        args.others,
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1000.0,
        args.requests,
        args.others,
        args.own,
        machine::describe(),
        database.describe().await?,
    );
    node.stop().await?;
    drop(client);
    database.close().await?;
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}

/// Writes `others` succeeded payout lines for other merchants, 100,000 to a batch, in SQL;
/// indexes their numbers; then vacuums and analyzes.
pub async fn fill_others(database: &BenchDatabase, others: u32) -> anyhow::Result<()> {
    let mut client = database.pool.get().await?;
    let mut written = 0;
    while written < others {
        let other = api_merchant::create(&database.pool, 1, false).await?;
        let lines = i32::try_from(BATCH_LINES.min(others - written))?;
        client.execute(OTHER_LINES, &[&other.id, &lines]).await?;
        written += lines.unsigned_abs();
    }
    payout_numbers::index_pending(&mut client).await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(())
}

/// Pays `count` single payouts of 1,500 through the API with `key`, each to its end.
pub async fn pay_singles(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    count: u32,
) -> anyhow::Result<()> {
    for _ in 0..count {
        let answer = http
            .post(format!("{base}/v1/payouts?wait=10"))
            .bearer_auth(key)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&json!({"msisdn": "0788123456", "amount": "1500", "currency": "RWF"}))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("a payout: {} {}", answer.status(), answer.text().await?);
        }
    }
    Ok(())
}

/// Writes a completed batch of `lines` succeeded lines for `merchant`, in SQL.
pub async fn completed_batch(
    database: &BenchDatabase,
    merchant: MerchantId,
    lines: i32,
) -> anyhow::Result<()> {
    let client = database.pool.get().await?;
    client.execute(OTHER_LINES, &[&merchant, &lines]).await?;
    Ok(())
}

/// The plan PostgreSQL runs for the first page of `merchant`'s transactions under
/// `filter`, indented; the reports benchmark prints it too.
pub async fn plan(
    client: &deadpool_postgres::Object,
    merchant: MerchantId,
    filter: &TransactionFilter,
) -> anyhow::Result<String> {
    let lines = transactions::explain_page(client, merchant, filter, true)
        .await
        .context("explaining the page's query")?;
    Ok(lines
        .iter()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n"))
}
