//! The batch lifecycle: validation, four-eyes approval, funding, running and completion.
//! `apply` allows each transition explicitly; everything else is an error.

use super::{InvalidTransition, state_names};

/// Where one batch is. The snake_case names are stored in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Written with its lines, not yet checked.
    Received,
    /// Its lines are being validated.
    Validating,
    /// Refused as a whole; nothing was reserved.
    Invalid,
    /// Waiting for a second person to approve it.
    AwaitingApproval,
    /// The merchant's available balance does not cover its total yet.
    AwaitingFunds,
    /// Ready to run (approved, or no approval needed).
    Scheduled,
    /// Funds reserved and lines queued: payouts are being sent.
    Running,
    /// Stopped for a while because funds or a route are down.
    Paused,
    /// Every line reached a final state and all succeeded or were rejected up front.
    Completed,
    /// Every line reached a final state and some failed.
    CompletedWithFailures,
    /// Cancelled: only lines not yet sent are cancelled; sent ones still resolve.
    Cancelled,
}

/// What can happen to a batch. Events carry no data: the store records the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchEvent {
    StartValidation,
    Invalidate,
    RequireApproval,
    Approve,
    /// Ready to run without approval.
    Schedule,
    /// Funds reserved, lines queued.
    Start,
    FundsShort,
    /// Funds or a route are down.
    Pause,
    Resume,
    Complete,
    CompleteWithFailures,
    Cancel,
}

impl BatchState {
    pub const ALL: [BatchState; 11] = [
        BatchState::Received,
        BatchState::Validating,
        BatchState::Invalid,
        BatchState::AwaitingApproval,
        BatchState::AwaitingFunds,
        BatchState::Scheduled,
        BatchState::Running,
        BatchState::Paused,
        BatchState::Completed,
        BatchState::CompletedWithFailures,
        BatchState::Cancelled,
    ];

    /// The name stored in the database.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BatchState::Received => "received",
            BatchState::Validating => "validating",
            BatchState::Invalid => "invalid",
            BatchState::AwaitingApproval => "awaiting_approval",
            BatchState::AwaitingFunds => "awaiting_funds",
            BatchState::Scheduled => "scheduled",
            BatchState::Running => "running",
            BatchState::Paused => "paused",
            BatchState::Completed => "completed",
            BatchState::CompletedWithFailures => "completed_with_failures",
            BatchState::Cancelled => "cancelled",
        }
    }

    /// No event leaves a final state.
    #[must_use]
    pub const fn is_final(self) -> bool {
        match self {
            BatchState::Invalid
            | BatchState::Completed
            | BatchState::CompletedWithFailures
            | BatchState::Cancelled => true,
            BatchState::Received
            | BatchState::Validating
            | BatchState::AwaitingApproval
            | BatchState::AwaitingFunds
            | BatchState::Scheduled
            | BatchState::Running
            | BatchState::Paused => false,
        }
    }

    /// The state after `event`, if this state allows it.
    pub fn apply(self, event: &BatchEvent) -> Result<BatchState, InvalidTransition> {
        use BatchEvent as E;
        use BatchState as S;
        match (self, *event) {
            (S::Received, E::StartValidation) => Ok(S::Validating),
            (S::Validating, E::Invalidate) => Ok(S::Invalid),
            (S::Validating, E::RequireApproval) => Ok(S::AwaitingApproval),
            (S::AwaitingApproval, E::Approve) => Ok(S::Scheduled),
            (S::Validating, E::Schedule) => Ok(S::Scheduled),
            (S::Validating, E::Start) => Ok(S::Running),
            (S::Scheduled, E::Start) => Ok(S::Running),
            (S::AwaitingFunds, E::Start) => Ok(S::Running),
            (S::Validating, E::FundsShort) => Ok(S::AwaitingFunds),
            (S::Scheduled, E::FundsShort) => Ok(S::AwaitingFunds),
            (S::Running, E::Pause) => Ok(S::Paused),
            (S::Paused, E::Resume) => Ok(S::Running),
            (S::Running, E::Complete) => Ok(S::Completed),
            (S::Running, E::CompleteWithFailures) => Ok(S::CompletedWithFailures),
            (S::AwaitingApproval, E::Cancel) => Ok(S::Cancelled),
            (S::AwaitingFunds, E::Cancel) => Ok(S::Cancelled),
            (S::Scheduled, E::Cancel) => Ok(S::Cancelled),
            (S::Running, E::Cancel) => Ok(S::Cancelled),
            (S::Paused, E::Cancel) => Ok(S::Cancelled),
            // Only rejections below: every allowed pair is listed above.
            (state, event) => Err(InvalidTransition {
                state: state.as_str(),
                event: event.name(),
            }),
        }
    }
}

