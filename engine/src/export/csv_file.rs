//! The report as an RFC 4180 table: a UTF-8 byte-order mark (so that Excel reads UTF-8),
//! CRLF line ends, the column names, then one record per row. Header fields and totals are
//! not written: a CSV is a table, and opening and closing balances come as rows.

use std::io::Write;

use super::cell_text::{self, Digits};
use super::row_check::RowCheck;
use super::{Cell, ExportError, Report, ReportWriter};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) struct CsvWriter<W: Write> {
    csv: csv::Writer<W>,
    exponents: Vec<u32>,
    check: RowCheck,
    /// One field's text, reused from cell to cell.
    field: String,
}

impl<W: Write> CsvWriter<W> {
    pub(super) fn new(report: &Report, mut out: W, check: RowCheck) -> Result<Self, ExportError> {
        out.write_all(UTF8_BOM)?;
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        csv.write_record(report.columns.iter().map(|column| column.name.as_str()))?;
        let exponents = report.columns.iter().map(|c| c.kind.exponent()).collect();
        Ok(CsvWriter {
            csv,
            exponents,
            check,
            field: String::new(),
        })
    }
}

impl<W: Write> ReportWriter for CsvWriter<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        self.check.admit(cells)?;
        for (cell, exponent) in cells.iter().zip(&self.exponents) {
            self.field.clear();
            cell_text::write_cell(&mut self.field, cell, *exponent, Digits::Plain);
            self.csv.write_field(&self.field)?;
        }
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        self.check.finish()?;
        let mut out = self
            .csv
            .into_inner()
            .map_err(|failed| ExportError::Io(failed.into_error()))?;
        out.flush()?;
        Ok(())
    }
}
