//! The route actor: one per operator route. It sends payouts within this node's share of
//! the route's quota (`share`) and its cap on requests in flight, single payouts first and
//! merchants in turn (`send_lanes`); resends "not sent" lines with the same reference
//! after a jittered backoff; asks for the status of every uncertain line
//! (under the query quota, spent in priority order: `query_lanes`) and never resends one
//! blindly; ends a line at once on an authenticated callback (waiting for one until the
//! route's callback deadline before asking), and verifies such lines later with the query
//! budget left over; hands final outcomes to the journal. Operator calls run in tasks and
//! answer as messages; delays use `send_after`.
//!
//! Parent: the supervisor. Children: none.

mod circuit;
mod fair_queue;
pub(crate) mod policy;
mod query_lanes;
mod query_pace;
mod send_lanes;
pub(crate) mod share;
mod telemetry;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use governor::clock::Clock;
use payrail_engine::ids::Reference;
use payrail_engine::operator::{Operator, OperatorError, PayoutRequest, PayoutStatus};
use payrail_engine::store::callback_settlements::Unverified;
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef};
use tokio::time::Instant;

pub use policy::{RetryPolicy, RouteConfig};

use crate::job::{Call, Job, Verified};
use crate::journal::{Finish, JournalMsg, Outcome};
use crate::lease::{self, NodeLease};
use circuit::Breaker;
use query_lanes::{Lane, NextQuery, QueryLanes, Verification};
use query_pace::QueryPace;
use send_lanes::SendLanes;
use share::RouteShare;
use telemetry::{CallStatus, RetryReason, RouteMetrics};

#[derive(Debug)]
pub enum RouteMsg {
    /// Lines to send or to ask about (lines recovered after a crash or a restart: their
    /// outcome is unknown).
    Submit(Vec<(Job, Call)>),
    /// Send what the quotas and the in-flight cap allow now.
    Pump,
    /// An operator call came back.
    Answered(Box<Job>, Answer),
    /// A backoff is over: try the line again.
    Again(Box<Job>, Call),
    /// A parked line's status query is due (unless a nudge already sent it on its way).
    QueryDue(Reference, u64),
    /// The operator called back about this reference: ask about it now rather than when
    /// its backoff ends. A callback proves nothing by itself; the answer to the query does.
    Nudge(Reference),
    /// The operator said, in an authenticated callback, how this reference ended.
    CalledBack(Reference, PayoutStatus),
    /// Payouts ended on callbacks, to verify with the query budget left over; the answers
    /// go to `DerivedActorRef<Verified>`.
    Verify(Vec<Unverified>, DerivedActorRef<Verified>),
    /// A verification's status query came back.
    VerifyAnswered(
        Box<Verification>,
        Result<Option<PayoutStatus>, OperatorError>,
    ),
    /// This node's share of the quotas changed (`RouteShare::applied`).
    Regranted,
}

/// Callback outcomes kept for lines in flight before old ones are forgotten (those of
/// lines this route never held, or held no more).
const CALLED_BACK_MAX: usize = 100_000;
const CALLED_BACK_KEPT: std::time::Duration = std::time::Duration::from_secs(600);
/// How often the query lanes are searched for lines a callback ended.
const QUEUE_SCAN_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

#[derive(Debug)]
pub enum Answer {
    Sent(Result<PayoutStatus, OperatorError>),
    Queried(Result<Option<PayoutStatus>, OperatorError>),
}

#[derive(Debug, Clone)]
pub struct RouteArgs {
    pub config: RouteConfig,
    pub policy: RetryPolicy,
    pub operator: Arc<dyn Operator>,
    pub journal: ActorRef<JournalMsg>,
    /// Start with the circuit open (a route restarted too often).
    pub start_open: bool,
    /// This node's lease: nothing leaves while it does not hold.
    pub lease: Arc<NodeLease>,
    /// This node's share of the route's quotas, which the membership actor sets.
    pub share: Arc<RouteShare>,
}

