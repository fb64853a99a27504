//! Routes: which operator carries a payout, chosen by the longest MSISDN prefix in a table
//! loaded from configuration. A route is the unit of rate limiting and circuit breaking.

use std::collections::BTreeSet;
use std::fmt;

use crate::msisdn::Msisdn;

/// Longest route name; names appear in metric labels and account keys, so keep them short.
pub const ROUTE_NAME_LEN_MAX: usize = 32;

/// Longest prefix: an E.164 number has at most 15 digits.
pub const ROUTE_PREFIX_DIGITS_MAX: usize = 15;

/// Why a route name or a route table was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteTableError {
    #[error("route name {name:?} must be 1 to {max} characters of a-z, 0-9 and '-'", max = ROUTE_NAME_LEN_MAX)]
    InvalidName { name: String },
    #[error("route prefix {prefix:?} must be 1 to {max} digits", max = ROUTE_PREFIX_DIGITS_MAX)]
    InvalidPrefix { prefix: String },
    #[error("route prefix {prefix:?} is listed more than once")]
    DuplicatePrefix { prefix: String },
    #[error("the route table is empty: no number could be routed")]
    Empty,
}

/// The name of one route, e.g. "mtn-rw": operator, then country.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct RouteName(String);

impl RouteName {
    /// A route name, if it is 1 to 32 characters of lowercase ASCII letters, digits and '-'.
    pub fn new(name: impl Into<String>) -> Result<RouteName, RouteTableError> {
        let name = name.into();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if name.is_empty() || name.len() > ROUTE_NAME_LEN_MAX || !name.chars().all(allowed) {
            return Err(RouteTableError::InvalidName { name });
        }
        Ok(RouteName(name))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RouteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<RouteName> for String {
    fn from(name: RouteName) -> String {
        name.0
    }
}

impl TryFrom<String> for RouteName {
    type Error = RouteTableError;

    fn try_from(name: String) -> Result<RouteName, RouteTableError> {
        RouteName::new(name)
    }
}

/// One configuration line: numbers starting with `prefix` (E.164 digits) go to `route`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutePrefix {
    pub prefix: String,
    pub route: RouteName,
}

/// Prefix → route, validated: digit-only prefixes, each listed once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "Vec<RoutePrefix>", try_from = "Vec<RoutePrefix>")]
pub struct RouteTable {
    /// Longest prefix first, so the first match is the longest match.
    prefixes: Vec<RoutePrefix>,
    /// Distinct route names, sorted.
    routes: Vec<RouteName>,
}

impl RouteTable {
    /// A table from configuration lines, refusing bad or duplicate prefixes and an empty list.
    pub fn new(prefixes: Vec<RoutePrefix>) -> Result<RouteTable, RouteTableError> {
        if prefixes.is_empty() {
            return Err(RouteTableError::Empty);
        }
        let mut seen = BTreeSet::new();
        for line in &prefixes {
            let prefix = &line.prefix;
            let digits = !prefix.is_empty() && prefix.bytes().all(|byte| byte.is_ascii_digit());
            if !digits || prefix.len() > ROUTE_PREFIX_DIGITS_MAX {
                return Err(RouteTableError::InvalidPrefix {
                    prefix: prefix.clone(),
                });
            }
            if !seen.insert(prefix.as_str()) {
                return Err(RouteTableError::DuplicatePrefix {
                    prefix: prefix.clone(),
                });
            }
        }
        let routes: BTreeSet<RouteName> = prefixes.iter().map(|line| line.route.clone()).collect();
        let mut prefixes = prefixes;
        // Stable, so equal-length prefixes keep configuration order (they cannot both match).
        prefixes.sort_by_key(|line| std::cmp::Reverse(line.prefix.len()));
        Ok(RouteTable {
            prefixes,
            routes: routes.into_iter().collect(),
        })
    }

    /// Rwanda's default table: MTN on 078/079, Airtel on 072/073.
    #[must_use]
    pub fn rwanda() -> RouteTable {
        let line = |prefix: &str, route: &str| RoutePrefix {
            prefix: prefix.to_owned(),
            route: RouteName::new(route).expect("built-in route names are valid"),
        };
        RouteTable::new(vec![
            line("25078", "mtn-rw"),
            line("25079", "mtn-rw"),
            line("25072", "airtel-rw"),
            line("25073", "airtel-rw"),
        ])
        .expect("the built-in Rwanda table is valid")
    }

    /// The route of the longest prefix that `msisdn` starts with, if any.
    #[must_use]
    pub fn route_for(&self, msisdn: &Msisdn) -> Option<&RouteName> {
        self.prefixes
            .iter()
            .find(|line| msisdn.as_str().starts_with(&line.prefix))
            .map(|line| &line.route)
    }

