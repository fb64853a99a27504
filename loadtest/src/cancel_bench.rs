//! `payrail-loadtest cancel`: how long `POST /v1/batches/{id}/cancel` takes on batches of
//! N lines, through the HTTP API of a node it starts. Two cases for each size: a batch
//! still awaiting approval (its lines are cancelled), and a running batch whose routes pay
//! two lines a second (its unsent lines are cancelled and their reservation released). The
//! time should grow in proportion to N. Single payouts are paid first, as a node in service
//! would have, so the database's connections have run their statements on small sets.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Body;
use serde_json::Value;

use crate::api_merchant::{self, ApiMerchant};
use crate::bench_database::BenchDatabase;
use crate::machine;
use crate::node::SpawnedNode;
use crate::upload_bench::csv_chunks;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,50000,200000")]
    lines: Vec<u32>,
    /// A PostgreSQL to use; without one, a private server runs in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

/// Single payouts paid before the figures are taken.
const WARM_UP_PAYOUTS: u32 = 20;

/// Routes that pay two lines a second, so a running batch keeps almost all its lines unsent.
const NODE_CONFIG: &str = "
[engine]
sends_per_second = 2
queries_per_second = 1
max_in_flight = 1
";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let database = BenchDatabase::open(args.database_url.as_deref(), 2).await?;
    let node = SpawnedNode::start(&database.url, NODE_CONFIG).await?;
    let http = reqwest::Client::new();
    warm_up(
        &http,
        &node,
        &api_merchant::create(&database.pool, 10_000_000, false).await?,
    )
    .await?;
    let mut rows = String::new();
    for &lines in &args.lines {
        let funds = i64::from(lines) * 200_000;
        let merchant = api_merchant::create(&database.pool, funds, true).await?;
        let waiting = upload(&http, &node, &merchant, lines).await?;
        let (waiting_time, waiting_answer) = cancel(&http, &node, &merchant, &waiting).await?;
        let running = upload(&http, &node, &merchant, lines).await?;
        approve(&http, &node, &merchant, &running).await?;
        wait_running(&http, &node, &merchant, &running).await?;
        let (running_time, running_answer) = cancel(&http, &node, &merchant, &running).await?;
        rows.push_str(&format!(
            "| {lines} | {:.2} s ({} lines cancelled) | {:.2} s ({} lines cancelled) |\n",
            waiting_time.as_secs_f64(),
            waiting_answer["lines"]["cancelled"]["lines"],
            running_time.as_secs_f64(),
            running_answer["lines"]["cancelled"]["lines"],
        ));
    }
    let sizes: Vec<String> = args.lines.iter().map(u32::to_string).collect();
    let report = format!(
        "cancel: seconds for POST /v1/batches/{{id}}/cancel\n\
         | lines | awaiting approval | running, reserved |\n|---|---|---|\n{rows}\
         command: payrail-loadtest cancel --lines {}\n\
         machine: {}\n\
         database: {}\n",
        sizes.join(","),
        machine::describe(),
        database.describe().await?,
    );
    node.stop().await?;
    database.close().await?;
    use std::io::Write;
    std::io::stdout().write_all(report.as_bytes())?;
    Ok(())
}

/// Single payouts, each waited for, on every connection of the node's pool.
async fn warm_up(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
) -> anyhow::Result<()> {
    for _ in 0..WARM_UP_PAYOUTS {
        let answer = http
            .post(format!("{}/v1/payouts?wait=10", node.base))
            .bearer_auth(&merchant.maker)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&serde_json::json!({"msisdn": "0788123456", "amount": "100", "currency": "RWF"}))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!(
                "a warm-up payout: {} {}",
                answer.status(),
                answer.text().await?
            );
        }
    }
    Ok(())
}

/// Uploads an N-line payroll, which waits for approval; returns its id.
async fn upload(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    lines: u32,
) -> anyhow::Result<String> {
    let answer: Value = http
        .post(format!("{}/v1/batches?allow_duplicate=true", node.base))
        .bearer_auth(&merchant.maker)
        .header("content-type", "text/csv")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Body::wrap_stream(csv_chunks(lines)))
        .send()
        .await
        .context("uploading")?
        .json()
        .await?;
    if answer["state"] != "awaiting_approval" {
        bail!("the upload did not wait for approval: {answer}");
    }
    answer["id"]
        .as_str()
        .map(str::to_owned)
        .context("the batch's id")
}

async fn approve(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    batch: &str,
) -> anyhow::Result<()> {
    let answer = http
        .post(format!("{}/v1/batches/{batch}/approve", node.base))
        .bearer_auth(&merchant.checker)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("approving: {} {}", answer.status(), answer.text().await?);
    }
    Ok(())
}

/// Waits until the engine has reserved the batch's total and started it.
async fn wait_running(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    batch: &str,
) -> anyhow::Result<()> {
    for _ in 0..600 {
        let batch: Value = http
            .get(format!("{}/v1/batches/{batch}", node.base))
            .bearer_auth(&merchant.maker)
            .send()
            .await?
            .json()
            .await?;
        if batch["state"] == "running" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("batch {batch} did not start running in 60 s")
}

/// Cancels a batch; returns how long the request took and its answer.
async fn cancel(
    http: &reqwest::Client,
    node: &SpawnedNode,
    merchant: &ApiMerchant,
    batch: &str,
) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let answer = http
        .post(format!("{}/v1/batches/{batch}/cancel", node.base))
        .bearer_auth(&merchant.maker)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .send()
        .await?;
    let elapsed = started.elapsed();
    let status = answer.status();
    let body: Value = answer.json().await?;
    if !status.is_success() {
        bail!("cancelling: {status} {body}");
    }
    Ok((elapsed, body))
}