#[derive(Debug)]
pub struct RouteState {
    config: RouteConfig,
    policy: RetryPolicy,
    operator: Arc<dyn Operator>,
    journal: ActorRef<JournalMsg>,
    lease: Arc<NodeLease>,
    share: Arc<RouteShare>,
    /// The sends and queries per second this node's share allows.
    applied: Option<(u32, u32)>,
    sends: SendLanes<Job>,
    queries: QueryLanes,
    /// `None` while the node holds no share of the send quota.
    send_quota: Option<DefaultDirectRateLimiter>,
    query_pace: QueryPace,
    in_flight: u32,
    /// A `Pump` is already scheduled for when a quota allows more.
    pump_scheduled: bool,
    breaker: Breaker,
    /// Lines waiting for their next status query, each with the ticket of its timer and
    /// the lane its query will wait in.
    parked: HashMap<Reference, (Job, u64, Lane)>,
    /// Outcomes authenticated callbacks gave lines that were not parked (in flight or
    /// queued): each is taken when its line comes back or comes up.
    called_back: HashMap<Reference, (PayoutStatus, Instant)>,
    /// A callback came for a line not parked: the query lanes may hold it.
    callbacks_unmatched: bool,
    queue_scanned_at: Instant,
    next_ticket: u64,
    metrics: RouteMetrics,
    /// Payouts this actor holds, and of them those uncertain, and calls queued: what its
    /// gauges get back when it stops.
    held: u32,
    uncertain: u32,
    queued: u32,
}

/// The route actor (its state is `RouteState`).
#[derive(Debug)]
pub struct RouteActor;

impl Actor for RouteActor {
    type Msg = RouteMsg;
    type State = RouteState;
    type Arguments = RouteArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<RouteMsg>,
        args: RouteArgs,
    ) -> Result<RouteState, ActorProcessingErr> {
        let mut state = RouteState {
            metrics: RouteMetrics::new(args.config.name.as_str(), args.start_open),
            send_quota: None,
            query_pace: QueryPace::new(args.config.queries_per_second),
            lease: args.lease,
            share: args.share,
            // Not applied yet: `regranted` below applies the node's share.
            applied: None,
            breaker: Breaker::new(
                args.policy.circuit_failures,
                args.policy.circuit_open_for,
                args.start_open,
            ),
            config: args.config,
            policy: args.policy,
            operator: args.operator,
            journal: args.journal,
            sends: SendLanes::default(),
            queries: QueryLanes::default(),
            in_flight: 0,
            pump_scheduled: false,
            parked: HashMap::new(),
            called_back: HashMap::new(),
            callbacks_unmatched: false,
            queue_scanned_at: Instant::now(),
            next_ticket: 0,
            held: 0,
            uncertain: 0,
            queued: 0,
        };
        state.regranted();
        Ok(state)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<RouteMsg>,
        state: &mut RouteState,
    ) -> Result<(), ActorProcessingErr> {
        // What it held goes to the recovery sweep; its replacement counts it again.
        state.metrics.holding(-f64::from(state.held));
        state.metrics.uncertain(-f64::from(state.uncertain));
        state.metrics.queued(-f64::from(state.queued));
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<RouteMsg>,
        message: RouteMsg,
        state: &mut RouteState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RouteMsg::Submit(jobs) => {
                let taken = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
                state.held += taken;
                state.metrics.holding(f64::from(taken));
                jobs.into_iter()
                    .for_each(|(job, call)| state.enqueue(job, call));
            }
            RouteMsg::Pump => state.pump_scheduled = false,
            RouteMsg::Answered(job, answer) => {
                state.in_flight -= 1;
                state.answered(&myself, *job, answer);
            }
            RouteMsg::Again(job, call) => state.enqueue(*job, call),
            RouteMsg::QueryDue(reference, ticket) => state.unpark(reference, Some(ticket)),
            RouteMsg::Nudge(reference) => state.unpark(reference, None),
            RouteMsg::CalledBack(reference, outcome) => state.called_back(reference, outcome),
            RouteMsg::Verify(payouts, reply_to) => {
                for unverified in payouts {
                    state.queries.verify((unverified, reply_to.clone()), false);
                }
                state.metrics.verifications(state.queries.verifications());
            }
            RouteMsg::VerifyAnswered(verification, answer) => {
                state.in_flight -= 1;
                state.verify_answered(*verification, answer);
            }
            RouteMsg::Regranted => state.regranted(),
        }
        state.pump(&myself);
        Ok(())
    }
}

impl RouteState {
    /// Queues a send, or a query whose outcome is unknown (what `Submit` brings).
    fn enqueue(&mut self, job: Job, call: Call) {
        match call {
            Call::Send => {
                self.queued += 1;
                self.metrics.queued(1.0);
                self.sends.push(job.merchant, job.single, job);
            }
            Call::Query => self.enqueue_query(job, Lane::Unknown),
        }
    }

