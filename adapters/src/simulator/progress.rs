//! Where a simulated transfer or request to pay stands: final, pending until a moment, or
//! pending for ever (a sandbox number).

use tokio::time::Instant;

#[derive(Debug)]
pub enum Progress<S> {
    Final(S),
    /// Pending; becomes `S` at the instant.
    PendingUntil(Instant, S),
    PendingForever,
}

impl<S: Clone> Progress<S> {
    /// The status now, `pending` while not final; a due pending turns final for good.
    pub fn current(&mut self, pending: S) -> S {
        if let Progress::PendingUntil(due, status) = self
            && Instant::now() >= *due
        {
            *self = Progress::Final(status.clone());
        }
        match self {
            Progress::Final(status) => status.clone(),
            Progress::PendingUntil(..) | Progress::PendingForever => pending,
        }
    }
}

impl Progress<payrail_engine::operator::PayoutStatus> {
    /// True when the payout is or will be paid: the operator has executed it.
    pub fn will_succeed(&self) -> bool {
        use payrail_engine::operator::PayoutStatus::Succeeded;
        match self {
            Progress::Final(status) | Progress::PendingUntil(_, status) => {
                matches!(status, Succeeded { .. })
            }
            Progress::PendingForever => false,
        }
    }
}
