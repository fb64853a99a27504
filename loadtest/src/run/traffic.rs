//! The work a run offers, through the HTTP API as a merchant's system sends it: payroll
//! batches (a CSV upload, then the checker's approval), single payouts and collections at
//! an open-model rate. Each request leaves at its intended time whether or not earlier
//! ones were answered, and is timed from that intended time.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

use crate::api_merchant::ApiMerchant;

/// What a request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// A payroll batch of this many lines.
    Payroll {
        lines: u64,
    },
    Single,
    Collection,
}

/// One request and how it was answered.
#[derive(Debug)]
pub struct Offered {
    pub work: Work,
    /// When it was meant to leave, from the run's start.
    pub intended: Duration,
    /// From the intended time to the answer (for a payroll, to its approval).
    pub accept: Duration,
    /// The id of what it created (batch, payout or collection) when accepted.
    pub created: Option<Uuid>,
    /// Why it was not accepted (`http_422`, `timeout`, `connect`, ...).
    pub error: Option<String>,
}

/// Where requests go, and the clock they are timed on.
#[derive(Clone, Debug)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub start: Instant,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Api> {
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            start: Instant::now(),
        })
    }

    async fn post(
        &self,
        key: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, String> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", content_type)
            .header("idempotency-key", Uuid::new_v4().to_string())
            .body(body)
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("http_{}", status.as_u16()));
        }
        answer.json().await.map_err(|error| transport_error(&error))
    }
}

fn transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

/// Numbers on both Rwandan routes, MTN and Airtel in turn.
fn msisdn(i: u64) -> String {
    let prefix = if i % 4 == 3 { "25073" } else { "25078" };
    format!("{prefix}{:07}", i % 10_000_000)
}

fn amount(i: u64) -> String {
    (500 + i % 400).to_string()
}

/// Each merchant's payroll file of `lines` lines, made before the run's clock starts, as a
/// payroll file exists before it is uploaded.
pub fn payroll_files(merchants: usize, lines: u64) -> Vec<Vec<u8>> {
    (0..merchants as u64)
        .map(|merchant| payroll_csv(merchant, lines))
        .collect()
}

/// Each merchant uploads its payroll file of `lines` lines at the start, and its checker
/// approves it.
pub async fn payroll(
    api: &Api,
    merchants: &[ApiMerchant],
    files: Vec<Vec<u8>>,
    lines: u64,
) -> Vec<Offered> {
    let mut uploads = JoinSet::new();
    for (merchant, csv) in merchants.iter().zip(files) {
        let (api, merchant) = (api.clone(), merchant.clone());
        uploads.spawn(async move {
            let created = upload_and_approve(&api, &merchant, csv).await;
            Offered {
                work: Work::Payroll { lines },
                intended: Duration::ZERO,
                accept: api.start.elapsed(),
                created: created.as_ref().ok().copied(),
                error: created.err(),
            }
        });
    }
    uploads.join_all().await
}

fn payroll_csv(merchant: u64, lines: u64) -> Vec<u8> {
    let mut csv = String::from("msisdn,amount,reference\n");
    for i in 0..lines {
        let n = merchant * lines + i;
        csv.push_str(&format!("{},{},pay-{merchant}-{i}\n", msisdn(n), amount(n)));
    }
    csv.into_bytes()
}

async fn upload_and_approve(
    api: &Api,
    merchant: &ApiMerchant,
    csv: Vec<u8>,
) -> Result<Uuid, String> {
    let batch = api
        .post(&merchant.maker, "/v1/batches", "text/csv", csv)
        .await?;
    let id = batch["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or("no_batch_id")?;
    if batch["state"] == "awaiting_approval" {
        let path = format!("/v1/batches/{id}/approve");
        api.post(&merchant.checker, &path, "application/json", Vec::new())
            .await?;
    }
    Ok(id)
}

/// `rate` requests a second for `duration` (single payouts or collections), spread over
/// the merchants in turn.
pub async fn open_model(
    api: &Api,
    merchants: &[ApiMerchant],
    work: Work,
    rate: u32,
    duration: Duration,
) -> Vec<Offered> {
    let path = match work {
        Work::Collection => "/v1/collections",
        _ => "/v1/payouts",
    };
    let total = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
    let interval = Duration::from_secs(1) / rate.max(1);
    let mut requests = JoinSet::new();
    for i in 0..total {
        let intended = interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(api.start + intended).await;
        let merchant = &merchants[i as usize % merchants.len()];
        let (api, key) = (api.clone(), merchant.maker.clone());
        let body = json!({
            "msisdn": msisdn(i),
            "amount": amount(i),
            "currency": "RWF",
            "reference": format!("{path}-{i}-{}", Uuid::new_v4().simple()),
        });
        requests.spawn(async move {
            let answer = api
                .post(
                    &key,
                    path,
                    "application/json",
                    body.to_string().into_bytes(),
                )
                .await;
            let accept = api.start.elapsed().saturating_sub(intended);
            let created = answer
                .as_ref()
                .ok()
                .and_then(|body| body["id"].as_str())
                .and_then(|id| id.parse().ok());
            Offered {
                work,
                intended,
                accept,
                created,
                error: answer.err(),
            }
        });
    }
    requests.join_all().await
}
