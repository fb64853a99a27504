//! Callback delivery from spawned tasks that never block a handler: wait until the transfer
//! is final (+ `delay_ms`), send, retry on failure, maybe send twice; forgeries are sent
//! once and counted apart. At most `CALLBACKS_IN_FLIGHT_MAX` at once, the rest shed and
//! counted. A dropped callback is never scheduled: no attempt at all.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::forgery::{Forgery, LastUrls};
use super::profile::{CallbackMethod, CallbackProfile};
use super::stats::{Counters, bump};

/// Callbacks waiting or being delivered at once (each is a parked task).
pub(crate) const CALLBACKS_IN_FLIGHT_MAX: usize = 50_000;
/// MTN's documented callback timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The retry schedule follows MTN's developer portal (momodeveloper.mtn.com,
/// api-documentation/callback, an earlier revision of the page): each attempt times out
/// after 2 s; then 20 retries 1 s apart; then retries 2 minutes apart ("short block", 30 of
/// them); then hourly ("long block") until unblocked. We leave out the long block and stop
/// after `retries_max` (at most 50). The page's current revision says a callback is sent
/// once, never retried: `retries_max = 0`. Airtel documents no schedule; its callbacks
/// reuse this one, which is an assumption.
const FAST_RETRIES: u32 = 20;
const FAST_RETRY_WAIT: Duration = Duration::from_secs(1);
const SLOW_RETRY_WAIT: Duration = Duration::from_secs(120);

/// One callback to deliver.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) url: String,
    pub(crate) method: CallbackMethod,
    pub(crate) body: Bytes,
    /// When the transfer turns final.
    pub(crate) due: Instant,
    pub(crate) duplicate: bool,
}

/// How a job is delivered.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    /// The real callback: retried, maybe copied, counted as a callback.
    Real(CallbackProfile),
    /// A forgery: one attempt, `delay_ms` after due, counted as a forgery.
    Forged(Forgery, u64),
}

#[derive(Debug)]
pub(crate) struct Callbacks {
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    /// MTN callback URLs seen, for replays.
    pub(crate) last_urls: LastUrls,
}

impl Callbacks {
    pub(crate) fn new() -> Result<Callbacks, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        Ok(Callbacks {
            client,
            permits: Arc::new(Semaphore::new(CALLBACKS_IN_FLIGHT_MAX)),
            stop: watch::Sender::new(false),
            last_urls: LastUrls::default(),
        })
    }

    /// Abandons every callback not yet delivered.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Delivers `job` from a task of its own under `settings`.
    pub(crate) fn schedule(&self, job: Job, settings: CallbackProfile, counters: Arc<Counters>) {
        self.spawn(job, Delivery::Real(settings), counters);
    }

    /// Sends the forged `job` once, `delay_ms` after it is due, from a task of its own.
    pub(crate) fn forge(
        &self,
        job: Job,
        forgery: Forgery,
        settings: CallbackProfile,
        counters: Arc<Counters>,
    ) {
        self.spawn(job, Delivery::Forged(forgery, settings.delay_ms), counters);
    }

    fn spawn(&self, job: Job, delivery: Delivery, counters: Arc<Counters>) {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            bump(&counters.callbacks_shed);
            return;
        };
        let client = self.client.clone();
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => {}
                () = deliver(&client, job, delivery, &counters) => {}
            }
        });
    }
}

async fn deliver(client: &reqwest::Client, job: Job, delivery: Delivery, counters: &Counters) {
    match delivery {
        Delivery::Real(settings) => deliver_real(client, job, settings, counters).await,
        Delivery::Forged(forgery, delay_ms) => {
            tokio::time::sleep_until(job.due + Duration::from_millis(delay_ms)).await;
            bump(forgery.counter(counters));
            if attempt(client, &job).await {
                bump(&counters.forged_accepted);
            }
        }
    }
}

async fn deliver_real(
    client: &reqwest::Client,
    job: Job,
    settings: CallbackProfile,
    counters: &Counters,
) {
    tokio::time::sleep_until(job.due + Duration::from_millis(settings.delay_ms)).await;
    let mut retry = 0u32;
    while !send(client, &job, counters).await {
        if retry >= settings.retries_max {
            bump(&counters.callbacks_given_up);
            return;
        }
        retry += 1;
        tokio::time::sleep(retry_wait(retry, settings.retry_scale)).await;
    }
    if job.duplicate {
        bump(&counters.callbacks_duplicated);
        send(client, &job, counters).await;
    }
}

/// The wait before retry number `retry` (from 1), scaled.
fn retry_wait(retry: u32, scale: f64) -> Duration {
    let wait = if retry <= FAST_RETRIES {
        FAST_RETRY_WAIT
    } else {
        SLOW_RETRY_WAIT
    };
    wait.mul_f64(scale)
}

/// One counted attempt; true when answered 2xx.
async fn send(client: &reqwest::Client, job: &Job, counters: &Counters) -> bool {
    bump(&counters.callbacks_sent);
    let delivered = attempt(client, job).await;
    bump(if delivered {
        &counters.callbacks_delivered
    } else {
        &counters.callbacks_failed
    });
    delivered
}

/// One attempt; true when answered 2xx.
async fn attempt(client: &reqwest::Client, job: &Job) -> bool {
    let method = match job.method {
        CallbackMethod::Post => reqwest::Method::POST,
        CallbackMethod::Put => reqwest::Method::PUT,
    };
    client
        .request(method, &job.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(job.body.clone())
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_mtns_scaled() {
        assert_eq!(retry_wait(1, 1.0), Duration::from_secs(1));
        assert_eq!(retry_wait(20, 1.0), Duration::from_secs(1));
        assert_eq!(retry_wait(21, 1.0), Duration::from_secs(120));
        assert_eq!(retry_wait(1, 0.01), Duration::from_millis(10));
        assert_eq!(retry_wait(5, 0.0), Duration::ZERO);
    }
}
