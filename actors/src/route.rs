//! The route actor: one per operator route. It sends payouts within the route's quota and
//! cap on requests in flight, serving merchants in turn; resends "not sent" lines with the
//! same reference after a jittered backoff; asks for the status of every uncertain line
//! (under the query quota) and never resends one blindly; hands final outcomes to the
//! journal. Operator calls run in tasks and answer as messages; delays use `send_after`.
//!
//! Parent: the supervisor. Children: none.

mod circuit;
mod fair_queue;
mod policy;
mod query_pace;
mod telemetry;

use std::collections::HashMap;
use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use governor::clock::Clock;
use payrail_engine::ids::Reference;
use payrail_engine::operator::{Operator, OperatorError, PayoutRequest, PayoutStatus};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::time::Instant;

pub use policy::{RetryPolicy, RouteConfig};

use crate::job::{Call, Job};
use crate::journal::{Finish, JournalMsg, Outcome};
use circuit::Breaker;
use fair_queue::FairQueue;
use query_pace::QueryPace;
use telemetry::{CallStatus, RetryReason, RouteMetrics};

#[derive(Debug)]
pub enum RouteMsg {
    /// Lines to send or to ask about.
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
}

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
}

#[derive(Debug)]
pub struct RouteState {
    config: RouteConfig,
    policy: RetryPolicy,
    operator: Arc<dyn Operator>,
    journal: ActorRef<JournalMsg>,
    sends: FairQueue<Job>,
    queries: FairQueue<Job>,
    send_quota: DefaultDirectRateLimiter,
    query_pace: QueryPace,
    in_flight: u32,
    /// A `Pump` is already scheduled for when a quota allows more.
    pump_scheduled: bool,
    breaker: Breaker,
    /// Lines waiting for their next status query, each with the ticket of its timer.
    parked: HashMap<Reference, (Job, u64)>,
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
        Ok(RouteState {
            metrics: RouteMetrics::new(args.config.name.as_str(), args.start_open),
            send_quota: policy::limiter(args.config.sends_per_second),
            query_pace: QueryPace::new(args.config.queries_per_second),
            breaker: Breaker::new(
                args.policy.circuit_failures,
                args.policy.circuit_open_for,
                args.start_open,
            ),
            config: args.config,
            policy: args.policy,
            operator: args.operator,
            journal: args.journal,
            sends: FairQueue::default(),
            queries: FairQueue::default(),
            in_flight: 0,
            pump_scheduled: false,
            parked: HashMap::new(),
            next_ticket: 0,
            held: 0,
            uncertain: 0,
            queued: 0,
        })
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
        }
        state.pump(&myself);
        Ok(())
    }
}

impl RouteState {
    fn enqueue(&mut self, job: Job, call: Call) {
        self.queued += 1;
        self.metrics.queued(1.0);
        match call {
            Call::Send => self.sends.push(job.merchant, job),
            Call::Query => self.queries.push(job.merchant, job),
        }
    }

    /// The next job of a queue that has one.
    fn dequeue(&mut self, call: Call) -> Job {
        self.queued -= 1;
        self.metrics.queued(-1.0);
        match call {
            Call::Send => self.sends.pop(),
            Call::Query => self.queries.pop(),
        }
        .expect("not empty")
    }

    /// Starts calls while the cap and the quotas allow; otherwise wakes up when they will.
    fn pump(&mut self, myself: &ActorRef<RouteMsg>) {
        let mut wait = None;
        while self.in_flight < self.config.max_in_flight {
            let query_ready = !self.queries.is_empty() && self.query_pace.allow(&mut wait);
            if query_ready {
                let job = self.dequeue(Call::Query);
                self.call(myself, job, Call::Query);
                continue;
            }
            let send_ready = !self.sends.is_empty()
                && self.circuit_allows(&mut wait)
                && self.send_allowed(&mut wait);
            if send_ready {
                let job = self.dequeue(Call::Send);
                self.call(myself, job, Call::Send);
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

    /// Takes one cell of the send quota, or records how long until one is free.
    fn send_allowed(&self, wait: &mut Option<std::time::Duration>) -> bool {
        match self.send_quota.check() {
            Ok(()) => true,
            Err(not_until) => {
                let until = not_until.wait_time_from(self.send_quota.clock().now());
                *wait = Some(wait.map_or(until, |w: std::time::Duration| w.min(until)));
                false
            }
        }
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
                return self.enqueue(job, Call::Query);
            }
            Answer::Sent(Err(OperatorError::OutcomeUnknown { .. })) | Answer::Queried(Err(_)) => {
                self.metrics.retried(RetryReason::Unknown);
                return self.ask_later(myself, job);
            }
        };
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
                self.ask_later(myself, job);
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

    /// Queries an uncertain line after a backoff, or sends it to review past its deadline.
    fn ask_later(&mut self, myself: &ActorRef<RouteMsg>, mut job: Job) {
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
            let submitted = JournalMsg::Submitted(job.merchant, job.line.id);
            if let Err(error) = self.journal.send_message(submitted) {
                tracing::warn!(route = %self.config.name, %error, "the journal is gone; the line reads as sending");
            }
        }
        job.queries += 1;
        let delay = self.policy.backoff(job.queries);
        let (reference, ticket) = (job.line.reference, self.next_ticket);
        self.next_ticket += 1;
        self.parked.insert(reference, (job, ticket));
        myself.send_after(delay, move || RouteMsg::QueryDue(reference, ticket));
    }

    /// Queues a parked line's status query: when its timer (`ticket`) fires, or at once
    /// for a nudge. A timer whose line a nudge already queued finds a newer ticket, or
    /// nothing, and does nothing.
    fn unpark(&mut self, reference: Reference, ticket: Option<u64>) {
        let due = self
            .parked
            .get(&reference)
            .is_some_and(|(_, parked)| ticket.is_none_or(|ticket| ticket == *parked));
        if let Some((job, _)) = due.then(|| self.parked.remove(&reference)).flatten() {
            self.enqueue(job, Call::Query);
        }
    }

    fn later(&self, myself: &ActorRef<RouteMsg>, job: Job, call: Call, delay: std::time::Duration) {
        myself.send_after(delay, move || RouteMsg::Again(Box::new(job), call));
    }

    fn finish(&mut self, job: Job, finish: Finish) {
        self.held = self.held.saturating_sub(1);
        self.metrics.holding(-1.0);
        if job.uncertain_since.is_some() {
            self.uncertain = self.uncertain.saturating_sub(1);
            self.metrics.uncertain(-1.0);
        }
        if let Err(error) = self
            .journal
            .send_message(JournalMsg::Record(Box::new(Outcome { job, finish })))
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