    /// Every route named in the table, once each, sorted.
    pub fn routes(&self) -> impl Iterator<Item = &RouteName> {
        self.routes.iter()
    }
}

impl From<RouteTable> for Vec<RoutePrefix> {
    fn from(table: RouteTable) -> Vec<RoutePrefix> {
        table.prefixes
    }
}

impl TryFrom<Vec<RoutePrefix>> for RouteTable {
    type Error = RouteTableError;

    fn try_from(prefixes: Vec<RoutePrefix>) -> Result<RouteTable, RouteTableError> {
        RouteTable::new(prefixes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msisdn::Region;

    fn msisdn(input: &str) -> Msisdn {
        Msisdn::parse(input, Region::RW).expect("test numbers are valid")
    }

    fn line(prefix: &str, route: &str) -> RoutePrefix {
        RoutePrefix {
            prefix: prefix.to_owned(),
            route: RouteName::new(route).expect("valid name"),
        }
    }

    #[test]
    fn route_names_are_lowercase_letters_digits_and_dashes() {
        assert!(RouteName::new("mtn-rw").is_ok());
        assert!(RouteName::new("a".repeat(ROUTE_NAME_LEN_MAX)).is_ok());
        for bad in ["", "MTN-RW", "mtn_rw", "mtn rw", "mtn-rwé"] {
            assert!(RouteName::new(bad).is_err(), "{bad:?}");
        }
        assert!(RouteName::new("a".repeat(ROUTE_NAME_LEN_MAX + 1)).is_err());
    }

    #[test]
    fn rwanda_routes_mtn_and_airtel_numbers() {
        let table = RouteTable::rwanda();
        let route = |input| table.route_for(&msisdn(input)).map(RouteName::as_str);
        assert_eq!(route("0788123456"), Some("mtn-rw"));
        assert_eq!(route("0798123456"), Some("mtn-rw"));
        assert_eq!(route("0722123456"), Some("airtel-rw"));
        assert_eq!(route("0732123456"), Some("airtel-rw"));
    }

    #[test]
    fn number_without_matching_prefix_has_no_route() {
        let table = RouteTable::rwanda();
        assert_eq!(table.route_for(&msisdn("+46733123450")), None);
    }

    #[test]
    fn longest_matching_prefix_wins_whatever_the_configuration_order() {
        let table = RouteTable::new(vec![
            line("250", "default-rw"),
            line("2507881", "special"),
            line("25078", "mtn-rw"),
        ])
        .expect("valid table");
        let route = |input| table.route_for(&msisdn(input)).map(RouteName::as_str);
        assert_eq!(route("0788123456"), Some("special"));
        assert_eq!(route("0789123456"), Some("mtn-rw"));
        assert_eq!(route("0722123456"), Some("default-rw"));
    }

    #[test]
    fn routes_lists_each_route_once() {
        let table = RouteTable::rwanda();
        let names: Vec<&str> = table.routes().map(RouteName::as_str).collect();
        assert_eq!(names, ["airtel-rw", "mtn-rw"]);
    }

    #[test]
    fn construction_refuses_bad_duplicate_and_missing_prefixes() {
        let bad = |prefix: &str| RouteTable::new(vec![line(prefix, "mtn-rw")]);
        for prefix in ["", "+25078", "25 078", "2507a", "1234567890123456"] {
            assert_eq!(
                bad(prefix),
                Err(RouteTableError::InvalidPrefix {
                    prefix: prefix.to_owned()
                })
            );
        }
        let duplicate = RouteTable::new(vec![line("25078", "mtn-rw"), line("25078", "airtel-rw")]);
        assert_eq!(
            duplicate,
            Err(RouteTableError::DuplicatePrefix {
                prefix: "25078".to_owned()
            })
        );
        assert_eq!(RouteTable::new(Vec::new()), Err(RouteTableError::Empty));
    }

    #[test]
    fn table_loads_from_configuration_and_validates() {
        let json =
            r#"[{"prefix":"25078","route":"mtn-rw"},{"prefix":"25072","route":"airtel-rw"}]"#;
        let table: RouteTable = serde_json::from_str(json).expect("valid configuration");
        assert_eq!(
            table
                .route_for(&msisdn("0722123456"))
                .map(RouteName::as_str),
            Some("airtel-rw")
        );
        let bad_name = r#"[{"prefix":"25078","route":"MTN"}]"#;
        assert!(serde_json::from_str::<RouteTable>(bad_name).is_err());
        let duplicate = r#"[{"prefix":"25078","route":"a"},{"prefix":"25078","route":"b"}]"#;
        assert!(serde_json::from_str::<RouteTable>(duplicate).is_err());
    }
}
