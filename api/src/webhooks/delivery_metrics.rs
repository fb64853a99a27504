//! The deliverer's metrics, as handles: each try's outcome, and the outbox's backlog,
//! counted now and then (not on every poll).

use std::time::Duration;

use metrics::{Counter, Gauge, counter, gauge};
use payrail_engine::app::App;
use payrail_engine::metrics as names;
use tokio::time::Instant;

/// How often the backlog is counted.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct DeliveryMetrics {
    pub delivered: Counter,
    /// Failed, to be tried again.
    pub failed: Counter,
    /// 410 Gone: stopped.
    pub gone: Counter,
    /// Failed with no retry left.
    pub exhausted: Counter,
    backlog: Gauge,
    counted_at: Option<Instant>,
}

impl DeliveryMetrics {
    pub fn new() -> DeliveryMetrics {
        let tried =
            |outcome: &'static str| counter!(names::WEBHOOK_DELIVERIES, "outcome" => outcome);
        DeliveryMetrics {
            delivered: tried("delivered"),
            failed: tried("failed"),
            gone: tried("gone"),
            exhausted: tried("exhausted"),
            backlog: gauge!(names::WEBHOOK_BACKLOG),
            counted_at: None,
        }
    }

    /// Counts the events waiting, if the last count is old enough.
    pub async fn count_backlog(&mut self, app: &App) -> anyhow::Result<()> {
        if self
            .counted_at
            .is_some_and(|at| at.elapsed() < BACKLOG_EVERY)
        {
            return Ok(());
        }
        self.counted_at = Some(Instant::now());
        let waiting = app.webhook_backlog().await?;
        self.backlog.set(waiting as f64);
        Ok(())
    }
}
