//! The running engine as the use cases see it: a port that `payrail-actors` implements, the
//! way `Operator` is a port that `payrail-adapters` implement. A process without an engine
//! (the command line, a test of the API alone) uses `Detached`: what it hands over waits
//! for the sweep of a node that runs one.

use std::fmt::Debug;

use deadpool_postgres::Pool;

use super::AppError;
use super::singles::{self, SinglePayout, Written};
use crate::ids::{BatchId, CollectionId, MerchantId, Reference};
use crate::operator::PayoutStatus;
use crate::route::RouteName;

/// What the use cases ask of the running engine. Every method but `write_single` only
/// brings work forward: the engine's sweeps find the same work a little later.
#[async_trait::async_trait]
pub trait EnginePort: Send + Sync + Debug {
    /// Whether an engine runs in this process to take what only a running engine can:
    /// an operator's callback must be sent again later to a process without one.
    fn available(&self) -> Result<(), AppError> {
        Ok(())
    }

    /// Pays a batch now (scheduled, approved, or awaiting funds); harmless twice.
    fn run_batch(&self, merchant: MerchantId, batch: BatchId);

    /// Sends a new collection's request to pay and follows it to its end.
    fn collect(&self, merchant: MerchantId, collection: CollectionId);

    /// Asks `route` about `reference` now: its operator called back about it. Refused when
    /// no engine runs here, so the operator calls back again later.
    fn nudge(&self, route: &RouteName, reference: Reference) -> Result<(), AppError>;

    /// `route`'s operator said, in an authenticated callback, that `reference` ended with
    /// `outcome` (succeeded or failed): the route ends the line it holds at once. A line it
    /// does not hold (final, in review, or another node's) is left to its status queries.
    fn called_back(
        &self,
        route: &RouteName,
        reference: Reference,
        outcome: PayoutStatus,
    ) -> Result<(), AppError>;

    /// Writes a single payout by group commit (with the others asked for at the same
    /// moment), funded or failed for want of funds, with its answer; returns it as stored,
    /// or that its Idempotency-Key is held by another request.
    async fn write_single(&self, single: SinglePayout) -> Result<Written, AppError>;
}

/// No engine in this process: work waits for a node's sweep, and a single payout is
/// written as a group of one.
#[derive(Clone, Debug)]
pub struct Detached {
    pool: Pool,
}

impl Detached {
    pub fn new(pool: Pool) -> Detached {
        Detached { pool }
    }
}

#[async_trait::async_trait]
impl EnginePort for Detached {
    fn available(&self) -> Result<(), AppError> {
        Err(AppError::Unavailable(
            "this process does not run the payout engine",
        ))
    }

    fn run_batch(&self, _merchant: MerchantId, _batch: BatchId) {}

    fn collect(&self, _merchant: MerchantId, _collection: CollectionId) {}

    fn nudge(&self, _route: &RouteName, _reference: Reference) -> Result<(), AppError> {
        self.available()
    }

    fn called_back(
        &self,
        _route: &RouteName,
        _reference: Reference,
        _outcome: PayoutStatus,
    ) -> Result<(), AppError> {
        self.available()
    }

    async fn write_single(&self, single: SinglePayout) -> Result<Written, AppError> {
        let (_, mut written) =
            singles::write_group(&self.pool, None, std::slice::from_ref(&single)).await?;
        written
            .pop()
            .ok_or_else(|| AppError::internal("a group of one wrote nothing"))
    }
}
