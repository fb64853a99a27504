//! The server's counters: lock-free atomics bumped by handlers and callback tasks, read as
//! one `SimStats` snapshot (`GET /_sim/stats`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::book::Receipt;
use super::faults::ReplyFault;

/// Token requests per operator and product, including refused ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequests {
    pub mtn_disbursement: u64,
    pub mtn_collection: u64,
    pub airtel: u64,
}

/// How often each POST fault fired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub rate_limited: u64,
    pub rejected: u64,
    pub accept_then_timeout: u64,
    pub accepted_then_lost: u64,
    pub error_after_executing: u64,
    pub ambiguous: u64,
    pub pending: u64,
    pub garbage_status: u64,
}

/// Forged and lying MTN callbacks (`callbacks.forge_*_ppm`, `callbacks.lie_ppm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgedCallbacks {
    /// Real callbacks scheduled that claim the opposite of the final status; their
    /// requests count among `callbacks_sent` and the rest like any callback's.
    pub lies: u64,
    /// Forged requests made (one attempt each, not counted in `callbacks_sent`): to the
    /// real URL with another token,
    pub wrong_token: u64,
    /// to the real URL with another amount,
    pub wrong_amount: u64,
    /// and the real body to an earlier transfer's URL.
    pub replay: u64,
    /// Forged requests answered 2xx.
    pub accepted: u64,
}

/// A snapshot of every counter since the server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    pub token_requests: TokenRequests,
    /// Requests refused for a missing, unknown or expired credential or token.
    pub unauthorized: u64,
    /// Transfer POSTs (MTN transfers, Airtel disbursements).
    pub transfer_posts: u64,
    /// Payment POSTs (MTN requests to pay, Airtel collections).
    pub payment_posts: u64,
    /// Transfers and payments that moved money.
    pub executions: u64,
    /// POSTs with a reference already used (MTN 409, Airtel DP00900001011).
    pub duplicates: u64,
    /// Status queries (transfer, request to pay, Airtel enquiries), limited ones included.
    pub status_queries: u64,
    pub status_rate_limited: u64,
    pub status_not_found: u64,
    pub faults: FaultCounts,
    /// Callback requests made, retries and duplicates included.
    pub callbacks_sent: u64,
    /// Callback requests answered 2xx.
    pub callbacks_delivered: u64,
    /// Callback requests that failed (non-2xx, timeout, connection error).
    pub callbacks_failed: u64,
    pub callbacks_dropped: u64,
    pub callbacks_duplicated: u64,
    /// Callbacks abandoned after their last retry.
    pub callbacks_given_up: u64,
    /// Callbacks not even scheduled because too many were in flight.
    pub callbacks_shed: u64,
    #[serde(default)]
    pub forged: ForgedCallbacks,
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) token_mtn_disbursement: AtomicU64,
    pub(crate) token_mtn_collection: AtomicU64,
    pub(crate) token_airtel: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) transfer_posts: AtomicU64,
    pub(crate) payment_posts: AtomicU64,
    pub(crate) executions: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) status_queries: AtomicU64,
    pub(crate) status_rate_limited: AtomicU64,
    pub(crate) status_not_found: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) accept_then_timeout: AtomicU64,
    pub(crate) accepted_then_lost: AtomicU64,
    pub(crate) error_after_executing: AtomicU64,
    pub(crate) ambiguous: AtomicU64,
    pub(crate) pending: AtomicU64,
    pub(crate) garbage_status: AtomicU64,
    pub(crate) callbacks_sent: AtomicU64,
    pub(crate) callbacks_delivered: AtomicU64,
    pub(crate) callbacks_failed: AtomicU64,
    pub(crate) callbacks_dropped: AtomicU64,
    pub(crate) callbacks_duplicated: AtomicU64,
    pub(crate) callbacks_given_up: AtomicU64,
    pub(crate) callbacks_shed: AtomicU64,
    pub(crate) callbacks_lied: AtomicU64,
    pub(crate) forged_wrong_token: AtomicU64,
    pub(crate) forged_wrong_amount: AtomicU64,
    pub(crate) forged_replay: AtomicU64,
    pub(crate) forged_accepted: AtomicU64,
}

/// Adds one; counters are statistics, so no ordering with other memory is needed.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts what an accepted POST came to (both operators).
    pub(crate) fn note(&self, receipt: Receipt) {
        if receipt.executed {
            bump(&self.executions);
        }
        if receipt.slow {
            bump(&self.pending);
        }
        match receipt.reply {
            ReplyFault::None => {}
            ReplyFault::Hang => bump(&self.accept_then_timeout),
            ReplyFault::ServerError => bump(&self.error_after_executing),
            ReplyFault::Ambiguous => bump(&self.ambiguous),
        }
    }

    pub(crate) fn snapshot(&self) -> SimStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SimStats {
            token_requests: TokenRequests {
                mtn_disbursement: read(&self.token_mtn_disbursement),
                mtn_collection: read(&self.token_mtn_collection),
                airtel: read(&self.token_airtel),
            },
            unauthorized: read(&self.unauthorized),
            transfer_posts: read(&self.transfer_posts),
            payment_posts: read(&self.payment_posts),
            executions: read(&self.executions),
            duplicates: read(&self.duplicates),
            status_queries: read(&self.status_queries),
            status_rate_limited: read(&self.status_rate_limited),
            status_not_found: read(&self.status_not_found),
            faults: FaultCounts {
                rate_limited: read(&self.rate_limited),
                rejected: read(&self.rejected),
                accept_then_timeout: read(&self.accept_then_timeout),
                accepted_then_lost: read(&self.accepted_then_lost),
                error_after_executing: read(&self.error_after_executing),
                ambiguous: read(&self.ambiguous),
                pending: read(&self.pending),
                garbage_status: read(&self.garbage_status),
            },
            callbacks_sent: read(&self.callbacks_sent),
            callbacks_delivered: read(&self.callbacks_delivered),
            callbacks_failed: read(&self.callbacks_failed),
            callbacks_dropped: read(&self.callbacks_dropped),
            callbacks_duplicated: read(&self.callbacks_duplicated),
            callbacks_given_up: read(&self.callbacks_given_up),
            callbacks_shed: read(&self.callbacks_shed),
            forged: ForgedCallbacks {
                lies: read(&self.callbacks_lied),
                wrong_token: read(&self.forged_wrong_token),
                wrong_amount: read(&self.forged_wrong_amount),
                replay: read(&self.forged_replay),
                accepted: read(&self.forged_accepted),
            },
        }
    }
}