    /// Queues a status query, unless a callback already said how the line ended.
    fn enqueue_query(&mut self, job: Job, lane: Lane) {
        let Some(job) = self.take_called_back(job) else {
            return;
        };
        self.queued += 1;
        self.metrics.queued(1.0);
        self.queries.push(job, lane);
    }

    fn dequeued(&mut self) {
        self.queued -= 1;
        self.metrics.queued(-1.0);
    }

    /// An authenticated callback said how `reference` ended: a parked line ends now; a
    /// line in flight or queued ends when it comes back or comes up (unless the operator's
    /// own answer says first); a line this route does not hold is left alone.
    fn called_back(&mut self, reference: Reference, outcome: PayoutStatus) {
        if let Some((job, _, _)) = self.parked.remove(&reference) {
            return self.finish_called_back(job, outcome);
        }
        if self.called_back.len() >= CALLED_BACK_MAX {
            let now = Instant::now();
            self.called_back
                .retain(|_, (_, at)| now.duration_since(*at) < CALLED_BACK_KEPT);
        }
        self.called_back
            .insert(reference, (outcome, Instant::now()));
        self.callbacks_unmatched = true;
    }

    /// Ends the queued lines whose callback came while they waited for a status query
    /// (lines recovered after a crash, mostly), so they spend none of the query budget.
    /// At most every `QUEUE_SCAN_EVERY`, as it walks the query lanes.
    fn end_queued_called_back(&mut self) {
        if !self.callbacks_unmatched || self.queue_scanned_at.elapsed() < QUEUE_SCAN_EVERY {
            return;
        }
        self.callbacks_unmatched = false;
        self.queue_scanned_at = Instant::now();
        let called_back = &self.called_back;
        let ended = self
            .queries
            .extract(|job| called_back.contains_key(&job.line.reference));
        for job in ended {
            self.dequeued();
            self.enqueue_query(job, Lane::Unknown);
        }
    }

    /// Ends `job` on a callback's outcome, if one came for it; gives the job back if not.
    fn take_called_back(&mut self, job: Job) -> Option<Job> {
        match self.called_back.remove(&job.line.reference) {
            Some((outcome, _)) => {
                self.finish_called_back(job, outcome);
                None
            }
            None => Some(job),
        }
    }

    fn finish_called_back(&mut self, job: Job, outcome: PayoutStatus) {
        let finish = match outcome {
            PayoutStatus::Succeeded {
                operator_transaction_id,
            } => Finish::Succeeded {
                transaction_id: operator_transaction_id,
            },
            PayoutStatus::Failed { code } => Finish::Failed { code },
            // Only a final word is passed on as a callback's outcome.
            PayoutStatus::Pending => {
                self.queued += 1;
                self.metrics.queued(1.0);
                return self.queries.push(job, Lane::Overdue);
            }
        };
        self.metrics.ended_by_callback();
        self.end(job, finish, true);
    }

    /// A verification's answer goes to whoever asked, unless the operator asked for fewer
    /// queries: then it waits its turn again.
    fn verify_answered(
        &mut self,
        verification: Verification,
        answer: Result<Option<PayoutStatus>, OperatorError>,
    ) {
        self.metrics.answered(Call::Query, CallStatus::of(&answer));
        if let Err(OperatorError::NotSent {
            retry_after_ms: Some(retry_after_ms),
            ..
        }) = answer
        {
            let hold =
                std::time::Duration::from_millis(retry_after_ms).min(self.policy.backoff_max);
            self.query_pace.refused(hold);
            self.queries.verify(verification, true);
            return;
        }
        let (unverified, reply_to) = verification;
        let _ = reply_to.send_message(Verified { unverified, answer });
        self.metrics.verifications(self.queries.verifications());
    }

    /// Applies this node's share of the route's quotas, if it changed.
    fn regranted(&mut self) {
        let applied = self.share.applied();
        if self.applied == Some(applied) {
            return;
        }
        self.applied = Some(applied);
        let (sends, queries) = applied;
        self.send_quota = NonZeroU32::new(sends).map(policy::limiter);
        self.query_pace.share(queries);
        self.metrics.quota_share(sends, queries);
        tracing::info!(route = %self.config.name, sends, queries, "this node's share of the route's quotas changed");
    }

