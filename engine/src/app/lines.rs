//! One payout line checked before anything is stored: a routable mobile number, a
//! positive amount at the currency's scale, and the lengths and uniqueness of the
//! merchant's own fields. Used by single payouts, batch uploads (CSV and JSON) and the
//! `payrail batch submit` command, so every way in refuses the same things the same way.

use std::collections::HashSet;

use crate::money::{Amount, Currency};
use crate::msisdn::{Msisdn, Region};
use crate::payroll_csv::Row;
use crate::route::RouteTable;
use crate::store::line_errors::LineError;
use crate::store::payout_lines::NewPayoutLine;

/// The longest text each optional field may hold, as the schema allows.
pub const REFERENCE_MAX_CHARS: usize = 100;
pub const NAME_MAX_CHARS: usize = 200;
pub const NOTE_MAX_CHARS: usize = 160;

/// A line as given, before any check.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawLine<'a> {
    pub msisdn: &'a str,
    pub amount: &'a str,
    pub name: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

impl<'a> RawLine<'a> {
    /// A row of a payroll CSV, by its columns.
    pub fn from_row(row: &'a Row<'_>) -> RawLine<'a> {
        RawLine {
            msisdn: row.msisdn(),
            amount: row.amount(),
            name: row.name(),
            reference: row.reference(),
            note: row.note(),
        }
    }
}

/// What lines are checked against.
#[derive(Clone, Copy, Debug)]
pub struct LineRules<'a> {
    pub country: Region,
    pub routes: &'a RouteTable,
    pub currency: Currency,
    /// The fee each payout carries, from the merchant's agreement.
    pub fee: Amount,
}

/// Checks lines one by one, remembering references to refuse a duplicate.
#[derive(Debug)]
pub struct LineChecker<'a> {
    rules: LineRules<'a>,
    references: HashSet<String>,
}

impl<'a> LineChecker<'a> {
    pub fn new(rules: LineRules<'a>) -> LineChecker<'a> {
        LineChecker {
            rules,
            references: HashSet::new(),
        }
    }

    /// The line ready to store, or every reason it is refused.
    pub fn check(
        &mut self,
        line_no: i32,
        raw: RawLine<'_>,
    ) -> Result<NewPayoutLine, Vec<LineError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, reason: String| {
            errors.push(LineError {
                line: line_no,
                field: field.to_owned(),
                reason,
            });
        };
        let msisdn = Msisdn::parse(raw.msisdn.trim(), self.rules.country);
        let route = match &msisdn {
            Err(error) => {
                fail("msisdn", error.to_string());
                None
            }
            Ok(msisdn) => {
                let route = self.rules.routes.route_for(msisdn).cloned();
                if route.is_none() {
                    fail("msisdn", "no operator route serves this number".into());
                }
                route
            }
        };
        let amount = match Amount::parse(raw.amount.trim(), self.rules.currency) {
            Err(error) => {
                fail("amount", error.to_string());
                None
            }
            Ok(amount) if amount.is_zero() => {
                fail("amount", "the amount must be positive".into());
                None
            }
            Ok(amount) => Some(amount),
        };
        let text = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (name, reference, note) = (text(raw.name), text(raw.reference), text(raw.note));
        for (field, value, max) in [
            ("name", &name, NAME_MAX_CHARS),
            ("reference", &reference, REFERENCE_MAX_CHARS),
            ("note", &note, NOTE_MAX_CHARS),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                fail(field, format!("longer than {max} characters"));
            }
        }
        if let Some(reference) = &reference
            && reference.chars().count() <= REFERENCE_MAX_CHARS
            && !self.references.insert(reference.clone())
        {
            fail(
                "reference",
                "the same reference is on an earlier line".into(),
            );
        }
        match (msisdn, route, amount) {
            (Ok(msisdn), Some(route), Some(amount)) if errors.is_empty() => Ok(NewPayoutLine {
                line_no,
                msisdn,
                amount,
                fee: self.rules.fee,
                route,
                client_reference: reference,
                name,
                note,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(routes: &RouteTable) -> LineRules<'_> {
        LineRules {
            country: Region::RW,
            routes,
            currency: Currency::Rwf,
            fee: Amount::ZERO,
        }
    }

    fn line<'a>(msisdn: &'a str, amount: &'a str, reference: Option<&'a str>) -> RawLine<'a> {
        RawLine {
            msisdn,
            amount,
            reference,
            ..RawLine::default()
        }
    }

    #[test]
    fn a_good_line_passes_with_its_route() {
        let routes = RouteTable::rwanda();
        let mut checker = LineChecker::new(rules(&routes));
        let checked = checker
            .check(2, line("0788123456", "1500", Some("inv-1")))
            .expect("valid");
        assert_eq!(checked.route.as_str(), "mtn-rw");
        assert_eq!(checked.amount.minor(), 1500);
    }

    #[test]
    fn every_reason_of_a_bad_line_is_reported_with_its_field() {
        let routes = RouteTable::rwanda();
        let mut checker = LineChecker::new(rules(&routes));
        let errors = checker
            .check(7, line("0252123456", "12.5", None))
            .expect_err("two problems");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["msisdn", "amount"]);
        assert!(errors.iter().all(|e| e.line == 7));
        assert!(checker.check(8, line("0788123456", "0", None)).is_err());
    }

    #[test]
    fn a_reference_seen_before_is_refused() {
        let routes = RouteTable::rwanda();
        let mut checker = LineChecker::new(rules(&routes));
        assert!(checker.check(2, line("0788123456", "1", Some("a"))).is_ok());
        let errors = checker
            .check(3, line("0788123457", "1", Some("a")))
            .expect_err("duplicate");
        assert_eq!(errors[0].field, "reference");
    }
}
