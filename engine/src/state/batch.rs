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
    use std::collections::HashSet;

    use super::BatchEvent::*;
    use super::*;

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

    fn expected(state: BatchState, event: BatchEvent) -> Option<&'static str> {
        ALLOWED
            .iter()
            .find(|(from, on, _)| *from == state.as_str() && *on == event)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn apply_allows_exactly_the_listed_transitions() {
        for state in BatchState::ALL {
            for event in BatchEvent::ALL {
                match (state.apply(&event), expected(state, event)) {
                    (Ok(next), Some(to)) => assert_eq!(next.as_str(), to, "{state} on {event:?}"),
                    (Err(error), None) => {
                        assert_eq!(
                            error,
                            InvalidTransition {
                                state: state.as_str(),
                                event: event.name()
                            }
                        );
                    }
                    (got, want) => panic!("{state} on {event:?}: got {got:?}, expected {want:?}"),
                }
            }
        }
    }

    #[test]
    fn allowed_table_names_real_states_and_each_pair_once() {
        let mut pairs = HashSet::new();
        for (from, event, to) in ALLOWED {
            assert!(from.parse::<BatchState>().is_ok(), "{from}");
            assert!(to.parse::<BatchState>().is_ok(), "{to}");
            assert!(
                pairs.insert((*from, *event)),
                "{from} on {event:?} listed twice"
            );
        }
    }

    #[test]
    fn final_states_accept_no_event() {
        for state in BatchState::ALL.into_iter().filter(|state| state.is_final()) {
            for event in BatchEvent::ALL {
                assert!(state.apply(&event).is_err(), "{state} accepted {event:?}");
            }
        }
        let finals: Vec<&str> = BatchState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(BatchState::as_str)
            .collect();
        assert_eq!(
            finals,
            [
                "invalid",
                "completed",
                "completed_with_failures",
                "cancelled"
            ]
        );
    }

    #[test]
    fn every_state_that_is_not_final_has_a_way_out() {
        for state in BatchState::ALL
            .into_iter()
            .filter(|state| !state.is_final())
        {
            assert!(
                BatchEvent::ALL
                    .iter()
                    .any(|event| state.apply(event).is_ok()),
                "{state}"
            );
        }
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

    #[test]
    fn names_round_trip_through_from_str_and_serde() {
        for state in BatchState::ALL {
            assert_eq!(state.as_str().parse::<BatchState>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
            let json = serde_json::to_string(&state).expect("serializes");
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(
                serde_json::from_str::<BatchState>(&json).expect("deserializes"),
                state
            );
        }
        assert!("AwaitingFunds".parse::<BatchState>().is_err());
    }

    #[test]
    fn names_are_distinct() {
        let states: HashSet<&str> = BatchState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(states.len(), BatchState::ALL.len());
        let events: HashSet<&str> = BatchEvent::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(events.len(), BatchEvent::ALL.len());
    }

    #[test]
    fn postgres_text_round_trip() {
        use tokio_postgres::types::{FromSql, ToSql, Type};
        let mut buffer = tokio_postgres::types::private::BytesMut::new();
        BatchState::CompletedWithFailures
            .to_sql_checked(&Type::TEXT, &mut buffer)
            .expect("encodes");
        assert_eq!(&buffer[..], b"completed_with_failures");
        let decoded = BatchState::from_sql(&Type::TEXT, &buffer).expect("decodes");
        assert_eq!(decoded, BatchState::CompletedWithFailures);
        assert!(BatchState::from_sql(&Type::TEXT, b"done").is_err());
    }
}
