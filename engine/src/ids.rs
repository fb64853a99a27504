//! Typed identifiers: one newtype per kind of object so a `PayoutId` can never be passed
//! where a `BatchId` is expected. They are UUIDs in the database (`uuid` columns).

use std::fmt;
use std::str::FromStr;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};
use uuid::Uuid;

/// A text that is not a UUID was given where an id of `kind` was expected.
#[derive(Debug, thiserror::Error)]
#[error("invalid {kind}, expected a UUID such as 0196f1c2-7a3b-7c4d-8e5f-0123456789ab")]
pub struct IdParseError {
    /// The id type that was being parsed, e.g. "PayoutId".
    pub kind: &'static str,
    #[source]
    pub source: uuid::Error,
}

/// Declares one id newtype over `Uuid`; `$generate` is the `Uuid` constructor used by `new()`.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $generate:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id.
            #[must_use]
            #[expect(clippy::new_without_default, reason = "a default id would be a random one; say new()")]
            pub fn new() -> Self {
                Self(Uuid::$generate())
            }

            /// Wraps an existing UUID (read from storage or a request).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text)
                    .map(Self)
                    .map_err(|source| IdParseError { kind: stringify!($name), source })
            }
        }

        impl ToSql for $name {
            fn to_sql(
                &self,
                ty: &Type,
                out: &mut tokio_postgres::types::private::BytesMut,
            ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
                self.0.to_sql(ty, out)
            }

            accepts!(UUID);
            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $name {
            fn from_sql(
                ty: &Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                Uuid::from_sql(ty, raw).map(Self)
            }

            accepts!(UUID);
        }
    };
}

uuid_id!(
    /// A merchant: the tenant every other object belongs to.
    MerchantId,
    now_v7
);
uuid_id!(
    /// A batch of payouts (a payroll, or the single payouts one key sent together).
    BatchId,
    now_v7
);
uuid_id!(
    /// One payout line.
    PayoutId,
    now_v7
);
uuid_id!(
    /// One collection (request-to-pay).
    CollectionId,
    now_v7
);
uuid_id!(
    /// One API key of a merchant.
    ApiKeyId,
    now_v7
);
uuid_id!(
    /// A funding or a correction of a merchant's balance, as its statement names it.
    MovementId,
    now_v7
);
uuid_id!(
    /// One export of a report (a file made in the background).
    ExportId,
    now_v7
);
uuid_id!(
    /// One run of a node in the cluster: new at every start, so it doubles as the fencing
    /// token of everything that run owns (docs/cluster.md).
    NodeId,
    now_v7
);
uuid_id!(
    /// The id we give the operator for one payout, written before the first send and reused
    /// on every resend. Random (v4) rather than time-ordered because the operator sees it and
    /// it should reveal nothing about when or how many payouts we create.
    Reference,
    new_v4
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_version_7_and_time_ordered() {
        let first = PayoutId::new();
        let second = PayoutId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(first < second, "UUIDv7 ids created later sort later");
    }

    #[test]
    fn new_reference_is_random_version_4() {
        let reference = Reference::new();
        assert_eq!(reference.as_uuid().get_version_num(), 4);
        assert_ne!(reference, Reference::new());
    }

    #[test]
    fn display_and_from_str_round_trip() {
        let id = MerchantId::new();
        let parsed: MerchantId = id.to_string().parse().expect("own display parses");
        assert_eq!(parsed, id);
        assert_eq!(id.to_string(), id.as_uuid().hyphenated().to_string());
    }

    #[test]
    fn from_str_rejects_non_uuid_and_names_the_id_type() {
        let error = "not-a-uuid".parse::<BatchId>().expect_err("not a uuid");
        assert_eq!(error.kind, "BatchId");
        assert!(error.to_string().starts_with("invalid BatchId"));
        assert!("".parse::<ApiKeyId>().is_err());
    }

    #[test]
    fn serde_is_the_bare_uuid_string() {
        let uuid = Uuid::parse_str("0190f2a4-7c1e-7d3a-9b2c-1234567890ab").expect("valid uuid");
        let id = CollectionId::from_uuid(uuid);
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, "\"0190f2a4-7c1e-7d3a-9b2c-1234567890ab\"");
        let back: CollectionId = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, id);
    }

    #[test]
    fn postgres_encoding_is_the_uuid_encoding_and_accepts_only_uuid() {
        let id = PayoutId::new();
        let mut ours = tokio_postgres::types::private::BytesMut::new();
        let mut plain = tokio_postgres::types::private::BytesMut::new();
        id.to_sql_checked(&Type::UUID, &mut ours).expect("encodes");
        id.as_uuid()
            .to_sql(&Type::UUID, &mut plain)
            .expect("encodes");
        assert_eq!(ours, plain);
        assert_eq!(PayoutId::from_sql(&Type::UUID, &ours).expect("decodes"), id);
        assert!(id.to_sql_checked(&Type::TEXT, &mut ours).is_err());
        assert!(<Vec<PayoutId> as ToSql>::accepts(&Type::UUID_ARRAY));
        assert!(<Vec<PayoutId> as FromSql>::accepts(&Type::UUID_ARRAY));
    }
}
