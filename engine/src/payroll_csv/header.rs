//! A payroll file's header line: which column holds what. Names are matched without case
//! or surrounding spaces; `msisdn` and `amount` are required, `name`, `reference` and
//! `note` optional; each may appear once, and no other column may appear.

use std::borrow::Cow;

/// The columns a payroll file may have.
pub const COLUMNS: [&str; 5] = ["msisdn", "amount", "name", "reference", "note"];

/// Why a header was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderFault {
    #[error(
        "unknown column {0:?}; the columns are msisdn, amount and optionally name, reference, note"
    )]
    Unknown(String),
    #[error("column {position} has no name; every column needs one")]
    Unnamed { position: usize },
    #[error("the column {0:?} appears more than once")]
    Repeated(&'static str),
    #[error("the header has no {0:?} column; it needs at least msisdn and amount")]
    Missing(&'static str),
}

/// Where each column is, by its position in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    pub msisdn: usize,
    pub amount: usize,
    pub name: Option<usize>,
    pub reference: Option<usize>,
    pub note: Option<usize>,
    /// How many fields every line must have.
    pub count: usize,
}

impl Columns {
    /// Reads the header's fields (a byte-order mark already removed).
    pub fn from_header(fields: &[Cow<'_, str>]) -> Result<Columns, HeaderFault> {
        let mut found: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
        for (position, field) in fields.iter().enumerate() {
            let name = field.trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err(HeaderFault::Unnamed {
                    position: position + 1,
                });
            }
            let known = COLUMNS
                .iter()
                .position(|column| *column == name)
                .ok_or(HeaderFault::Unknown(name))?;
            if found[known].replace(position).is_some() {
                return Err(HeaderFault::Repeated(COLUMNS[known]));
            }
        }
        let [msisdn, amount, name, reference, note] = found;
        Ok(Columns {
            msisdn: msisdn.ok_or(HeaderFault::Missing("msisdn"))?,
            amount: amount.ok_or(HeaderFault::Missing("amount"))?,
            name,
            reference,
            note,
            count: fields.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Result<Columns, HeaderFault> {
        let fields: Vec<Cow<'_, str>> = names.iter().map(|n| Cow::Borrowed(*n)).collect();
        Columns::from_header(&fields)
    }

    #[test]
    fn columns_are_found_in_any_order_and_case() {
        let found = columns(&["Reference", " AMOUNT ", "msisdn"]).expect("valid");
        assert_eq!(
            (found.msisdn, found.amount, found.reference, found.name),
            (2, 1, Some(0), None)
        );
        assert_eq!(found.count, 3);
    }

    #[test]
    fn a_repeated_unknown_unnamed_or_missing_column_is_refused_by_name() {
        assert_eq!(
            columns(&["msisdn", "amount", "amount", "reference"]),
            Err(HeaderFault::Repeated("amount"))
        );
        assert_eq!(
            columns(&["msisdn", "amount", "iban"]),
            Err(HeaderFault::Unknown("iban".into()))
        );
        assert_eq!(
            columns(&["msisdn", "amount", ""]),
            Err(HeaderFault::Unnamed { position: 3 })
        );
        assert_eq!(
            columns(&["msisdn", "name"]),
            Err(HeaderFault::Missing("amount"))
        );
    }
}
