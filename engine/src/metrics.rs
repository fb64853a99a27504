//! The metric catalogue (docs/metrics.md): every name, its help text and its histogram
//! buckets, and the process-wide Prometheus recorder. Names are an interface: the Grafana
//! dashboard and the alert rules use exactly these. The recorder is installed before the
//! engine starts, because a handle taken earlier records nothing; installing it registers
//! every batch outcome at 0.

use std::sync::OnceLock;
use std::time::Duration;

use deadpool_postgres::Pool;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const PAYOUTS: &str = "payrail_payouts_total";
pub const PAYOUT_DURATION: &str = "payrail_payout_duration_seconds";
pub const PAYOUTS_IN_FLIGHT: &str = "payrail_payouts_in_flight";
pub const BATCHES: &str = "payrail_batches_total";
pub const BATCH_LINES_PENDING: &str = "payrail_batch_lines_pending";
pub const RUNNING_BATCHES: &str = "payrail_running_batches";
pub const OPERATOR_REQUESTS: &str = "payrail_operator_requests_total";
pub const OPERATOR_REQUEST_DURATION: &str = "payrail_operator_request_duration_seconds";
pub const OPERATOR_RETRIES: &str = "payrail_operator_retries_total";
pub const ROUTE_RATE_LIMITED: &str = "payrail_route_rate_limited_seconds_total";
pub const ROUTE_CIRCUIT_OPEN: &str = "payrail_route_circuit_open";
pub const PAYOUTS_UNKNOWN: &str = "payrail_payouts_unknown";
pub const JOURNAL_FLUSH_ROWS: &str = "payrail_journal_flush_rows";
pub const JOURNAL_FLUSH_DURATION: &str = "payrail_journal_flush_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "payrail_db_pool_connections";
pub const ACTOR_RESTARTS: &str = "payrail_actor_restarts_total";
pub const MAILBOX_DEPTH: &str = "payrail_mailbox_depth";
pub const WEBHOOK_DELIVERIES: &str = "payrail_webhook_deliveries_total";
pub const WEBHOOK_BACKLOG: &str = "payrail_webhook_backlog";
pub const HTTP_REQUESTS: &str = "payrail_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "payrail_http_request_duration_seconds";
pub const BUILD_INFO: &str = "payrail_build_info";
pub const CALLBACKS: &str = "payrail_callbacks_total";
pub const PAYOUTS_ENDED_BY_CALLBACK: &str = "payrail_payouts_ended_by_callback_total";
pub const CALLBACKS_OVERDUE: &str = "payrail_callbacks_overdue_total";
pub const VERIFICATIONS: &str = "payrail_verifications_total";
pub const VERIFICATION_BACKLOG: &str = "payrail_verification_backlog";
pub const VERIFICATION_BACKLOG_AGE: &str = "payrail_verification_backlog_oldest_seconds";
pub const CLUSTER_LIVE_NODES: &str = "payrail_cluster_live_nodes";
pub const CLUSTER_LEASES: &str = "payrail_cluster_leases";
pub const CLUSTER_TAKEOVERS: &str = "payrail_cluster_takeovers_total";
pub const CLUSTER_LEASE_RENEWALS: &str = "payrail_cluster_lease_renewals_total";
pub const CLUSTER_QUOTA_SHARE: &str = "payrail_cluster_quota_share";

/// How a batch ended, as `payrail_batches_total` counts it: the one list of its `outcome`
/// labels, for the code that counts them and for their registration at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// The engine ran it and every line succeeded.
    Completed,
    /// The engine ran it and some lines failed.
    CompletedWithFailures,
    /// Cancelled by a key.
    Cancelled,
    /// Refused at upload.
    Invalid,
}

impl BatchOutcome {
    pub const ALL: [BatchOutcome; 4] = [
        BatchOutcome::Completed,
        BatchOutcome::CompletedWithFailures,
        BatchOutcome::Cancelled,
        BatchOutcome::Invalid,
    ];

    /// The `outcome` label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            BatchOutcome::Completed => "completed",
            BatchOutcome::CompletedWithFailures => "completed_with_failures",
            BatchOutcome::Cancelled => "cancelled",
            BatchOutcome::Invalid => "invalid",
        }
    }

    /// Counts one batch that ended this way.
    pub fn count(self) {
        counter!(BATCHES, "outcome" => self.label()).increment(1);
    }
}

/// Seconds from a few milliseconds (a fast operator) to a quarter of an hour (a payout
/// waiting on status queries).
const PAYOUT_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];
/// Seconds for one call or one answer: a millisecond to half a minute.
const CALL_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const FLUSH_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const FLUSH_ROWS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// Each histogram with its buckets.
const HISTOGRAMS: &[(&str, &[f64])] = &[
    (PAYOUT_DURATION, PAYOUT_SECONDS),
    (OPERATOR_REQUEST_DURATION, CALL_SECONDS),
    (JOURNAL_FLUSH_ROWS, FLUSH_ROWS),
    (JOURNAL_FLUSH_DURATION, FLUSH_SECONDS),
    (HTTP_REQUEST_DURATION, CALL_SECONDS),
];

/// How often histograms are folded and the pool is looked at.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process (once; later calls return the same
/// handle) and describes every metric. Call before the engine starts.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in HISTOGRAMS {
            builder = builder
                .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
                .expect("the bucket lists are not empty");
        }
        let handle = builder
            .install_recorder()
            .expect("no other metrics recorder is installed in this process");
        describe();
        register_batch_outcomes();
        gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// The metrics as Prometheus's text format (what `/metrics` serves).
pub fn render() -> String {
    install().render()
}

