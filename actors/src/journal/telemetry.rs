//! The journal's metrics, as handles: flush sizes and times, outcomes waiting, and the
//! payouts each flush made final, by route and outcome, with their time since the engine
//! took them. Every configured route's handles are taken when the journal starts, so each
//! route × outcome series is served at 0 before the route's first payout ends.

use std::collections::HashMap;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use payrail_engine::metrics as names;
use payrail_engine::route::RouteName;

use super::{Finish, Outcome};

#[derive(Debug)]
pub struct JournalMetrics {
    flush_rows: Histogram,
    flush_duration: Histogram,
    waiting: Gauge,
    routes: HashMap<RouteName, RouteOutcomes>,
}

/// One route's final payouts.
#[derive(Debug)]
struct RouteOutcomes {
    succeeded: Counter,
    failed: Counter,
    requires_review: Counter,
    duration: Histogram,
}

impl RouteOutcomes {
    fn new(route: &str) -> RouteOutcomes {
        let ended = |outcome: &'static str| counter!(names::PAYOUTS, "route" => route.to_owned(), "outcome" => outcome);
        RouteOutcomes {
            succeeded: ended("succeeded"),
            failed: ended("failed"),
            requires_review: ended("requires_review"),
            duration: histogram!(names::PAYOUT_DURATION, "route" => route.to_owned()),
        }
    }
}

impl JournalMetrics {
    /// The journal's handles, with every one of `routes` registered.
    pub fn new(routes: &[RouteName]) -> JournalMetrics {
        JournalMetrics {
            flush_rows: histogram!(names::JOURNAL_FLUSH_ROWS),
            flush_duration: histogram!(names::JOURNAL_FLUSH_DURATION),
            waiting: gauge!(names::MAILBOX_DEPTH, "actor" => "journal"),
            routes: routes
                .iter()
                .map(|route| (route.clone(), RouteOutcomes::new(route.as_str())))
                .collect(),
        }
    }

    /// Handles for a flush's task to record its size and time into.
    pub fn flush_handles(&self) -> (Histogram, Histogram) {
        (self.flush_rows.clone(), self.flush_duration.clone())
    }

    pub fn waiting(&self, outcomes: usize) {
        self.waiting.set(outcomes as f64);
    }

    /// A payout the journal wrote final. A route no longer configured (its lines fail as
    /// `ROUTE_UNAVAILABLE`) gets its handles now.
    pub fn ended(&mut self, outcome: &Outcome) {
        let line = &outcome.job.line;
        let route = self
            .routes
            .entry(line.route.clone())
            .or_insert_with(|| RouteOutcomes::new(line.route.as_str()));
        match outcome.finish {
            Finish::Succeeded { .. } => route.succeeded.increment(1),
            Finish::Failed { .. } => route.failed.increment(1),
            Finish::RequiresReview => route.requires_review.increment(1),
        }
        route.duration.record(outcome.job.taken_at.elapsed());
    }
}

/// Records one flush.
pub fn flushed(rows: &Histogram, duration: &Histogram, outcomes: usize, took: Duration) {
    rows.record(outcomes as f64);
    duration.record(took);
}
