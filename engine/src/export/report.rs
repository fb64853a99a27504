//! What a report is made of: its title and header fields, its columns, the cells of a row,
//! its totals; and the rule that keeps free text from being read as a spreadsheet formula.

use std::borrow::Cow;

use super::ExportError;

/// Decimal places an amount column may have: ISO 4217's largest minor unit (CLF, UYW).
pub const AMOUNT_EXPONENT_MAX: u32 = 4;

/// Columns one report may have: more no longer fit an A4 landscape page readably.
pub const COLUMNS_MAX: usize = 24;

/// Header fields one report may have: the PDF's first page shows them all above the table.
pub const HEADER_FIELDS_MAX: usize = 16;

/// Totals one report may have: the PDF keeps them together on one page.
pub const TOTALS_MAX: usize = 16;

/// A report to render: everything but its rows, which are streamed to the writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// "Account statement".
    pub title: String,
    /// The document's own number ("ST-2026-11-0001"), on every PDF page.
    pub reference: String,
    /// Label/value pairs above the table: merchant, currency, period, time zone, generated
    /// at. The first two are repeated at the top of every PDF page.
    pub header: Vec<Field>,
    pub columns: Vec<Column>,
    /// Label/value pairs after the table ("Credits", "12 · 1,500,000"; "Closing balance").
    pub totals: Vec<Field>,
    /// Printed after the totals ("End of statement").
    pub end_note: Option<String>,
    /// The number of rows that will be written, known in advance so that every PDF page can
    /// say "Page N of M"; the writer refuses more or fewer.
    pub row_count: u64,
}

/// A label and its value, both already formatted for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// One column of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// The characters of a typical value, at least 1: it sets a text column's share of a
    /// PDF page's width and the width of the XLSX column. Times and numbers are sized for
    /// their widest value on paper whatever it says.
    pub width: u16,
    /// On paper only: the index of an earlier column that this one is printed below, on a
    /// second line of the row, to fit a wide table on the page. CSV and XLSX ignore it.
    pub below: Option<usize>,
}

impl Column {
    pub fn new(name: impl Into<String>, kind: ColumnKind, width: u16) -> Column {
        Column {
            name: name.into(),
            kind,
            width,
            below: None,
        }
    }

    /// This column printed below column `above` on paper.
    #[must_use]
    pub fn below(self, above: usize) -> Column {
        Column {
            below: Some(above),
            ..self
        }
    }
}

/// What a column holds, which decides how its cells are written and aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    /// Money in minor units, shown in the major unit with `exponent` decimals.
    Amount {
        exponent: u32,
    },
    Count,
    /// A date and time, already in the report's time zone.
    Time,
}

impl ColumnKind {
    /// The decimals of an amount column; 0 for the others.
    pub(super) fn exponent(self) -> u32 {
        match self {
            ColumnKind::Amount { exponent } => exponent,
            ColumnKind::Text | ColumnKind::Count | ColumnKind::Time => 0,
        }
    }
}

/// One cell of a row. A cell is of its column's kind, or `Empty`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Text the system composed (a reference, a status, an E.164 number), written as is.
    /// Text that a person typed (names, descriptions) must come through `Cell::free_text`.
    Text(String),
    /// An amount in the column currency's minor unit; negative for debits if the report
    /// shows them so.
    Amount(i64),
    Count(i64),
    /// Local to the report's time zone, which a header field names.
    Time(jiff::civil::DateTime),
    Empty,
}

impl Cell {
    /// A text cell for text that a person typed, neutralised so that no spreadsheet reads it
    /// as a formula (see `neutralise_formula`).
    #[must_use]
    pub fn free_text(text: &str) -> Cell {
        Cell::Text(neutralise_formula(text).into_owned())
    }

    /// Whether this cell may stand in a column of `kind`.
    pub(super) fn fits(&self, kind: ColumnKind) -> bool {
        matches!(
            (self, kind),
            (Cell::Empty, _)
                | (Cell::Text(_), ColumnKind::Text)
                | (Cell::Amount(_), ColumnKind::Amount { .. })
                | (Cell::Count(_), ColumnKind::Count)
                | (Cell::Time(_), ColumnKind::Time)
        )
    }
}

/// OWASP's defence against CSV injection: text that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is prefixed with a single quote, so that a spreadsheet shows it
/// instead of evaluating it. Applying it twice changes nothing.
#[must_use]
pub fn neutralise_formula(text: &str) -> Cow<'_, str> {
    const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

impl Report {
    /// Refuses a report that no format can render; the writers rely on what it checks.
    pub(super) fn validate(&self) -> Result<(), ExportError> {
        let invalid = |reason: String| Err(ExportError::InvalidReport { reason });
        if self.columns.is_empty() {
            return invalid("a report needs at least one column".to_owned());
        }
        if self.columns.len() > COLUMNS_MAX {
            return invalid(format!(
                "{} columns; at most {COLUMNS_MAX} fit a page",
                self.columns.len()
            ));
        }
        if self.header.len() > HEADER_FIELDS_MAX {
            return invalid(format!(
                "{} header fields; at most {HEADER_FIELDS_MAX}",
                self.header.len()
            ));
        }
        if self.totals.len() > TOTALS_MAX {
            return invalid(format!(
                "{} totals; at most {TOTALS_MAX}",
                self.totals.len()
            ));
        }
        for (index, column) in self.columns.iter().enumerate() {
            if column.width == 0 {
                return invalid(format!("column {:?} has width 0", column.name));
            }
            if let Some(above) = column.below
                && !self.may_stand_below(index, above)
            {
                return invalid(format!(
                    "column {:?} cannot be printed below column {above}",
                    column.name
                ));
            }
            if let ColumnKind::Amount { exponent } = column.kind
                && exponent > AMOUNT_EXPONENT_MAX
            {
                return invalid(format!(
                    "column {:?} has {exponent} decimals; at most {AMOUNT_EXPONENT_MAX}",
                    column.name
                ));
            }
        }
        Ok(())
    }

    /// Whether column `index` may be printed below column `above`: an earlier column that
    /// is on the first line and has nothing below it yet.
    fn may_stand_below(&self, index: usize, above: usize) -> bool {
        above < index
            && self.columns[above].below.is_none()
            && !self.columns[..index]
                .iter()
                .any(|column| column.below == Some(above))
    }
}
