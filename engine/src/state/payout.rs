//! The payout lifecycle: from validated to a final outcome, never resending blindly after
//! an unknown outcome. `apply` allows each transition explicitly; everything else is an error.

use super::{InvalidTransition, state_names};

/// Where one payout is. Every state is stored, under its snake_case name, and the
/// database's CHECK lists exactly these. What the route only holds in memory (an outcome
/// not known yet) is not a state here: such a line stays `sending` until it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutState {
    /// Passed per-line validation (number, route, amount), written with its batch.
    Validated,
    /// Funds reserved, waiting for its route.
    Queued,
    /// Durably marked before the request leaves, so a crash here means "ask before resending".
    Sending,
    /// The operator accepted the request and has not finished it: written once a line has
    /// waited for its outcome past a short deadline (a quick outcome skips this write).
    Submitted,
    Succeeded,
    Failed,
    /// Uncertain past its deadline: a person decides; the funds stay reserved.
    RequiresReview,
    /// Withdrawn before anything was sent.
    Cancelled,
}

/// What can happen to a payout. Events carry no data: the store records the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayoutEvent {
    /// Funds reserved for it.
    Reserve,
    /// Taken by a route to be sent now.
    Claim,
    /// The request never reached the operator: resend later with the same reference.
    NotSent,
    /// A status query says the operator never created it: resending with the same
    /// reference is safe.
    NotFound,
    /// The operator accepted it and has not finished it yet.
    Accept,
    Succeed,
    Fail,
    /// Uncertain for too long.
    Expire,
    /// A status query contradicts the authenticated callback that ended it: a person
    /// decides, with its money back in reserve.
    Contradict,
    Cancel,
    /// The merchant's balance does not cover it: a single payout fails at once.
    FundsShort,
}

impl PayoutState {
    pub const ALL: [PayoutState; 8] = [
        PayoutState::Validated,
        PayoutState::Queued,
        PayoutState::Sending,
        PayoutState::Submitted,
        PayoutState::Succeeded,
        PayoutState::Failed,
        PayoutState::RequiresReview,
        PayoutState::Cancelled,
    ];

    /// The name stored in the database.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PayoutState::Validated => "validated",
            PayoutState::Queued => "queued",
            PayoutState::Sending => "sending",
            PayoutState::Submitted => "submitted",
            PayoutState::Succeeded => "succeeded",
            PayoutState::Failed => "failed",
            PayoutState::RequiresReview => "requires_review",
            PayoutState::Cancelled => "cancelled",
        }
    }

    /// No event leaves a final state but one: a status query that contradicts the
    /// authenticated callback a line was ended on sends it to review (`Contradict`).
    #[must_use]
    pub const fn is_final(self) -> bool {
        match self {
            PayoutState::Succeeded | PayoutState::Failed | PayoutState::Cancelled => true,
            PayoutState::Validated
            | PayoutState::Queued
            | PayoutState::Sending
            | PayoutState::Submitted
            | PayoutState::RequiresReview => false,
        }
    }

    /// Whether the payout's amount + fee sits in the merchant's reserved account: it is
    /// reserved from queued on and only settled or released by a final outcome.
    #[must_use]
    pub const fn holds_reservation(self) -> bool {
        match self {
            PayoutState::Queued
            | PayoutState::Sending
            | PayoutState::Submitted
            | PayoutState::RequiresReview => true,
            PayoutState::Validated
            | PayoutState::Succeeded
            | PayoutState::Failed
            | PayoutState::Cancelled => false,
        }
    }

    /// The state after `event`, if this state allows it.
    pub fn apply(self, event: &PayoutEvent) -> Result<PayoutState, InvalidTransition> {
        use PayoutEvent as E;
        use PayoutState as S;
        match (self, *event) {
            (S::Validated, E::Reserve) => Ok(S::Queued),
            (S::Queued, E::Claim) => Ok(S::Sending),
            (S::Sending, E::NotSent) => Ok(S::Queued),
            (S::Sending, E::NotFound) => Ok(S::Queued),
            (S::Sending, E::Accept) => Ok(S::Submitted),
            (S::Sending, E::Succeed) => Ok(S::Succeeded),
            (S::Submitted, E::Succeed) => Ok(S::Succeeded),
            (S::RequiresReview, E::Succeed) => Ok(S::Succeeded),
            (S::Sending, E::Fail) => Ok(S::Failed),
            (S::Submitted, E::Fail) => Ok(S::Failed),
            (S::RequiresReview, E::Fail) => Ok(S::Failed),
            (S::Sending, E::Expire) => Ok(S::RequiresReview),
            (S::Submitted, E::Expire) => Ok(S::RequiresReview),
            (S::Succeeded, E::Contradict) => Ok(S::RequiresReview),
            (S::Failed, E::Contradict) => Ok(S::RequiresReview),
            (S::Validated, E::Cancel) => Ok(S::Cancelled),
            (S::Queued, E::Cancel) => Ok(S::Cancelled),
            (S::Validated, E::FundsShort) => Ok(S::Failed),
            // Only rejections below: every allowed pair is listed above.
            (state, event) => Err(InvalidTransition {
                state: state.as_str(),
                event: event.name(),
            }),
        }
    }
}

