//! A batch actor's metrics: it counts itself among the running batches while it lives,
//! keeps `payrail_batch_lines_pending` in step with the lines it has out, and counts the
//! batch's end.

use metrics::{Gauge, gauge};
use payrail_engine::metrics::{self as names, BatchOutcome};

#[derive(Debug)]
pub struct BatchMetrics {
    running: Gauge,
    pending: Gauge,
    /// The lines out this actor last added to `pending`.
    reported: u32,
}

impl BatchMetrics {
    /// Counts one more running batch.
    pub fn start() -> BatchMetrics {
        let running = gauge!(names::RUNNING_BATCHES);
        running.increment(1.0);
        BatchMetrics {
            running,
            pending: gauge!(names::BATCH_LINES_PENDING),
            reported: 0,
        }
    }

    /// The actor now has `outstanding` lines out.
    pub fn outstanding(&mut self, outstanding: u32) {
        self.pending
            .increment(f64::from(outstanding) - f64::from(self.reported));
        self.reported = outstanding;
    }

    /// The actor stops: it no longer runs a batch nor has lines out.
    pub fn stop(&mut self) {
        self.outstanding(0);
        self.running.decrement(1.0);
    }

    /// The batch completed, with or without failed lines.
    pub fn completed(failed: bool) {
        let outcome = if failed {
            BatchOutcome::CompletedWithFailures
        } else {
            BatchOutcome::Completed
        };
        outcome.count();
    }
}
