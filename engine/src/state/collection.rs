//! The collection lifecycle: a request to pay waits on the customer's phone, then is paid,
//! failed or expired. `apply` allows each transition explicitly; everything else is an error.

use super::{InvalidTransition, state_names};

/// Where one collection is. The snake_case names are stored in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionState {
    /// The request was sent to the customer's phone.
    Pending,
    /// The customer approved and paid: the merchant is credited (amount − fee).
    Paid,
    Failed,
    /// The customer did not answer in time.
    Expired,
}

/// What can happen to a collection. Events carry no data: the store records the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CollectionEvent {
    Pay,
    Fail,
    Expire,
}

impl CollectionState {
    pub const ALL: [CollectionState; 4] = [
        CollectionState::Pending,
        CollectionState::Paid,
        CollectionState::Failed,
        CollectionState::Expired,
    ];

    /// The name stored in the database.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            CollectionState::Pending => "pending",
            CollectionState::Paid => "paid",
            CollectionState::Failed => "failed",
            CollectionState::Expired => "expired",
        }
    }

    /// No event leaves a final state.
    #[must_use]
    pub const fn is_final(self) -> bool {
        match self {
            CollectionState::Paid | CollectionState::Failed | CollectionState::Expired => true,
            CollectionState::Pending => false,
        }
    }

    /// The state after `event`, if this state allows it.
    pub fn apply(self, event: &CollectionEvent) -> Result<CollectionState, InvalidTransition> {
        use CollectionEvent as E;
        use CollectionState as S;
        match (self, *event) {
            (S::Pending, E::Pay) => Ok(S::Paid),
            (S::Pending, E::Fail) => Ok(S::Failed),
            (S::Pending, E::Expire) => Ok(S::Expired),
            // Only rejections below: every allowed pair is listed above.
            (state, event) => Err(InvalidTransition {
                state: state.as_str(),
                event: event.name(),
            }),
        }
    }
}

state_names!(CollectionState, "collection");

impl CollectionEvent {
    pub const ALL: [CollectionEvent; 3] = [
        CollectionEvent::Pay,
        CollectionEvent::Fail,
        CollectionEvent::Expire,
    ];

    /// The event's name for errors and logs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            CollectionEvent::Pay => "pay",
            CollectionEvent::Fail => "fail",
            CollectionEvent::Expire => "expire",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CollectionEvent::*;
    use super::*;
    use crate::state::machine_tests::{check_finals, check_names, check_table, machine};

    machine!(CollectionState, CollectionEvent);

    /// The allowed transitions, copied from DESIGN.md independently of `apply`.
    const ALLOWED: &[(&str, CollectionEvent, &str)] = &[
        ("pending", Pay, "paid"),
        ("pending", Fail, "failed"),
        ("pending", Expire, "expired"),
    ];

    #[test]
    fn apply_allows_exactly_the_listed_transitions() {
        check_table::<CollectionState>(ALLOWED);
    }

    #[test]
    fn exactly_the_documented_states_are_final() {
        check_finals::<CollectionState>(&["paid", "failed", "expired"], &[]);
    }

    #[test]
    fn names_are_distinct_and_round_trip_through_text_serde_and_postgres() {
        check_names::<CollectionState>();
    }

    #[test]
    fn a_paid_collection_cannot_be_paid_again() {
        let error = CollectionState::Paid
            .apply(&Pay)
            .expect_err("paid is final");
        assert_eq!(error.to_string(), "event pay is not allowed in state paid");
    }
}
