//! One line on its way through a route: what to send, whom to tell when it is written
//! final, and how often it has been tried.

use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::money::Currency;
use payrail_engine::operator::{OperatorError, PayoutStatus};
use payrail_engine::store::callback_settlements::Unverified;
use payrail_engine::store::payout_lines::ClaimedLine;
use ractor::DerivedActorRef;
use tokio::time::Instant;

/// What the journal tells whoever runs a line's batch: this many of its lines are now
/// written final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinesFinished {
    pub batch: BatchId,
    pub lines: u32,
}

/// What a route's status query said of a payout an authenticated callback ended: what the
/// route tells whoever asked it to verify (the verifier, seen only through this message).
#[derive(Debug)]
pub struct Verified {
    pub unverified: Unverified,
    pub answer: Result<Option<PayoutStatus>, OperatorError>,
}

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
    /// Told how many of its lines the journal wrote final (the batch's actor, or the
    /// singles runner, seen only through this one message).
    pub reports_to: DerivedActorRef<LinesFinished>,
    /// Sends that did not reach the operator, in a row.
    pub not_sent: u32,
    /// Status queries made since the outcome became uncertain.
    pub queries: u32,
    /// When the outcome first became uncertain (pending or unknown), for the review deadline.
    pub uncertain_since: Option<Instant>,
    /// The operator said it has the payout (pending): once it has waited past a short
    /// deadline it is written `submitted`.
    pub accepted: bool,
    /// It was handed to the journal to be written `submitted`.
    pub marked_submitted: bool,
    /// It already waited its route's deadline for a callback: now it is asked about.
    pub waited_for_callback: bool,
    /// A single payout: its route sends it ahead of payroll lines.
    pub single: bool,

    /// When the engine took the line, for `payrail_payout_duration_seconds`.
    pub taken_at: Instant,
}

impl Job {
    pub fn new(
        merchant: MerchantId,
        batch: BatchId,
        currency: Currency,
        line: ClaimedLine,
        reports_to: DerivedActorRef<LinesFinished>,
    ) -> Job {
        Job {
            merchant,
            batch,
            currency,
            line,
            reports_to,
            not_sent: 0,
            queries: 0,
            uncertain_since: None,
            accepted: false,
            marked_submitted: false,
            waited_for_callback: false,
            single: false,
            taken_at: Instant::now(),
        }
    }

    /// The same job, for a single payout (sent ahead of payroll lines).
    #[must_use]
    pub fn single(mut self) -> Job {
        self.single = true;
        self
    }
}
