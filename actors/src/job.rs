//! One line on its way through a route: what to send, where its outcome goes, and how
//! often it has been tried.

use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::money::Currency;
use payrail_engine::store::payout_lines::ClaimedLine;
use ractor::ActorRef;
use tokio::time::Instant;

use crate::batch::BatchMsg;

/// What the route must do next with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// Send the payout (first time, or again after "not sent" / "never created").
    Send,
    /// Ask the operator what became of it.
    Query,
}

/// A claimed line travelling through its route.
#[derive(Debug)]
pub struct Job {
    pub merchant: MerchantId,
    pub batch: BatchId,
    pub currency: Currency,
    pub line: ClaimedLine,
    /// Told how many of its lines the journal wrote final.
    pub batch_actor: ActorRef<BatchMsg>,
    /// Sends that did not reach the operator, in a row.
    pub not_sent: u32,
    /// Status queries made since the outcome became uncertain.
    pub queries: u32,
    /// When the outcome first became uncertain (pending or unknown), for the review deadline.
    pub uncertain_since: Option<Instant>,
    /// When the engine took the line, for `payrail_payout_duration_seconds`.
    pub taken_at: Instant,
}

impl Job {
    pub fn new(
        merchant: MerchantId,
        batch: BatchId,
        currency: Currency,
        line: ClaimedLine,
        batch_actor: ActorRef<BatchMsg>,
    ) -> Job {
        Job {
            merchant,
            batch,
            currency,
            line,
            batch_actor,
            not_sent: 0,
            queries: 0,
            uncertain_since: None,
            taken_at: Instant::now(),
        }
    }
}