    /// Starts calls while the node's lease holds and the cap and the quotas allow;
    /// otherwise wakes up when they will.
    fn pump(&mut self, myself: &ActorRef<RouteMsg>) {
        self.end_queued_called_back();
        // The fencing check of every call: a node whose lease may have run out (a pause, a
        // partition) sends and asks nothing until it is renewed; fenced, it never will.
        if !self.lease.holds() {
            let waiting = !self.sends.is_empty() || !self.queries.is_empty();
            if waiting && !self.lease.is_fenced() && !self.pump_scheduled {
                self.pump_scheduled = true;
                myself.send_after(lease::RECHECK, || RouteMsg::Pump);
            }
            return;
        }
        let mut wait = None;
        while self.in_flight < self.config.max_in_flight {
            let query_ready = !self.queries.is_empty() && self.query_allowed(&mut wait);
            if query_ready {
                match self.queries.pop().expect("not empty") {
                    NextQuery::Line(job) => {
                        self.dequeued();
                        if let Some(job) = self.take_called_back(job) {
                            self.call(myself, job, Call::Query);
                        }
                    }
                    NextQuery::Verification(verification) => self.verify(myself, verification),
                }
                continue;
            }
            let send_ready = !self.sends.is_empty()
                && self.circuit_allows(&mut wait)
                && self.send_allowed(&mut wait);
            if send_ready {
                let job = self.sends.pop().expect("not empty");
                self.dequeued();
                if let Some(job) = self.take_called_back(job) {
                    self.call(myself, job, Call::Send);
                }
                continue;
            }
            break;
        }
        if let Some(wait) = wait.filter(|_| !self.pump_scheduled) {
            tracing::trace!(route = %self.config.name, ?wait, "quota or circuit holds sends back");
            if !self.sends.is_empty() {
                self.metrics.held_back(wait);
            }
            self.pump_scheduled = true;
            myself.send_after(wait, || RouteMsg::Pump);
        }
    }

    /// Whether the circuit lets a send leave; records how long until it may, if not.
    fn circuit_allows(&mut self, wait: &mut Option<std::time::Duration>) -> bool {
        match self.breaker.allow() {
            Ok(()) => true,
            Err(until) => {
                *wait = Some(wait.map_or(until, |w: std::time::Duration| w.min(until)));
                false
            }
        }
    }

    /// Takes one cell of the send quota, or records how long until one is free (none
    /// while the node holds no share: a new share pumps again) and that it held one back.
    fn send_allowed(&self, wait: &mut Option<std::time::Duration>) -> bool {
        let Some(quota) = &self.send_quota else {
            self.share.sends_held_back();
            return false;
        };
        match quota.check() {
            Ok(()) => true,
            Err(not_until) => {
                self.share.sends_held_back();
                let until = not_until.wait_time_from(quota.clock().now());
                *wait = Some(wait.map_or(until, |w: std::time::Duration| w.min(until)));
                false
            }
        }
    }

    /// Takes one cell of the query pace, or records how long until one is free and that it
    /// held one back.
    fn query_allowed(&mut self, wait: &mut Option<std::time::Duration>) -> bool {
        let allowed = self.query_pace.allow(wait);
        if !allowed {
            self.share.queries_held_back();
        }
        allowed
    }

    fn call(&mut self, myself: &ActorRef<RouteMsg>, job: Job, call: Call) {
        self.in_flight += 1;
        let operator = Arc::clone(&self.operator);
        let myself = myself.clone();
        let (request, reference) = (request(&job), job.line.reference);
        let duration = self.metrics.duration(call);
        tokio::spawn(async move {
            let started = Instant::now();
            // The call runs in a task of its own: if the operator code panics, the line is
            // not lost but becomes uncertain, and is asked about like any other.
            let answer = match call {
                Call::Send => {
                    tokio::spawn(async move { Answer::Sent(operator.send_payout(&request).await) })
                        .await
                }
                Call::Query => {
                    tokio::spawn(
                        async move { Answer::Queried(operator.query_payout(reference).await) },
                    )
                    .await
                }
            };
            let answer = answer.unwrap_or_else(|_| {
                tracing::error!(payout_id = %job.line.id, "the operator call panicked; the outcome is unknown");
                Answer::Sent(Err(OperatorError::OutcomeUnknown { elapsed_ms: 0 }))
            });
            duration.record(started.elapsed());
            let _ = myself.send_message(RouteMsg::Answered(Box::new(job), answer));
        });
    }

