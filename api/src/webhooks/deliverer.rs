//! The deliverer: a task that sends the outbox's due events. It claims a batch of them
//! (`FOR UPDATE SKIP LOCKED`, so nodes share the work) by pushing their next attempt a
//! lease into the future, POSTs each, signed (with the merchant's secret and, during a
//! rotation's overlap, also with the secret it replaced), to the merchant's endpoint or
//! the event's own URL, and records what happened: 2xx delivered; 410 Gone stopped;
//! anything else a retry after the configured schedule, then failed. A node that dies
//! mid-batch leaves its events to be tried again when the lease ends: delivery is at
//! least once.

use std::time::Duration;

use futures_util::StreamExt;
use payrail_engine::app::App;
use payrail_engine::app::webhooks::{DueEvent, message_id};
use payrail_engine::url_policy::{Url, UrlPolicy};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::client;
use super::delivery_metrics::DeliveryMetrics;
use super::signing::{self, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Events claimed at once, and how many of them are sent at the same time.
const BATCH: i64 = 64;
const CONCURRENCY: usize = 16;
/// How long to wait when nothing was due (or the database failed).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The running deliverer; [`Deliverer::stop`] ends it.
#[derive(Debug)]
pub struct Deliverer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Deliverer {
    /// Starts delivering the outbox's events to URLs the app's policy permits, retrying a
    /// failed event after each of `retry_schedule_seconds` in turn.
    pub fn start(app: App, retry_schedule_seconds: &[u64]) -> Result<Deliverer, reqwest::Error> {
        let urls = app.settings().urls.clone();
        let worker = Worker {
            client: client::client(&urls)?,
            app,
            urls,
            schedule: retry_schedule_seconds
                .iter()
                .map(|seconds| u32::try_from(*seconds).unwrap_or(u32::MAX))
                .collect(),
        };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(worker.run(stopped));
        Ok(Deliverer { stop, task })
    }

    /// Stops after the batch being sent, if any, is recorded.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the webhook deliverer ended badly");
        }
    }
}

struct Worker {
    app: App,
    client: reqwest::Client,
    urls: UrlPolicy,
    schedule: Vec<u32>,
}

/// What one try came to.
enum Outcome {
    Delivered(StatusCode),
    Gone,
    NoEndpoint,
    Failed {
        status: Option<StatusCode>,
        error: String,
    },
}

impl Worker {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        tracing::info!("webhook deliverer started");
        let mut metrics = DeliveryMetrics::new();
        loop {
            if let Err(error) = metrics.count_backlog(&self.app).await {
                tracing::warn!(%error, "the webhook backlog could not be counted");
            }
            let claimed = match self.deliver_due(&metrics).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "webhook delivery could not use the database");
                    0
                }
            };
            if claimed < BATCH {
                tokio::select! {
                    _ = &mut stop => break,
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            } else if !matches!(stop.try_recv(), Err(oneshot::error::TryRecvError::Empty)) {
                break;
            }
        }
        tracing::info!("webhook deliverer stopped");
    }

    /// Sends one batch of due events; returns how many there were.
    async fn deliver_due(&self, metrics: &DeliveryMetrics) -> anyhow::Result<i64> {
        let due = self.app.claim_due_webhooks(BATCH).await?;
        let claimed = i64::try_from(due.len()).unwrap_or(BATCH);
        let mut sent = futures_util::stream::iter(due)
            .map(|event| async move {
                let outcome = self.send(&event).await;
                (event, outcome)
            })
            .buffer_unordered(CONCURRENCY);
        while let Some((event, outcome)) = sent.next().await {
            self.record(&event, outcome, metrics).await?;
        }
        Ok(claimed)
    }

    /// POSTs the event, signed, and reads what the endpoint answered.
    async fn send(&self, event: &DueEvent) -> Outcome {
        let Some(url) = &event.url else {
            return Outcome::NoEndpoint;
        };
        let url = match Url::parse(url) {
            Ok(url) => url,
            Err(error) => return failed(None, format!("the URL is not a URL: {error}")),
        };
        if let Err(refusal) = self.urls.permits_url(&url) {
            return failed(None, format!("not called: the URL {refusal}"));
        }
        let body = match serde_json::to_vec(&event.payload) {
            Ok(body) => body,
            Err(error) => {
                return failed(None, format!("the payload could not be written: {error}"));
            }
        };
        let id = message_id(event.id);
        let timestamp = jiff::Timestamp::now().as_second();
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &id)
            .header(TIMESTAMP_HEADER, timestamp.to_string());
        if let Some(secret) = &event.secret {
            let previous = event.previous_secret.as_deref();
            match signing::sign_all(secret, previous, &id, timestamp, &body) {
                Ok(signature) => request = request.header(SIGNATURE_HEADER, signature),
                Err(error) => return failed(None, error.to_string()),
            }
        }
        match request.body(body).send().await {
            Ok(response) if response.status().is_success() => Outcome::Delivered(response.status()),
            Ok(response) if response.status() == StatusCode::GONE => Outcome::Gone,
            Ok(response) => {
                let status = response.status();
                failed(Some(status), format!("the endpoint answered {status}"))
            }
            Err(error) => failed(None, error_chain(&error)),
        }
    }

    async fn record(
        &self,
        event: &DueEvent,
        outcome: Outcome,
        metrics: &DeliveryMetrics,
    ) -> Result<(), payrail_engine::app::AppError> {
        match outcome {
            Outcome::Delivered(code) => {
                self.app.webhook_delivered(event, code.as_u16()).await?;
                metrics.delivered.increment(1);
            }
            Outcome::Gone => {
                let reason = "the endpoint answered 410 Gone: not sent again";
                let code = Some(StatusCode::GONE.as_u16());
                self.app.webhook_stopped(event, true, code, reason).await?;
                tracing::info!(event = %event.id, "a webhook endpoint answered 410 Gone");
                metrics.gone.increment(1);
            }
            Outcome::NoEndpoint => {
                let reason = "the merchant has no webhook endpoint";
                self.app.webhook_stopped(event, false, None, reason).await?;
            }
            Outcome::Failed {
                status: code,
                error,
            } => {
                let retry_in = usize::try_from(event.attempts)
                    .ok()
                    .and_then(|done| self.schedule.get(done))
                    .copied();
                self.app
                    .webhook_failed(event, code.map(|code| code.as_u16()), &error, retry_in)
                    .await?;
                match retry_in {
                    Some(_) => metrics.failed.increment(1),
                    None => metrics.exhausted.increment(1),
                }
            }
        }
        Ok(())
    }
}

fn failed(status: Option<StatusCode>, error: String) -> Outcome {
    Outcome::Failed { status, error }
}

/// An error and its causes, as one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
