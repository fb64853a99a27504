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
    use std::collections::HashSet;

    use super::CollectionEvent::*;
    use super::*;

    /// The allowed transitions, copied from DESIGN.md independently of `apply`.
    const ALLOWED: &[(&str, CollectionEvent, &str)] = &[
        ("pending", Pay, "paid"),
        ("pending", Fail, "failed"),
        ("pending", Expire, "expired"),
    ];

    fn expected(state: CollectionState, event: CollectionEvent) -> Option<&'static str> {
        ALLOWED
            .iter()
            .find(|(from, on, _)| *from == state.as_str() && *on == event)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn apply_allows_exactly_the_listed_transitions() {
        for state in CollectionState::ALL {
            for event in CollectionEvent::ALL {
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
    fn final_states_accept_no_event() {
        for state in CollectionState::ALL
            .into_iter()
            .filter(|state| state.is_final())
        {
            for event in CollectionEvent::ALL {
                assert!(state.apply(&event).is_err(), "{state} accepted {event:?}");
            }
        }
        let finals: Vec<&str> = CollectionState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(CollectionState::as_str)
            .collect();
        assert_eq!(finals, ["paid", "failed", "expired"]);
    }

    #[test]
    fn a_paid_collection_cannot_be_paid_again() {
        let error = CollectionState::Paid
            .apply(&Pay)
            .expect_err("paid is final");
        assert_eq!(error.to_string(), "event pay is not allowed in state paid");
    }

    #[test]
    fn names_round_trip_through_from_str_and_serde() {
        for state in CollectionState::ALL {
            assert_eq!(state.as_str().parse::<CollectionState>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
            let json = serde_json::to_string(&state).expect("serializes");
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(
                serde_json::from_str::<CollectionState>(&json).expect("deserializes"),
                state
            );
        }
        let error = "PAID"
            .parse::<CollectionState>()
            .expect_err("names are lowercase");
        assert_eq!(error.to_string(), "unknown collection state \"PAID\"");
    }

    #[test]
    fn names_are_distinct() {
        let states: HashSet<&str> = CollectionState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(states.len(), CollectionState::ALL.len());
        let events: HashSet<&str> = CollectionEvent::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(events.len(), CollectionEvent::ALL.len());
    }

    #[test]
    fn postgres_text_round_trip() {
        use tokio_postgres::types::{FromSql, ToSql, Type};
        let mut buffer = tokio_postgres::types::private::BytesMut::new();
        CollectionState::Expired
            .to_sql_checked(&Type::TEXT, &mut buffer)
            .expect("encodes");
        assert_eq!(&buffer[..], b"expired");
        let decoded = CollectionState::from_sql(&Type::TEXT, &buffer).expect("decodes");
        assert_eq!(decoded, CollectionState::Expired);
        assert!(CollectionState::from_sql(&Type::TEXT, b"refunded").is_err());
    }
}
