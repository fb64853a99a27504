//! Checks every state machine shares (tests only): the whole (state, event) table against
//! an independently written list of allowed transitions, final states, names, and the
//! PostgreSQL encoding.

use std::collections::HashSet;
use std::fmt::{Debug, Display};
use std::str::FromStr;

use tokio_postgres::types::{FromSql, ToSql, Type};

use super::InvalidTransition;

/// What the shared checks need from a state machine.
pub trait Machine:
    Copy
    + Debug
    + PartialEq
    + Display
    + FromStr
    + ToSql
    + for<'a> FromSql<'a>
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    type Event: Copy + Debug + PartialEq + 'static;
    fn states() -> &'static [Self];
    fn events() -> &'static [Self::Event];
    fn step(self, event: Self::Event) -> Result<Self, InvalidTransition>;
    fn name(self) -> &'static str;
    fn event_name(event: Self::Event) -> &'static str;
    fn is_end(self) -> bool;
}

/// Every (state, event) pair: allowed exactly when `allowed` lists it, to the listed state;
/// refused with an error that names both otherwise. The list itself names real states and
/// each pair once.
pub fn check_table<M: Machine>(allowed: &[(&str, M::Event, &str)]) {
    let mut pairs = HashSet::new();
    for (from, event, to) in allowed {
        assert!(from.parse::<M>().is_ok(), "{from} is not a state");
        assert!(to.parse::<M>().is_ok(), "{to} is not a state");
        assert!(
            pairs.insert((*from, M::event_name(*event))),
            "{from} on {event:?} listed twice"
        );
    }
    for &state in M::states() {
        for &event in M::events() {
            let expected = allowed
                .iter()
                .find(|(from, on, _)| *from == state.name() && *on == event)
                .map(|(_, _, to)| *to);
            match (state.step(event), expected) {
                (Ok(next), Some(to)) => assert_eq!(next.name(), to, "{state} on {event:?}"),
                (Err(error), None) => assert_eq!(
                    error,
                    InvalidTransition {
                        state: state.name(),
                        event: M::event_name(event)
                    }
                ),
                (got, want) => panic!("{state} on {event:?}: got {got:?}, expected {want:?}"),
            }
        }
    }
}

/// Exactly `finals` are final; they accept no event but those named in `exceptions`, and
/// every other state has a way out.
pub fn check_finals<M: Machine>(finals: &[&str], exceptions: &[&str]) {
    let actual: Vec<&str> = M::states()
        .iter()
        .filter(|s| s.is_end())
        .map(|s| s.name())
        .collect();
    assert_eq!(actual, finals);
    for &state in M::states() {
        let exits = M::events()
            .iter()
            .filter(|e| state.step(**e).is_ok())
            .filter(|e| !(state.is_end() && exceptions.contains(&M::event_name(**e))))
            .count();
        if state.is_end() {
            assert_eq!(exits, 0, "final state {state} accepts an event");
        } else {
            assert!(exits > 0, "{state} has no way out");
        }
    }
}

/// Names are distinct and round-trip through `FromStr`, `Display`, serde and PostgreSQL
/// TEXT; other names and other column types are refused.
pub fn check_names<M: Machine>() {
    let states: HashSet<&str> = M::states().iter().map(|s| s.name()).collect();
    assert_eq!(states.len(), M::states().len());
    let events: HashSet<&str> = M::events().iter().map(|e| M::event_name(*e)).collect();
    assert_eq!(events.len(), M::events().len());
    for &state in M::states() {
        assert!(
            state
                .name()
                .parse::<M>()
                .is_ok_and(|parsed| parsed == state)
        );
        assert_eq!(state.to_string(), state.name());
        let json = serde_json::to_string(&state).expect("serializes");
        assert_eq!(json, format!("\"{}\"", state.name()));
        assert_eq!(
            serde_json::from_str::<M>(&json).expect("deserializes"),
            state
        );
        let mut buffer = tokio_postgres::types::private::BytesMut::new();
        state
            .to_sql_checked(&Type::TEXT, &mut buffer)
            .expect("encodes");
        assert_eq!(&buffer[..], state.name().as_bytes());
        assert_eq!(M::from_sql(&Type::TEXT, &buffer).expect("decodes"), state);
        assert!(state.to_sql_checked(&Type::INT4, &mut buffer).is_err());
    }
    for unknown in ["", "lost", "Received"] {
        assert!(unknown.parse::<M>().is_err(), "{unknown:?}");
        assert!(
            M::from_sql(&Type::TEXT, unknown.as_bytes()).is_err(),
            "{unknown:?}"
        );
    }
}

/// Implements `Machine` for a state enum with `ALL`, `apply`, `as_str`, `is_final`, and an
/// event enum with `ALL` and `name`.
macro_rules! machine {
    ($state:ty, $event:ty) => {
        impl crate::state::machine_tests::Machine for $state {
            type Event = $event;
            fn states() -> &'static [Self] {
                &<$state>::ALL
            }
            fn events() -> &'static [$event] {
                &<$event>::ALL
            }
            fn step(self, event: $event) -> Result<Self, crate::state::InvalidTransition> {
                self.apply(&event)
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
            fn event_name(event: $event) -> &'static str {
                event.name()
            }
            fn is_end(self) -> bool {
                self.is_final()
            }
        }
    };
}
pub(crate) use machine;
