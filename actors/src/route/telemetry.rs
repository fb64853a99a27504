//! A route's metrics, as handles taken when the route actor starts (no registry lookup per
//! call): its operator calls, retries, quota waits, circuit, and the payouts it holds.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use payrail_engine::metrics as names;
use payrail_engine::operator::OperatorError;

use crate::job::Call;

/// How an operator call came back, as `payrail_operator_requests_total` labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Answered (whatever the answer said about the payout).
    Ok,
    /// Answered no.
    Rejected,
    /// Refused before the operator took it (throttled, unavailable).
    NotSent,
    /// No answer: timeout, broken connection.
    Unknown,
}

impl CallStatus {
    const ALL: [CallStatus; 4] = [
        CallStatus::Ok,
        CallStatus::Rejected,
        CallStatus::NotSent,
        CallStatus::Unknown,
    ];

    fn label(self) -> &'static str {
        match self {
            CallStatus::Ok => "ok",
            CallStatus::Rejected => "rejected",
            CallStatus::NotSent => "not_sent",
            CallStatus::Unknown => "unknown",
        }
    }

    pub fn of<T>(result: &Result<T, OperatorError>) -> CallStatus {
        match result {
            Ok(_) => CallStatus::Ok,
            Err(OperatorError::Rejected { .. }) => CallStatus::Rejected,
            Err(OperatorError::NotSent { .. }) => CallStatus::NotSent,
            Err(OperatorError::OutcomeUnknown { .. }) => CallStatus::Unknown,
        }
    }
}

/// Why a call is made again, as `payrail_operator_retries_total` labels it.
#[derive(Clone, Copy, Debug)]
pub enum RetryReason {
    NotSent,
    Unknown,
}

/// One route's handles.
#[derive(Debug)]
pub struct RouteMetrics {
    /// By call (send, query) and status, in `CallStatus::ALL`'s order.
    requests: [[Counter; 4]; 2],
    durations: [Histogram; 2],
    retried_not_sent: Counter,
    retried_unknown: Counter,
    rate_limited: Counter,
    /// Quota waits not yet a whole second, so the counter stays in seconds.
    rate_limited_carry: f64,
    circuit_open: Gauge,
    in_flight: Gauge,
    unknown: Gauge,
    queued: Gauge,
    ended_by_callback: Counter,
    callbacks_overdue: Counter,
    verifications_waiting: Gauge,
    /// This node's share of the send and query quotas.
    quota_share: [Gauge; 2],
}

impl RouteMetrics {
    /// A route's handles; its circuit gauge starts as the breaker does, then follows its
    /// openings and closings (not the trials in between).
    pub fn new(route: &str, circuit_open: bool) -> RouteMetrics {
        let calls = |operation: &'static str| {
            CallStatus::ALL.map(|status| {
                counter!(names::OPERATOR_REQUESTS, "route" => route.to_owned(),
                    "operation" => operation, "status" => status.label())
            })
        };
        let duration = |operation: &'static str| histogram!(names::OPERATOR_REQUEST_DURATION, "route" => route.to_owned(), "operation" => operation);
        let retried = |reason: &'static str| counter!(names::OPERATOR_RETRIES, "route" => route.to_owned(), "reason" => reason);
        let circuit = gauge!(names::ROUTE_CIRCUIT_OPEN, "route" => route.to_owned());
        circuit.set(if circuit_open { 1.0 } else { 0.0 });
        RouteMetrics {
            requests: [calls("send"), calls("query")],
            durations: [duration("send"), duration("query")],
            retried_not_sent: retried("not_sent"),
            retried_unknown: retried("unknown"),
            rate_limited: counter!(names::ROUTE_RATE_LIMITED, "route" => route.to_owned()),
            rate_limited_carry: 0.0,
            circuit_open: circuit,
            in_flight: gauge!(names::PAYOUTS_IN_FLIGHT, "route" => route.to_owned()),
            unknown: gauge!(names::PAYOUTS_UNKNOWN, "route" => route.to_owned()),
            queued: gauge!(names::MAILBOX_DEPTH, "actor" => "route"),
            ended_by_callback: counter!(names::PAYOUTS_ENDED_BY_CALLBACK, "route" => route.to_owned()),
            callbacks_overdue: counter!(names::CALLBACKS_OVERDUE, "route" => route.to_owned()),
            verifications_waiting: gauge!(names::MAILBOX_DEPTH, "actor" => "route_verifications", "route" => route.to_owned()),
            quota_share: ["send", "query"].map(|call| gauge!(names::CLUSTER_QUOTA_SHARE, "route" => route.to_owned(), "call" => call)),
        }
    }

    /// This node's share of the route's quotas, per second.
    pub fn quota_share(&self, sends: u32, queries: u32) {
        self.quota_share[0].set(f64::from(sends));
        self.quota_share[1].set(f64::from(queries));
    }

    /// The histogram a call of this kind is timed into (moved into the call's task).
    pub fn duration(&self, call: Call) -> Histogram {
        self.durations[index(call)].clone()
    }

    pub fn answered(&self, call: Call, status: CallStatus) {
        let column = CallStatus::ALL
            .iter()
            .position(|s| *s == status)
            .unwrap_or_default();
        self.requests[index(call)][column].increment(1);
    }

    pub fn retried(&self, reason: RetryReason) {
        match reason {
            RetryReason::NotSent => self.retried_not_sent.increment(1),
            RetryReason::Unknown => self.retried_unknown.increment(1),
        }
    }

    /// Sends waited this long for the quota or the circuit.
    pub fn held_back(&mut self, wait: Duration) {
        self.rate_limited_carry += wait.as_secs_f64();
        let whole = self.rate_limited_carry.floor();
        if whole >= 1.0 {
            self.rate_limited.increment(whole as u64);
            self.rate_limited_carry -= whole;
        }
    }

    pub fn circuit(&self, open: bool) {
        self.circuit_open.set(if open { 1.0 } else { 0.0 });
    }

    /// Payouts taken in (positive) or handed on to the journal (negative).
    pub fn holding(&self, change: f64) {
        self.in_flight.increment(change);
    }

    /// Payouts whose outcome became uncertain (positive) or was settled (negative).
    pub fn uncertain(&self, change: f64) {
        self.unknown.increment(change);
    }

    /// Calls waiting in the route's queues, added to the other routes'.
    pub fn queued(&self, change: f64) {
        self.queued.increment(change);
    }

    /// A payout ended on an authenticated callback.
    pub fn ended_by_callback(&self) {
        self.ended_by_callback.increment(1);
    }

    /// A payout's callback did not come by the deadline.
    pub fn callback_overdue(&self) {
        self.callbacks_overdue.increment(1);
    }

    /// Verifications waiting in the route for query budget.
    pub fn verifications(&self, waiting: usize) {
        self.verifications_waiting.set(waiting as f64);
    }
}

fn index(call: Call) -> usize {
    match call {
        Call::Send => 0,
        Call::Query => 1,
    }
}
