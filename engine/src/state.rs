//! The lifecycles of payouts, batches and collections: one allow-list `apply` per machine,
//! and the errors they share. The state names are the strings stored in the database.

pub mod batch;
pub mod collection;
#[cfg(test)]
mod machine_tests;
pub mod payout;

/// An event that the current state does not allow; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {event} is not allowed in state {state}")]
pub struct InvalidTransition {
    pub state: &'static str,
    pub event: &'static str,
}

/// A text that names no state of the machine `machine` ("payout", "batch", "collection").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {machine} state {value:?}")]
pub struct UnknownState {
    pub machine: &'static str,
    pub value: String,
}

/// Implements `Display`, `FromStr`, and PostgreSQL TEXT encoding for a state enum through
/// its `ALL` and `as_str()`, so the stored names cannot drift from the Rust ones.
macro_rules! state_names {
    ($state:ident, $machine:literal) => {
        impl std::fmt::Display for $state {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $state {
            type Err = crate::state::UnknownState;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|state| state.as_str() == value)
                    .ok_or_else(|| crate::state::UnknownState {
                        machine: $machine,
                        value: value.to_owned(),
                    })
            }
        }

        impl tokio_postgres::types::ToSql for $state {
            fn to_sql(
                &self,
                ty: &tokio_postgres::types::Type,
                out: &mut tokio_postgres::types::private::BytesMut,
            ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
            {
                self.as_str().to_sql(ty, out)
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::ToSql>::accepts(ty)
            }

            tokio_postgres::types::to_sql_checked!();
        }

        impl<'a> tokio_postgres::types::FromSql<'a> for $state {
            fn from_sql(
                ty: &tokio_postgres::types::Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                let name = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
                Ok(name.parse::<$state>()?)
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::FromSql>::accepts(ty)
            }
        }
    };
}
use state_names;
