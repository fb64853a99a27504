//! The collector: follows every pending collection (a request to pay the customer approves
//! on the phone) until it ends. It sends the request with the collection's reference, polls
//! its status with a growing wait, and records it paid (crediting the merchant), failed or
//! expired. Operator calls and store writes run in tasks that answer as messages (`calls`);
//! waits use `send_after`; the rules live in `plan`. At start, and then at an interval, it
//! picks up every pending collection it does not follow (left by an earlier run, or whose
//! hand-off was lost), asking about each before sending anything. Like the routes, it
//! calls an operator only while the node's lease holds (docs/cluster.md).
//!
//! Parent: the supervisor. Children: none.

mod calls;
mod plan;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use jiff::Timestamp;
use payrail_engine::ids::{CollectionId, MerchantId};
use payrail_engine::operator::{Operator, OperatorError, PaymentStatus};
use payrail_engine::route::RouteName;
use payrail_engine::store::collections::{Collection, CollectionOutcome};
use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::lease::{self, NodeLease};
use plan::{Backoff, Plan, Step};

/// How the collector waits.
#[derive(Clone, Copy, Debug)]
pub struct CollectionSettings {
    /// The first wait before a status query (or a resend); each further one doubles.
    pub poll_first: Duration,
    /// The longest wait between two status queries.
    pub poll_max: Duration,
    /// How often the database is swept for pending collections nobody follows.
    pub sweep_interval: Duration,
}

impl Default for CollectionSettings {
    fn default() -> CollectionSettings {
        CollectionSettings {
            poll_first: Duration::from_secs(1),
            poll_max: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(60),
        }
    }
}

/// Where following a collection starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstStep {
    /// A new collection: send the request to pay.
    Request,
    /// A collection found pending: an earlier run may have sent it, so ask first.
    Query,
}

#[derive(Debug)]
pub enum CollectorMsg {
    /// Follow this collection (just created).
    Collect(MerchantId, CollectionId),
    /// A collection read from the store, to follow unless it already is.
    Follow(Box<Collection>, FirstStep),
    /// Look for pending collections nobody follows.
    Sweep,
    /// `request_payment` answered.
    Requested(CollectionId, Result<PaymentStatus, OperatorError>),
    /// `query_payment` answered.
    Queried(CollectionId, Result<Option<PaymentStatus>, OperatorError>),
    /// The outcome was recorded (or why not).
    Finished(CollectionId, Result<(), String>),
    /// A wait is over: take the collection's next step.
    Due(CollectionId),
}

#[derive(Clone, Debug)]
pub struct CollectorArgs {
    pub pool: Pool,
    /// Each route's operator, by route name: the same as the route actors use.
    pub operators: Arc<HashMap<RouteName, Arc<dyn Operator>>>,
    pub settings: CollectionSettings,
    /// This node's lease: it follows the collections it owns, takes those nobody owns, and
    /// calls operators only while the lease holds.
    pub lease: Arc<NodeLease>,
}

/// One collection being followed.
#[derive(Debug)]
struct Following {
    collection: Collection,
    plan: Plan,
    /// What `Due` does when the current wait ends.
    waiting_for: Action,
}

#[derive(Clone, Debug)]
enum Action {
    Request,
    Query,
    Finish(CollectionOutcome),
}

#[derive(Debug)]
pub struct CollectorState {
    args: CollectorArgs,
    following: HashMap<CollectionId, Following>,
}

/// The collector actor (its state is `CollectorState`).
#[derive(Debug)]
pub struct CollectorActor;

impl Actor for CollectorActor {
    type Msg = CollectorMsg;
    type State = CollectorState;
    type Arguments = CollectorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<CollectorMsg>,
        args: CollectorArgs,
    ) -> Result<CollectorState, ActorProcessingErr> {
        myself.send_interval(args.settings.sweep_interval, || CollectorMsg::Sweep);
        Ok(CollectorState {
            args,
            following: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<CollectorMsg>,
        _state: &mut CollectorState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = myself.send_message(CollectorMsg::Sweep);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<CollectorMsg>,
        message: CollectorMsg,
        state: &mut CollectorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CollectorMsg::Collect(merchant, id) => {
                if !state.following.contains_key(&id) {
                    calls::load(
                        &myself,
                        &state.args.pool,
                        state.args.lease.node(),
                        merchant,
                        id,
                    );
                }
            }
            CollectorMsg::Follow(collection, first) => state.follow(&myself, *collection, first),
            CollectorMsg::Sweep => calls::sweep(&myself, &state.args.pool, state.args.lease.node()),
            CollectorMsg::Requested(id, answer) => {
                let now = Timestamp::now();
                state.step(&myself, id, |plan| plan.after_request(answer, now));
            }
            CollectorMsg::Queried(id, answer) => {
                let now = Timestamp::now();
                state.step(&myself, id, |plan| plan.after_query(answer, now));
            }
            CollectorMsg::Finished(id, recorded) => state.finished(&myself, id, recorded),
            CollectorMsg::Due(id) => state.due(&myself, id),
        }
        Ok(())
    }
}

