//! The verifier: keeps each route that trusts callbacks supplied with payouts to verify,
//! oldest first, at most `OUTSTANDING_MAX` at a time, so verification spends only the query
//! budget the route has left over (the route serves them last). Answers come back as
//! `Verified`: an agreeing one marks the payout verified; a contradicting one goes to
//! `app::verification::contradicted` (correction, review, metric and alert). It also
//! reports the backlog's size and age. Database work runs in tasks that answer as messages.
//!
//! Parent: the supervisor. Children: none.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use metrics::{counter, gauge};
use payrail_engine::app::verification;
use payrail_engine::ids::PayoutId;
use payrail_engine::metrics as names;
use payrail_engine::operator::PayoutStatus;
use payrail_engine::route::RouteName;
use payrail_engine::store::callback_settlements::{OperatorSays, Unverified};
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef};
use tokio::time::Instant;

use crate::directory::RouteDirectory;
use crate::job::Verified;
use crate::lease::NodeLease;
use crate::route::RouteMsg;

/// Verifications handed to one route and not yet answered.
const OUTSTANDING_MAX: usize = 64;
/// How often routes are topped up and the backlog is measured.
const TICK: Duration = Duration::from_millis(500);
const MEASURE_EVERY: Duration = Duration::from_secs(5);
/// A verification not answered this long (its route restarted) is handed out again.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub enum VerifierMsg {
    Tick,
    /// Payouts read from the backlog for `route`.
    Loaded(RouteName, Vec<Unverified>),
    /// A route's status query answered.
    Answered(Box<Verified>),
    /// Agreeing answers were written (or failed to be, and wait for the next write).
    Written(Result<(), Vec<PayoutId>>),
}

impl From<Verified> for VerifierMsg {
    fn from(verified: Verified) -> VerifierMsg {
        VerifierMsg::Answered(Box::new(verified))
    }
}

impl TryFrom<VerifierMsg> for Verified {
    type Error = VerifierMsg;

    fn try_from(message: VerifierMsg) -> Result<Verified, VerifierMsg> {
        match message {
            VerifierMsg::Answered(verified) => Ok(*verified),
            other => Err(other),
        }
    }
}

#[derive(Clone, Debug)]
pub struct VerifierArgs {
    pub pool: Pool,
    pub directory: Arc<RouteDirectory>,
    /// This node's lease: only the node holding the verifier role reads the backlog.
    pub lease: Arc<NodeLease>,
    /// The routes whose operator's callbacks are trusted.
    pub routes: Vec<RouteName>,
}

#[derive(Debug)]
pub struct VerifierState {
    args: VerifierArgs,
    /// Per route: payouts handed out, and when.
    outstanding: HashMap<RouteName, HashMap<PayoutId, Instant>>,
    /// Routes whose backlog is being read.
    loading: Vec<RouteName>,
    /// Agreeing answers not yet written, and whether a write runs.
    agreed: Vec<PayoutId>,
    writing: bool,
    measured_at: Option<Instant>,
}

/// The verifier actor (its state is `VerifierState`).
#[derive(Debug)]
pub struct Verifier;

impl Actor for Verifier {
    type Msg = VerifierMsg;
    type State = VerifierState;
    type Arguments = VerifierArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<VerifierMsg>,
        args: VerifierArgs,
    ) -> Result<VerifierState, ActorProcessingErr> {
        myself.send_interval(TICK, || VerifierMsg::Tick);
        Ok(VerifierState {
            outstanding: args
                .routes
                .iter()
                .map(|r| (r.clone(), HashMap::new()))
                .collect(),
            args,
            loading: Vec::new(),
            agreed: Vec::new(),
            writing: false,
            measured_at: None,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<VerifierMsg>,
        message: VerifierMsg,
        state: &mut VerifierState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            VerifierMsg::Tick => state.tick(&myself),
            VerifierMsg::Loaded(route, payouts) => state.loaded(&myself, route, payouts),
            VerifierMsg::Answered(verified) => state.answered(*verified),
            VerifierMsg::Written(result) => {
                state.writing = false;
                if let Err(payouts) = result {
                    state.agreed.extend(payouts);
                }
            }
        }
        state.write_agreed(&myself);
        Ok(())
    }
}

