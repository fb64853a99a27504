//! The deliverer: a task that sends the outbox's due events. It claims a batch of them
//! (`FOR UPDATE SKIP LOCKED`, so nodes share the work) by pushing their next attempt a
//! lease into the future, POSTs each, signed, to the merchant's endpoint or the event's
//! own URL, and records what happened: 2xx delivered; 410 Gone stopped; anything else a
//! retry after the configured schedule, then failed. A node that dies mid-batch leaves
//! its events to be tried again when the lease ends: delivery is at least once.

use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::UrlPolicy;
use super::delivery_metrics::DeliveryMetrics;
use super::signing::{self, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Events claimed at once, and how many of them are sent at the same time.
const BATCH: i64 = 64;
const CONCURRENCY: usize = 16;
/// How long to wait when nothing was due (or the database failed).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Claims due events: their next attempt moves a lease ahead, well past a request's
/// timeout, so no other node takes them meanwhile.
const CLAIM: &str = "
    UPDATE webhook_events e
       SET next_attempt_at = now() + interval '1 minute'
      FROM merchants m
     WHERE m.id = e.merchant_id
       AND e.id = ANY(ARRAY(SELECT id FROM webhook_events
                             WHERE state = 'pending' AND next_attempt_at <= now()
                             ORDER BY next_attempt_at
                             LIMIT $1
                             FOR UPDATE SKIP LOCKED))
 RETURNING e.id, e.url, m.webhook_url, m.webhook_secret, e.payload, e.attempts";

const DELIVERED: &str = "
    UPDATE webhook_events
       SET state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = NULL,
           delivered_at = now()
     WHERE id = $1";

/// A failed try: retried after `$4` seconds, or failed for good when `$4` is NULL.
const FAILED: &str = "
    UPDATE webhook_events
       SET attempts = attempts + 1, last_status = $2, last_error = $3,
           state = CASE WHEN $4::float8 IS NULL THEN 'failed' ELSE 'pending' END,
           next_attempt_at = COALESCE(now() + make_interval(secs => $4::float8), next_attempt_at)
     WHERE id = $1";

/// Not to be tried again: `$2` says whether this try counts (410) or none was made.
const STOPPED: &str = "
    UPDATE webhook_events
       SET state = 'stopped', attempts = attempts + $2, last_status = $3, last_error = $4
     WHERE id = $1";

/// The running deliverer; [`Deliverer::stop`] ends it.
#[derive(Debug)]
pub struct Deliverer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Deliverer {
    /// Starts delivering the events of `pool`'s outbox to URLs `urls` permits, retrying a
    /// failed event after each of `retry_schedule_seconds` in turn.
    pub fn start(
        pool: Pool,
        urls: &UrlPolicy,
        retry_schedule_seconds: &[u64],
    ) -> Result<Deliverer, reqwest::Error> {
        let worker = Worker {
            pool,
            client: urls.client()?,
            urls: urls.clone(),
            schedule: retry_schedule_seconds.to_vec(),
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
    pool: Pool,
    client: reqwest::Client,
    urls: UrlPolicy,
    schedule: Vec<u64>,
}

/// One claimed event, with where and how to send it.
struct Due {
    id: Uuid,
    url: Option<String>,
    secret: Option<String>,
    payload: Value,
    attempts: i32,
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
            if let Err(error) = metrics.count_backlog(&self.pool).await {
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
        let client = self.pool.get().await?;
        let rows = client.query(CLAIM, &[&BATCH]).await?;
        let due: Vec<Due> = rows
            .iter()
            .map(|row| Due {
                id: row.get(0),
                url: row.get::<_, Option<String>>(1).or_else(|| row.get(2)),
                secret: row.get(3),
                payload: row.get(4),
                attempts: row.get(5),
            })
            .collect();
        let claimed = i64::try_from(due.len()).unwrap_or(BATCH);
        let mut sent = futures_util::stream::iter(due)
            .map(|event| async move {
                let outcome = self.send(&event).await;
                (event, outcome)
            })
            .buffer_unordered(CONCURRENCY);
        while let Some((event, outcome)) = sent.next().await {
            self.record(&client, &event, outcome, metrics).await?;
        }
        Ok(claimed)
    }

    /// POSTs the event, signed, and reads what the endpoint answered.
    async fn send(&self, event: &Due) -> Outcome {
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
        let id = signing::message_id(event.id);
        let timestamp = jiff::Timestamp::now().as_second();
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &id)
            .header(TIMESTAMP_HEADER, timestamp.to_string());
        if let Some(secret) = &event.secret {
            match signing::sign(secret, &id, timestamp, &body) {
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
        client: &deadpool_postgres::Object,
        event: &Due,
        outcome: Outcome,
        metrics: &DeliveryMetrics,
    ) -> Result<(), tokio_postgres::Error> {
        let status = |status: StatusCode| i32::from(status.as_u16());
        match outcome {
            Outcome::Delivered(code) => {
                client
                    .execute(DELIVERED, &[&event.id, &status(code)])
                    .await?;
                metrics.delivered.increment(1);
            }
            Outcome::Gone => {
                let reason = "the endpoint answered 410 Gone: not sent again";
                let code = Some(status(StatusCode::GONE));
                client
                    .execute(STOPPED, &[&event.id, &1_i32, &code, &reason])
                    .await?;
                tracing::info!(event = %event.id, "a webhook endpoint answered 410 Gone");
                metrics.gone.increment(1);
            }
            Outcome::NoEndpoint => {
                let reason = "the merchant has no webhook endpoint";
                client
                    .execute(STOPPED, &[&event.id, &0_i32, &None::<i32>, &reason])
                    .await?;
            }
            Outcome::Failed {
                status: code,
                error,
            } => {
                let retry_in = usize::try_from(event.attempts)
                    .ok()
                    .and_then(|done| self.schedule.get(done))
                    .map(|seconds| *seconds as f64);
                let code = code.map(status);
                client
                    .execute(FAILED, &[&event.id, &code, &error, &retry_in])
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