impl CollectorState {
    /// Starts following a pending collection, unless it already is followed.
    fn follow(
        &mut self,
        myself: &ActorRef<CollectorMsg>,
        collection: Collection,
        first: FirstStep,
    ) {
        if !collection.state.is_final() && !self.following.contains_key(&collection.id) {
            let settings = self.args.settings;
            let backoff = Backoff::new(settings.poll_first, settings.poll_max);
            let action = match first {
                FirstStep::Request => Action::Request,
                FirstStep::Query => Action::Query,
            };
            let id = collection.id;
            let plan = Plan::new(backoff, collection.expires_at);
            self.following.insert(
                id,
                Following {
                    collection,
                    plan,
                    waiting_for: action.clone(),
                },
            );
            self.act(myself, id, action);
        }
    }

    /// Applies the plan's answer to what the operator said.
    fn step(
        &mut self,
        myself: &ActorRef<CollectorMsg>,
        id: CollectionId,
        next: impl FnOnce(&mut Plan) -> Step,
    ) {
        let Some(following) = self.following.get_mut(&id) else {
            return;
        };
        let (action, after) = match next(&mut following.plan) {
            Step::Request { after } => (Action::Request, after),
            Step::Query { after } => (Action::Query, after),
            Step::Finish(outcome) => (Action::Finish(outcome), Duration::ZERO),
        };
        if after.is_zero() {
            self.act(myself, id, action);
        } else {
            following.waiting_for = action;
            myself.send_after(after, move || CollectorMsg::Due(id));
        }
    }

    fn due(&mut self, myself: &ActorRef<CollectorMsg>, id: CollectionId) {
        if let Some(following) = self.following.get(&id) {
            let action = following.waiting_for.clone();
            self.act(myself, id, action);
        }
    }

    /// Starts `action` in a task; its answer comes back as a message.
    fn act(&mut self, myself: &ActorRef<CollectorMsg>, id: CollectionId, action: Action) {
        let Some(following) = self.following.get_mut(&id) else {
            return;
        };
        following.waiting_for = action.clone();
        let collection = &following.collection;
        let operator = self.args.operators.get(&collection.route);
        let lease = &self.args.lease;
        match (action, operator) {
            (Action::Request | Action::Query, Some(_)) if !lease.holds() => {
                // The fencing check of every call: a paused or cut-off node asks nothing
                // until it is renewed; fenced, its engine stops and never asks again.
                if !lease.is_fenced() {
                    myself.send_after(lease::RECHECK, move || CollectorMsg::Due(id));
                }
            }
            (Action::Finish(outcome), _) => {
                calls::finish(myself, &self.args.pool, collection, outcome);
            }
            (Action::Request, Some(operator)) => {
                calls::request(myself, Arc::clone(operator), collection);
            }
            (Action::Query, Some(operator)) => {
                calls::query(myself, Arc::clone(operator), collection);
            }
            (Action::Request | Action::Query, None) => {
                // Kept in `following`, so the sweep does not pick it up again and again.
                tracing::error!(%id, route = %collection.route, "a pending collection's route has no operator here; it waits for a node that has one");
            }
        }
    }

    fn finished(
        &mut self,
        myself: &ActorRef<CollectorMsg>,
        id: CollectionId,
        recorded: Result<(), String>,
    ) {
        match recorded {
            Ok(()) => {
                self.following.remove(&id);
            }
            Err(error) => {
                if let Some(following) = self.following.get_mut(&id) {
                    let after = following.plan.store_retry();
                    tracing::warn!(%id, %error, retry_in = ?after, "could not record how a collection ended");
                    myself.send_after(after, move || CollectorMsg::Due(id));
                }
            }
        }
    }
}