    /// Asks the operator about a payout a callback ended, in a task of its own.
    fn verify(&mut self, myself: &ActorRef<RouteMsg>, verification: Verification) {
        self.in_flight += 1;
        let operator = Arc::clone(&self.operator);
        let myself = myself.clone();
        let reference = verification.0.reference;
        let duration = self.metrics.duration(Call::Query);
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = tokio::spawn(async move { operator.query_payout(reference).await })
                .await
                .unwrap_or(Err(OperatorError::OutcomeUnknown { elapsed_ms: 0 }));
            duration.record(started.elapsed());
            let _ = myself.send_message(RouteMsg::VerifyAnswered(Box::new(verification), answer));
        });
    }

    fn answered(&mut self, myself: &ActorRef<RouteMsg>, mut job: Job, answer: Answer) {
        match &answer {
            Answer::Sent(result) => {
                self.metrics.answered(Call::Send, CallStatus::of(result));
                self.watch_circuit(result);
            }
            Answer::Queried(result) => self.metrics.answered(Call::Query, CallStatus::of(result)),
        }
        let status = match answer {
            Answer::Sent(Ok(status)) | Answer::Queried(Ok(Some(status))) => status,
            Answer::Sent(Err(OperatorError::Rejected { code })) => {
                self.called_back.remove(&job.line.reference);
                return self.finish(job, Finish::Failed { code });
            }
            Answer::Sent(Err(OperatorError::NotSent { retry_after_ms, .. })) => {
                job.not_sent += 1;
                if job.not_sent > self.policy.not_sent_max {
                    return self.finish(
                        job,
                        Finish::Failed {
                            code: "NOT_SENT".into(),
                        },
                    );
                }
                let delay = retry_after_ms.map_or_else(
                    || self.policy.backoff(job.not_sent),
                    std::time::Duration::from_millis,
                );
                self.metrics.retried(RetryReason::NotSent);
                return self.later(myself, job, Call::Send, delay);
            }
            // The operator never created it: a resend with the same reference is safe.
            Answer::Queried(Ok(None)) => {
                self.metrics.retried(RetryReason::NotSent);
                return self.enqueue(job, Call::Send);
            }
            // Over the operator's status-query quota: every query waits as long as it asks,
            // and this one goes back in the queue without counting as an attempt.
            Answer::Queried(Err(OperatorError::NotSent {
                retry_after_ms: Some(retry_after_ms),
                ..
            })) => {
                // Capped: an operator asking for an hour still gets asked again.
                let hold =
                    std::time::Duration::from_millis(retry_after_ms).min(self.policy.backoff_max);
                let pace = self.query_pace.refused(hold);
                tracing::debug!(route = %self.config.name, retry_after_ms, %pace, "the operator asks for fewer status queries");
                self.metrics.retried(RetryReason::NotSent);
                let lane = if job.accepted {
                    Lane::Overdue
                } else {
                    Lane::Unknown
                };
                return self.enqueue_query(job, lane);
            }
            Answer::Sent(Err(OperatorError::OutcomeUnknown { .. })) | Answer::Queried(Err(_)) => {
                let Some(job) = self.take_called_back(job) else {
                    return;
                };
                self.metrics.retried(RetryReason::Unknown);
                let lane = if job.accepted {
                    Lane::Overdue
                } else {
                    Lane::Unknown
                };
                return self.ask_later(myself, job, lane);
            }
        };
        if !matches!(status, PayoutStatus::Pending) {
            // The operator's own answer is the outcome; a callback's word is not needed.
            self.called_back.remove(&job.line.reference);
        }
        match status {
            PayoutStatus::Succeeded {
                operator_transaction_id,
            } => {
                self.finish(
                    job,
                    Finish::Succeeded {
                        transaction_id: operator_transaction_id,
                    },
                );
            }
            PayoutStatus::Failed { code } => self.finish(job, Finish::Failed { code }),
            PayoutStatus::Pending => {
                job.accepted = true;
                if let Some(job) = self.take_called_back(job) {
                    self.ask_later(myself, job, Lane::Overdue);
                }
            }
        }
    }

    /// Opens the circuit when sends stop getting through, closes it when one is answered.
    /// Only "not sent" counts against the operator: an unknown outcome may be an answer
    /// (MTN's 409 for a reference it already has), and is settled by a status query; as a
    /// trial it only lets the next trial go.
    fn watch_circuit(&mut self, result: &Result<PayoutStatus, OperatorError>) {
        let route = &self.config.name;
        match result {
            Ok(_) | Err(OperatorError::Rejected { .. }) => {
                if self.breaker.answered() {
                    self.metrics.circuit(false);
                    tracing::info!(%route, "the operator answers again; circuit closed");
                }
            }
            Err(OperatorError::NotSent { .. }) => {
                if self.breaker.failed() {
                    self.metrics.circuit(true);
                    tracing::warn!(%route, "sends are not getting through; circuit open");
                }
            }
            Err(OperatorError::OutcomeUnknown { .. }) => self.breaker.inconclusive(),
        }
    }

    /// Queries an uncertain line after a backoff (a line the operator accepted on a route
    /// that calls back: after the callback deadline, the first time), or sends it to
    /// review past its deadline. The query will wait in `lane`.
    fn ask_later(&mut self, myself: &ActorRef<RouteMsg>, mut job: Job, lane: Lane) {
        if job.uncertain_since.is_none() {
            self.uncertain += 1;
            self.metrics.uncertain(1.0);
        }
        let since = *job.uncertain_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.policy.review_after {
            return self.finish(job, Finish::RequiresReview);
        }
        // A line the operator has, and has not finished for a while, reads as `submitted`
        // rather than `sending`; a line that ends quickly never costs this write.
        if job.accepted && !job.marked_submitted && since.elapsed() >= self.policy.submitted_after {
            job.marked_submitted = true;
            let lane = crate::journal::Lane::of(job.single);
            let submitted = JournalMsg::Submitted(lane, job.merchant, job.line.id);
            if let Err(error) = self.journal.send_message(submitted) {
                tracing::warn!(route = %self.config.name, %error, "the journal is gone; the line reads as sending");
            }
        }
        let delay = match self.config.callback_deadline {
            Some(deadline) if lane == Lane::Overdue && !job.waited_for_callback => {
                job.waited_for_callback = true;
                deadline
            }
            _ => {
                job.queries += 1;
                self.policy.backoff(job.queries)
            }
        };
        let (reference, ticket) = (job.line.reference, self.next_ticket);
        self.next_ticket += 1;
        self.parked.insert(reference, (job, ticket, lane));
        myself.send_after(delay, move || RouteMsg::QueryDue(reference, ticket));
    }

    /// Queues a parked line's status query: when its timer (`ticket`) fires, or at once
    /// for a nudge. A timer whose line a nudge already queued finds a newer ticket, or
    /// nothing, and does nothing.
    fn unpark(&mut self, reference: Reference, ticket: Option<u64>) {
        let due = self
            .parked
            .get(&reference)
            .is_some_and(|(_, parked, _)| ticket.is_none_or(|ticket| ticket == *parked));
        if let Some((job, _, lane)) = due.then(|| self.parked.remove(&reference)).flatten() {
            if job.waited_for_callback && job.queries == 0 {
                self.metrics.callback_overdue();
            }
            self.enqueue_query(job, lane);
        }
    }

    fn later(&self, myself: &ActorRef<RouteMsg>, job: Job, call: Call, delay: std::time::Duration) {
        myself.send_after(delay, move || RouteMsg::Again(Box::new(job), call));
    }

    fn finish(&mut self, job: Job, finish: Finish) {
        self.end(job, finish, false);
    }

    /// Hands a line's outcome to the journal; `by_callback` when an authenticated
    /// callback gave it.
    fn end(&mut self, job: Job, finish: Finish, by_callback: bool) {
        self.held = self.held.saturating_sub(1);
        self.metrics.holding(-1.0);
        if job.uncertain_since.is_some() {
            self.uncertain = self.uncertain.saturating_sub(1);
            self.metrics.uncertain(-1.0);
        }
        if let Err(error) = self
            .journal
            .send_message(JournalMsg::Record(Box::new(Outcome {
                job,
                finish,
                by_callback,
            })))
        {
            tracing::error!(route = %self.config.name, %error, "the journal is gone; the line stays sending until recovery");
        }
    }
}

fn request(job: &Job) -> PayoutRequest {
    PayoutRequest {
        reference: job.line.reference,
        payout: job.line.id,
        msisdn: job.line.msisdn.clone(),
        amount: job.line.amount,
        currency: job.currency,
        note: None,
    }
}