impl VerifierState {
    fn tick(&mut self, myself: &ActorRef<VerifierMsg>) {
        let now = Instant::now();
        let verifying = self.args.lease.is_verifier();
        for (route, outstanding) in &mut self.outstanding {
            if !verifying {
                // Another node holds the role; what was handed out is still answered.
                continue;
            }
            outstanding.retain(|_, handed| now.duration_since(*handed) < ANSWER_WITHIN);
            if outstanding.len() > OUTSTANDING_MAX / 2 || self.loading.contains(route) {
                continue;
            }
            self.loading.push(route.clone());
            let taken: Vec<PayoutId> = outstanding.keys().copied().collect();
            let limit = (OUTSTANDING_MAX - outstanding.len()) as i64;
            let (pool, route, myself) = (self.args.pool.clone(), route.clone(), myself.clone());
            tokio::spawn(async move {
                let payouts = verification::backlog(&pool, &route, &taken, limit)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::warn!(%route, %error, "could not read the verification backlog");
                        Vec::new()
                    });
                let _ = myself.send_message(VerifierMsg::Loaded(route, payouts));
            });
        }
        if self
            .measured_at
            .is_none_or(|at| now.duration_since(at) >= MEASURE_EVERY)
        {
            self.measured_at = Some(now);
            self.measure();
        }
    }

    fn loaded(
        &mut self,
        myself: &ActorRef<VerifierMsg>,
        route: RouteName,
        payouts: Vec<Unverified>,
    ) {
        self.loading.retain(|r| *r != route);
        if payouts.is_empty() {
            return;
        }
        let Some(actor) = self.args.directory.get(&route) else {
            return;
        };
        let outstanding = self.outstanding.entry(route).or_default();
        let now = Instant::now();
        outstanding.extend(payouts.iter().map(|p| (p.payout, now)));
        let reply_to: DerivedActorRef<Verified> = myself.get_derived();
        let _ = actor.send_message(RouteMsg::Verify(payouts, reply_to));
    }

    fn answered(&mut self, verified: Verified) {
        let Verified { unverified, answer } = verified;
        if let Some(outstanding) = self.outstanding.get_mut(&unverified.route) {
            outstanding.remove(&unverified.payout);
        }
        let says = match answer {
            Ok(Some(PayoutStatus::Succeeded { .. })) => OperatorSays::Succeeded,
            Ok(Some(PayoutStatus::Failed { .. })) => OperatorSays::Failed,
            Ok(None) => OperatorSays::NotFound,
            // Not final yet at the operator, or no answer: asked again on a later round.
            Ok(Some(PayoutStatus::Pending)) => return self.count(&unverified.route, "pending"),
            Err(_) => return self.count(&unverified.route, "unanswered"),
        };
        let agrees = match says {
            OperatorSays::Succeeded => unverified.succeeded,
            OperatorSays::Failed => !unverified.succeeded,
            OperatorSays::NotFound => false,
        };
        if agrees {
            self.count(&unverified.route, "agreed");
            self.agreed.push(unverified.payout);
            return;
        }
        self.count(&unverified.route, "contradicted");
        let pool = self.args.pool.clone();
        tokio::spawn(async move {
            match verification::contradicted(&pool, &unverified, says).await {
                Ok(found) => tracing::error!(
                    payout_id = %unverified.payout,
                    route = %unverified.route,
                    callback_said_paid = unverified.succeeded,
                    operator_says = says.as_str(),
                    correction = ?found.correction,
                    to_review = found.to_review,
                    "a status query contradicts the callback a payout was ended on; it is held for review"
                ),
                Err(error) => tracing::error!(
                    payout_id = %unverified.payout, %error,
                    "could not send a contradicted payout to review; it is verified again later"
                ),
            }
        });
    }

    fn count(&self, route: &RouteName, result: &'static str) {
        counter!(names::VERIFICATIONS, "route" => route.as_str().to_owned(), "result" => result)
            .increment(1);
    }

    /// Writes the agreeing answers gathered so far, one write at a time.
    fn write_agreed(&mut self, myself: &ActorRef<VerifierMsg>) {
        if self.writing || self.agreed.is_empty() {
            return;
        }
        self.writing = true;
        let payouts = std::mem::take(&mut self.agreed);
        let (pool, myself) = (self.args.pool.clone(), myself.clone());
        tokio::spawn(async move {
            let result = match verification::agreed(&pool, &payouts).await {
                Ok(()) => Ok(()),
                Err(error) => {
                    tracing::warn!(%error, "could not mark verified payouts; trying again");
                    Err(payouts)
                }
            };
            let _ = myself.send_message(VerifierMsg::Written(result));
        });
    }

    /// Sets the backlog gauges of every route (0 for one with nothing waiting).
    fn measure(&self) {
        let (pool, routes) = (self.args.pool.clone(), self.args.routes.clone());
        tokio::spawn(async move {
            let Ok(sizes) = verification::backlog_sizes(&pool).await else {
                return;
            };
            for route in routes {
                let (waiting, age) = sizes
                    .iter()
                    .find(|(name, _, _)| name == route.as_str())
                    .map_or((0, 0.0), |(_, waiting, age)| (*waiting, *age));
                let label = route.as_str().to_owned();
                gauge!(names::VERIFICATION_BACKLOG, "route" => label.clone()).set(waiting as f64);
                gauge!(names::VERIFICATION_BACKLOG_AGE, "route" => label).set(age);
            }
        });
    }
}
