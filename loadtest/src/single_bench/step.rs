//! One step of `single`: payouts offered at one rate for a while, open model, then a wait
//! until each is final; its accept and accept-to-final latencies as HDR histograms.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use jiff::Timestamp;
use payrail_engine::ids::MerchantId;
use serde_json::json;
use tokio::time::Instant;
use uuid::Uuid;

use super::Bench;

/// How long payouts may stay open after a step's last request before the step fails: a
/// generous multiple of any drain seen at the rates the benchmark offers.
const FINAL_PATIENCE_MS: u64 = 120_000;

/// How often the wait for final states asks the database.
const FINAL_POLL_MS: u64 = 50;

/// The largest latency a histogram holds: ten minutes, in microseconds.
const LATENCY_MAX_US: u64 = 600_000_000;

/// Payouts offered at `rate` per second for `duration` seconds; the first is numbered
/// `first`, so that each step's references are new.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub rate: u32,
    pub duration: u32,
    pub first: u64,
}

impl Load {
    pub fn payouts(&self) -> u64 {
        u64::from(self.rate) * u64::from(self.duration)
    }
}

/// What one step measured.
#[derive(Debug)]
pub struct Step {
    pub load: Load,
    /// HTTP status to count; 0 for a request that got no answer.
    pub statuses: BTreeMap<u16, u64>,
    pub accepted: u64,
    /// From the start to the last request's intended time, as the generator managed it.
    pub offered_for: Duration,
    /// From the start to the last answer.
    pub answered_within: Duration,
    /// Microseconds from the intended send time to the answer.
    pub accept: Histogram<u64>,
    /// Microseconds from the intended send time to the final state.
    pub to_final: Histogram<u64>,
}

impl Step {
    pub fn all_accepted(&self) -> bool {
        self.accepted == self.load.payouts()
    }

    /// Payouts accepted per second, from the first intended send to the last answer.
    pub fn achieved_per_second(&self) -> f64 {
        self.accepted as f64 / self.answered_within.as_secs_f64().max(1e-3)
    }

    /// Every payout accepted and the accept p99 within `limit_ms` (or as near it as the
    /// histogram tells apart).
    pub fn within(&self, limit_ms: u32) -> bool {
        let limit = self.accept.highest_equivalent(u64::from(limit_ms) * 1_000);
        self.all_accepted() && self.accept.value_at_quantile(0.99) <= limit
    }
}

/// The fate of one request.
#[derive(Debug)]
struct Sent {
    /// When it was meant to leave, from the start.
    intended: Duration,
    /// From the intended time to the answer.
    accept: Duration,
    status: u16,
    payout: Option<Uuid>,
}

/// Offers `load` to the bench's node, waits until every accepted payout is final, and
/// measures.
pub async fn run(bench: &Bench, load: Load) -> anyhow::Result<Step> {
    let (sent, offered_for, start_wall) = offer(bench, load).await?;
    let ids = bench.merchant_ids();
    wait_until_final(bench, &ids).await?;
    let payouts: Vec<Uuid> = sent.iter().filter_map(|request| request.payout).collect();
    let finals = final_times(bench, &payouts).await?;
    let mut accept = Histogram::<u64>::new_with_bounds(1, LATENCY_MAX_US, 3)?;
    let mut to_final = Histogram::<u64>::new_with_bounds(1, LATENCY_MAX_US, 3)?;
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut answered_within = Duration::ZERO;
    for request in &sent {
        *statuses.entry(request.status).or_default() += 1;
        accept.saturating_record(micros(request.accept));
        answered_within = answered_within.max(request.intended + request.accept);
        if let Some(ended) = request.payout.and_then(|id| finals.get(&id)) {
            let intended = start_wall + request.intended;
            let waited = ended.duration_since(intended).unsigned_abs();
            to_final.saturating_record(micros(waited));
        }
    }
    let accepted =
        statuses.get(&202).copied().unwrap_or(0) + statuses.get(&200).copied().unwrap_or(0);
    Ok(Step {
        load,
        statuses,
        accepted,
        offered_for,
        answered_within,
        accept,
        to_final,
    })
}

/// Sends the load open model; returns each request's fate, how long the sending took
/// and when it started.
async fn offer(bench: &Bench, load: Load) -> anyhow::Result<(Vec<Sent>, Duration, Timestamp)> {
    let (start, start_wall) = (Instant::now(), Timestamp::now());
    let interval = Duration::from_secs(1) / load.rate.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..load.payouts() {
        let intended = interval * u32::try_from(i)?;
        tokio::time::sleep_until(start + intended).await;
        let number = load.first + i;
        let merchant = &bench.merchants[(number % bench.merchants.len() as u64) as usize];
        let (client, base, key) = (
            bench.client.clone(),
            bench.node.base.clone(),
            merchant.maker.clone(),
        );
        tasks.spawn(async move {
            let body = json!({
                "msisdn": format!("25078{:07}", number % 10_000_000),
                "amount": (500 + number % 400).to_string(),
                "currency": "RWF",
                "reference": format!("single-{number}"),
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
    let mut sent = Vec::with_capacity(usize::try_from(load.payouts())?);
    while let Some(done) = tasks.join_next().await {
        sent.push(done.context("a request task")?);
    }
    Ok((sent, offered_for, start_wall))
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

const OPEN: &str = "
    SELECT count(*) FROM payout_lines
     WHERE merchant_id = ANY($1) AND state NOT IN ('succeeded', 'failed', 'cancelled')";

/// Waits until none of the merchants' payouts is open: the node has drained.
async fn wait_until_final(bench: &Bench, merchants: &[MerchantId]) -> anyhow::Result<()> {
    let client = bench.database.pool.get().await?;
    let deadline = Instant::now() + Duration::from_millis(FINAL_PATIENCE_MS);
    loop {
        let open: i64 = client.query_one(OPEN, &[&merchants]).await?.get(0);
        if open == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{open} payouts were still open {} s after the last was sent",
                FINAL_PATIENCE_MS / 1_000
            );
        }
        tokio::time::sleep(Duration::from_millis(FINAL_POLL_MS)).await;
    }
}

const FINAL_TIMES: &str = "SELECT id, updated_at FROM payout_lines WHERE id = ANY($1)";

/// When each of the payouts reached its final state (the journal's transaction time).
async fn final_times(bench: &Bench, payouts: &[Uuid]) -> anyhow::Result<HashMap<Uuid, Timestamp>> {
    let client = bench.database.pool.get().await?;
    let rows = client.query(FINAL_TIMES, &[&payouts]).await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}
