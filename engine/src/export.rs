//! One report (statement, transaction report, reconciliation, analytics) written as CSV, XLSX
//! or PDF: the caller describes it with a `Report` and streams its rows to the `ReportWriter`
//! that `writer` returns; this module only renders, it never computes money.

mod cell_text;
mod csv_file;
mod pdf_file;
mod report;
mod row_check;
mod xlsx_file;

use std::fmt;
use std::io::Write;
use std::str::FromStr;

pub use self::report::{
    AMOUNT_EXPONENT_MAX, COLUMNS_MAX, Cell, Column, ColumnKind, Field, HEADER_FIELDS_MAX, Report,
    TOTALS_MAX, neutralise_formula,
};
use self::row_check::RowCheck;

/// A file format a report can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// RFC 4180 with a UTF-8 byte-order mark: the table only, for spreadsheets and scripts.
    Csv,
    /// An Excel workbook with one sheet: header fields, the table with real numbers and
    /// dates, totals; set up to print.
    Xlsx,
    /// A paginated A4 landscape document, as a bank prints a statement.
    Pdf,
}

impl Format {
    /// Every format, in the order a user is offered them.
    pub const ALL: [Format; 3] = [Format::Csv, Format::Xlsx, Format::Pdf];

    /// The MIME type for a `Content-Type` header.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }

    /// The file name extension, without the dot; also the name `from_str` reads.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that is none of "csv", "xlsx" and "pdf".
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {given:?}: expected csv, xlsx or pdf")]
pub struct UnknownFormat {
    pub given: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// "csv", "xlsx" or "pdf", in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.extension().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat {
                given: name.to_owned(),
            })
    }
}

/// Why a report could not be written. The first three are the caller's mistakes and will
/// happen again with the same input; the rest come from the file or the renderer.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The `Report` itself cannot be rendered (no columns, an unsupported exponent...).
    #[error("the report cannot be rendered: {reason}")]
    InvalidReport { reason: String },
    /// A row does not fit the columns: wrong number of cells, or a cell of another kind
    /// than its column.
    #[error("row {row}: {reason}")]
    InvalidRow { row: u64, reason: String },
    /// More or fewer rows than `Report::row_count` announced, which the PDF's page count
    /// was computed from.
    #[error("the report announced {announced} rows but {written} were written")]
    RowCount { announced: u64, written: u64 },
    #[error("writing the export file failed")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV failed")]
    Csv(#[from] csv::Error),
    #[error("writing the XLSX workbook failed")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// krilla's error holds a font handle; only its message is kept so that this error
    /// stays `Send + Sync`.
    #[error("rendering the PDF failed: {detail}")]
    Pdf { detail: String },
}

/// Takes a report's rows in order, then completes the file.
pub trait ReportWriter {
    /// Writes one row: exactly one cell per column, each of its column's kind or `Empty`.
    fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError>;

    /// Writes what follows the rows (totals, end note), completes the file and flushes it.
    /// A file whose writer was dropped without `finish` is incomplete.
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// A writer for `report` in `format` onto `out` (a file, usually), which it owns until
/// `finish`. CSV streams; XLSX keeps its rows in a temporary file and PDF its pages in
/// memory, and both write `out` in one go at `finish`.
pub fn writer<W>(
    format: Format,
    report: &Report,
    out: W,
) -> Result<Box<dyn ReportWriter>, ExportError>
where
    W: Write + Send + 'static,
{
    report.validate()?;
    let check = RowCheck::new(report);
    Ok(match format {
        Format::Csv => Box::new(csv_file::CsvWriter::new(report, out, check)?),
        Format::Xlsx => Box::new(xlsx_file::XlsxWriter::new(report, out, check)?),
        Format::Pdf => Box::new(pdf_file::PdfWriter::new(report, out, check)),
    })
}

#[cfg(test)]
mod tests;