state_names!(BatchState, "batch");

impl BatchEvent {
    pub const ALL: [BatchEvent; 12] = [
        BatchEvent::StartValidation,
        BatchEvent::Invalidate,
        BatchEvent::RequireApproval,
        BatchEvent::Approve,
        BatchEvent::Schedule,
        BatchEvent::Start,
        BatchEvent::FundsShort,
        BatchEvent::Pause,
        BatchEvent::Resume,
        BatchEvent::Complete,
        BatchEvent::CompleteWithFailures,
        BatchEvent::Cancel,
    ];

    /// The event's name for errors and logs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            BatchEvent::StartValidation => "start_validation",
            BatchEvent::Invalidate => "invalidate",
            BatchEvent::RequireApproval => "require_approval",
            BatchEvent::Approve => "approve",
            BatchEvent::Schedule => "schedule",
            BatchEvent::Start => "start",
            BatchEvent::FundsShort => "funds_short",
            BatchEvent::Pause => "pause",
            BatchEvent::Resume => "resume",
            BatchEvent::Complete => "complete",
            BatchEvent::CompleteWithFailures => "complete_with_failures",
            BatchEvent::Cancel => "cancel",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BatchEvent::*;
    use super::*;
    use crate::state::machine_tests::{check_finals, check_names, check_table, machine};

    machine!(BatchState, BatchEvent);

    /// The allowed transitions, copied from DESIGN.md independently of `apply`.
    const ALLOWED: &[(&str, BatchEvent, &str)] = &[
        ("received", StartValidation, "validating"),
        ("validating", Invalidate, "invalid"),
        ("validating", RequireApproval, "awaiting_approval"),
        ("awaiting_approval", Approve, "scheduled"),
        ("validating", Schedule, "scheduled"),
        ("validating", Start, "running"),
        ("scheduled", Start, "running"),
        ("awaiting_funds", Start, "running"),
        ("validating", FundsShort, "awaiting_funds"),
        ("scheduled", FundsShort, "awaiting_funds"),
        ("running", Pause, "paused"),
        ("paused", Resume, "running"),
        ("running", Complete, "completed"),
        ("running", CompleteWithFailures, "completed_with_failures"),
        ("awaiting_approval", Cancel, "cancelled"),
        ("awaiting_funds", Cancel, "cancelled"),
        ("scheduled", Cancel, "cancelled"),
        ("running", Cancel, "cancelled"),
        ("paused", Cancel, "cancelled"),
    ];

    #[test]
    fn apply_allows_exactly_the_listed_transitions() {
        check_table::<BatchState>(ALLOWED);
    }

    #[test]
    fn exactly_the_documented_states_are_final() {
        check_finals::<BatchState>(
            &[
                "invalid",
                "completed",
                "completed_with_failures",
                "cancelled",
            ],
            &[],
        );
    }

    #[test]
    fn names_are_distinct_and_round_trip_through_text_serde_and_postgres() {
        check_names::<BatchState>();
    }

    #[test]
    fn unapproved_batch_cannot_start() {
        assert!(BatchState::AwaitingApproval.apply(&Start).is_err());
        assert!(BatchState::AwaitingApproval.apply(&Schedule).is_err());
        assert_eq!(
            BatchState::AwaitingApproval.apply(&Approve),
            Ok(BatchState::Scheduled)
        );
    }
}