state_names!(PayoutState, "payout");

impl PayoutEvent {
    pub const ALL: [PayoutEvent; 11] = [
        PayoutEvent::Reserve,
        PayoutEvent::Claim,
        PayoutEvent::NotSent,
        PayoutEvent::NotFound,
        PayoutEvent::Accept,
        PayoutEvent::Succeed,
        PayoutEvent::Fail,
        PayoutEvent::Expire,
        PayoutEvent::Contradict,
        PayoutEvent::Cancel,
        PayoutEvent::FundsShort,
    ];

    /// The event's name for errors and logs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            PayoutEvent::Reserve => "reserve",
            PayoutEvent::Claim => "claim",
            PayoutEvent::NotSent => "not_sent",
            PayoutEvent::NotFound => "not_found",
            PayoutEvent::Accept => "accept",
            PayoutEvent::Succeed => "succeed",
            PayoutEvent::Fail => "fail",
            PayoutEvent::Expire => "expire",
            PayoutEvent::Contradict => "contradict",
            PayoutEvent::Cancel => "cancel",
            PayoutEvent::FundsShort => "funds_short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PayoutEvent::*;
    use super::*;
    use crate::state::machine_tests::{check_finals, check_names, check_table, machine};

    machine!(PayoutState, PayoutEvent);

    /// The allowed transitions, copied from DESIGN.md independently of `apply`.
    const ALLOWED: &[(&str, PayoutEvent, &str)] = &[
        ("validated", Reserve, "queued"),
        ("validated", FundsShort, "failed"),
        ("queued", Claim, "sending"),
        ("sending", NotSent, "queued"),
        ("sending", NotFound, "queued"),
        ("sending", Accept, "submitted"),
        ("sending", Succeed, "succeeded"),
        ("submitted", Succeed, "succeeded"),
        ("requires_review", Succeed, "succeeded"),
        ("sending", Fail, "failed"),
        ("submitted", Fail, "failed"),
        ("requires_review", Fail, "failed"),
        ("sending", Expire, "requires_review"),
        ("submitted", Expire, "requires_review"),
        ("succeeded", Contradict, "requires_review"),
        ("failed", Contradict, "requires_review"),
        ("validated", Cancel, "cancelled"),
        ("queued", Cancel, "cancelled"),
    ];

    #[test]
    fn apply_allows_exactly_the_listed_transitions() {
        check_table::<PayoutState>(ALLOWED);
    }

    #[test]
    fn exactly_the_documented_states_are_final() {
        check_finals::<PayoutState>(&["succeeded", "failed", "cancelled"], &["contradict"]);
    }

    #[test]
    fn names_are_distinct_and_round_trip_through_text_serde_and_postgres() {
        check_names::<PayoutState>();
    }

    #[test]
    fn requires_review_is_resolved_only_by_succeed_or_fail() {
        let accepted: Vec<PayoutEvent> = PayoutEvent::ALL
            .into_iter()
            .filter(|event| PayoutState::RequiresReview.apply(event).is_ok())
            .collect();
        assert_eq!(accepted, [Succeed, Fail]);
    }

    #[test]
    fn a_line_the_operator_accepted_is_never_resent() {
        // A line goes back to the queue only when the operator never got it or never
        // created it; once accepted, only its outcome (or review) moves it.
        let back_to_queue: Vec<PayoutEvent> = PayoutEvent::ALL
            .into_iter()
            .filter(|event| PayoutState::Sending.apply(event) == Ok(PayoutState::Queued))
            .collect();
        assert_eq!(back_to_queue, [NotSent, NotFound]);
        let from_submitted: Vec<PayoutEvent> = PayoutEvent::ALL
            .into_iter()
            .filter(|event| PayoutState::Submitted.apply(event).is_ok())
            .collect();
        assert_eq!(from_submitted, [Succeed, Fail, Expire]);
    }

    #[test]
    fn reservation_is_held_from_queued_until_a_final_outcome() {
        let holding: Vec<&str> = PayoutState::ALL
            .into_iter()
            .filter(|state| state.holds_reservation())
            .map(PayoutState::as_str)
            .collect();
        assert_eq!(
            holding,
            ["queued", "sending", "submitted", "requires_review"]
        );
    }
}