/// Folds histograms now and then and reports `pool`'s connections, until the runtime
/// stops. One per node.
pub fn start_upkeep(pool: Pool) -> tokio::task::JoinHandle<()> {
    let handle = install();
    let in_use = gauge!(DB_POOL_CONNECTIONS, "state" => "in_use");
    let idle = gauge!(DB_POOL_CONNECTIONS, "state" => "idle");
    let waiting = gauge!(DB_POOL_CONNECTIONS, "state" => "waiting");
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(UPKEEP_EVERY);
        loop {
            ticks.tick().await;
            handle.run_upkeep();
            let status = pool.status();
            in_use.set(status.size.saturating_sub(status.available) as f64);
            idle.set(status.available as f64);
            waiting.set(status.waiting as f64);
        }
    })
}

/// Takes a handle on every batch outcome, so each is served at 0 before the first batch
/// ends that way (a series that appears only on its first increment hides that increment
/// from `rate()` and `increase()`); and serves the batch gauges at 0 before the first
/// batch actor starts.
fn register_batch_outcomes() {
    gauge!(RUNNING_BATCHES).increment(0.0);
    gauge!(BATCH_LINES_PENDING).increment(0.0);
    for outcome in BatchOutcome::ALL {
        counter!(BATCHES, "outcome" => outcome.label()).increment(0);
    }
}

fn describe() {
    describe_counter!(
        PAYOUTS,
        "Payouts that reached a final state, by route and outcome."
    );
    describe_histogram!(
        PAYOUT_DURATION,
        Unit::Seconds,
        "From the engine taking a payout to its final state being written."
    );
    describe_gauge!(
        PAYOUTS_IN_FLIGHT,
        "Payouts a route holds: queued, being sent, or awaiting a status query."
    );
    describe_counter!(BATCHES, "Batches that ended, by outcome.");
    describe_gauge!(
        BATCH_LINES_PENDING,
        "Lines the engine took from running batches and has not yet written final."
    );
    describe_gauge!(RUNNING_BATCHES, "Batches the engine is running.");
    describe_counter!(
        OPERATOR_REQUESTS,
        "Calls to an operator, by route, operation (send, query) and status (ok, rejected, not_sent, unknown)."
    );
    describe_histogram!(
        OPERATOR_REQUEST_DURATION,
        Unit::Seconds,
        "How long an operator call took."
    );
    describe_counter!(
        OPERATOR_RETRIES,
        "Operator calls made again, by route and reason (not_sent, unknown)."
    );
    describe_counter!(
        ROUTE_RATE_LIMITED,
        Unit::Seconds,
        "Time sends waited for the route's quota or its open circuit."
    );
    describe_gauge!(ROUTE_CIRCUIT_OPEN, "1 while the route's circuit is open.");
    describe_gauge!(
        PAYOUTS_UNKNOWN,
        "Payouts whose outcome is uncertain: sent, no final answer yet."
    );
    describe_histogram!(JOURNAL_FLUSH_ROWS, "Outcomes written per journal flush.");
    describe_histogram!(
        JOURNAL_FLUSH_DURATION,
        Unit::Seconds,
        "How long a journal flush took, commit included."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "The node's database connections: in_use, idle, and requests waiting for one."
    );
    describe_counter!(
        ACTOR_RESTARTS,
        "Actors restarted by their supervisor, by kind."
    );
    describe_gauge!(
        MAILBOX_DEPTH,
        "Work waiting in actors, by kind: outcomes for the journal, calls for the routes."
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook delivery attempts, by outcome (delivered, failed, gone, exhausted)."
    );
    describe_gauge!(WEBHOOK_BACKLOG, "Webhook events waiting to be delivered.");
    describe_counter!(
        HTTP_REQUESTS,
        "Answered HTTP requests, by matched route and status code."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by matched route."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label says which build runs."
    );
    describe_counter!(
        CALLBACKS,
        "Operator callbacks on capability URLs, by operator and verdict (settled, bad_token, replayed, wrong_amount, wrong_currency, wrong_payee, incomplete, not_final, duplicate, contradicts_final, unknown_payout, untrusted, rate_limited)."
    );
    describe_counter!(
        PAYOUTS_ENDED_BY_CALLBACK,
        "Payouts a route ended on an authenticated callback, to be verified later."
    );
    describe_counter!(
        CALLBACKS_OVERDUE,
        "Payouts whose callback did not come by the route's deadline, so a status query asks."
    );
    describe_counter!(
        VERIFICATIONS,
        "Status queries verifying a callback's outcome, by route and result (agreed, contradicted, pending, unanswered)."
    );
    describe_gauge!(
        VERIFICATION_BACKLOG,
        "Payouts ended on a callback and not yet verified by a status query, by route."
    );
    describe_gauge!(
        VERIFICATION_BACKLOG_AGE,
        Unit::Seconds,
        "Age of the oldest payout waiting for verification, by route."
    );
    describe_gauge!(
        CLUSTER_LIVE_NODES,
        "Nodes whose lease has not expired, as this node saw at its last renewal."
    );
    describe_gauge!(
        CLUSTER_LEASES,
        "Work this node owns by lease, by kind (batches, collections, roles)."
    );
    describe_counter!(
        CLUSTER_TAKEOVERS,
        "Work this node freed from nodes whose lease expired, by kind (nodes, batches, collections)."
    );
    describe_counter!(
        CLUSTER_LEASE_RENEWALS,
        "Renewals of this node's lease, by result (renewed, failed, fenced)."
    );
    describe_gauge!(
        CLUSTER_QUOTA_SHARE,
        "This node's share of a route's per-second quota, by route and call (send, query)."
    );
}
