//! The report as an Excel workbook of one sheet, written in rust_xlsxwriter's constant-memory
//! mode (each row goes to a temporary file as soon as the next one starts), so every row is
//! written in order: title, header fields, a blank row, the table header, the data rows, a
//! blank row, the totals and the end note. Amounts and counts are numbers, times real Excel
//! datetimes, text always a string and never a formula. Printing repeats the table header
//! on every landscape page, one page wide.

use std::io::Write;

use rust_xlsxwriter::{
    ColNum, DocProperties, Format as CellFormat, FormatAlign, FormatBorder, RowNum, Workbook,
    Worksheet, XlsxError,
};

use super::cell_text::{self, Digits};
use super::report::neutralise_formula;
use super::row_check::RowCheck;
use super::{Cell, Column, ColumnKind, ExportError, Field, Report, ReportWriter};

/// Rows in an Excel sheet.
const SHEET_ROWS_MAX: u64 = 1_048_576;
/// A fast deflate level that still compresses well.
const ZIP_LEVEL: u8 = 2;
/// Excel's paper size code for A4.
const PAPER_A4: u8 = 9;
/// The widest a column is set, in characters; longer text is still all in the cell.
const COLUMN_WIDTH_MAX_CHARS: usize = 60;

pub(super) struct XlsxWriter<W: Write + Send> {
    workbook: Workbook,
    out: W,
    check: RowCheck,
    columns: Vec<Column>,
    /// Each column's number or date format (a plain one for text).
    cell_formats: Vec<CellFormat>,
    bold: CellFormat,
    totals: Vec<Field>,
    end_note: Option<String>,
    next_row: RowNum,
}

impl<W: Write + Send> XlsxWriter<W> {
    pub(super) fn new(report: &Report, out: W, check: RowCheck) -> Result<Self, ExportError> {
        let header_rows = 1 + report.header.len() as u64 + 1;
        let trailing_rows = 1 + report.totals.len() as u64 + u64::from(report.end_note.is_some());
        if header_rows + 1 + report.row_count + trailing_rows > SHEET_ROWS_MAX {
            return Err(ExportError::InvalidReport {
                reason: format!("{} rows do not fit an Excel sheet", report.row_count),
            });
        }
        let mut workbook = Workbook::new();
        // Deflate at level 6 (the default) was 40 % of a million-row statement's time;
        // level 2 halves the whole for a file a fifth larger (level 1: two thirds larger).
        workbook.set_zip_compression_level(ZIP_LEVEL);
        workbook.set_properties(&DocProperties::new().set_title(&report.title));
        let bold = CellFormat::new().set_bold();
        let cell_formats = report.columns.iter().map(|c| cell_format(c.kind)).collect();
        let mut writer = XlsxWriter {
            workbook,
            out,
            check,
            columns: report.columns.clone(),
            cell_formats,
            bold,
            totals: report.totals.clone(),
            end_note: report.end_note.clone(),
            next_row: 0,
        };
        writer.write_opening(report)?;
        Ok(writer)
    }

    /// Sets up the sheet and writes everything above the data rows.
    fn write_opening(&mut self, report: &Report) -> Result<(), XlsxError> {
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("Report")?;
        let title_format = CellFormat::new().set_bold().set_font_size(14);
        sheet.write_string_with_format(0, 0, neutralise_formula(&report.title), &title_format)?;
        for (offset, field) in report.header.iter().enumerate() {
            let row = 1 + RowNum::try_from(offset).expect("the sheet row limit was checked");
            write_field(sheet, row, field, &self.bold)?;
        }
        let header_row =
            RowNum::try_from(report.header.len() + 2).expect("the sheet row limit was checked");
        for (index, column) in self.columns.iter().enumerate() {
            let col = column_number(index);
            let format = table_header_format(column.kind);
            sheet.write_string_with_format(header_row, col, &column.name, &format)?;
            sheet.set_column_width(col, column_width_chars(index, column, report))?;
        }
        sheet.set_freeze_panes(header_row + 1, 0)?;
        sheet.set_repeat_rows(header_row, header_row)?;
        sheet.set_landscape();
        sheet.set_paper_size(PAPER_A4);
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_footer("&CPage &P of &N");
        self.next_row = header_row + 1;
        Ok(())
    }
}

impl<W: Write + Send> ReportWriter for XlsxWriter<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        self.check.admit(cells)?;
        let row = self.next_row;
        let XlsxWriter {
            workbook,
            columns,
            cell_formats,
            ..
        } = self;
        let sheet = workbook.worksheet_from_index(0)?;
        for (index, cell) in cells.iter().enumerate() {
            let col = column_number(index);
            let format = &cell_formats[index];
            match cell {
                Cell::Text(text) => sheet.write_string(row, col, text)?,
                Cell::Amount(minor) => {
                    let exponent = columns[index].kind.exponent();
                    sheet.write_number_with_format(
                        row,
                        col,
                        amount_number(*minor, exponent),
                        format,
                    )?
                }
                Cell::Count(count) => {
                    sheet.write_number_with_format(row, col, amount_number(*count, 0), format)?
                }
                Cell::Time(time) => sheet.write_datetime_with_format(row, col, time, format)?,
                Cell::Empty => sheet,
            };
        }
        self.next_row += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        self.check.finish()?;
        let XlsxWriter {
            mut workbook,
            mut out,
            bold,
            totals,
            end_note,
            next_row,
            ..
        } = *self;
        let sheet = workbook.worksheet_from_index(0)?;
        let mut row = next_row + 1;
        for field in &totals {
            write_field(sheet, row, field, &bold)?;
            row += 1;
        }
        if let Some(end_note) = &end_note {
            sheet.write_string(row, 0, neutralise_formula(end_note))?;
        }
        workbook.save_to_writer(&mut out)?;
        out.flush()?;
        Ok(())
    }
}

/// A label (bold) in column A and its value in column B, as text.
fn write_field(
    sheet: &mut Worksheet,
    row: RowNum,
    field: &Field,
    bold: &CellFormat,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, 0, neutralise_formula(&field.label), bold)?;
    sheet.write_string(row, 1, neutralise_formula(&field.value))?;
    Ok(())
}

fn cell_format(kind: ColumnKind) -> CellFormat {
    match kind {
        ColumnKind::Text => CellFormat::new(),
        ColumnKind::Amount { exponent: 0 } => CellFormat::new().set_num_format("#,##0"),
        ColumnKind::Amount { exponent } => {
            let decimals = "0".repeat(exponent as usize);
            CellFormat::new().set_num_format(format!("#,##0.{decimals}"))
        }
        ColumnKind::Count => CellFormat::new().set_num_format("0"),
        ColumnKind::Time => CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
    }
}

/// Bold on a light band with a rule under it; over numbers, aligned right like them.
fn table_header_format(kind: ColumnKind) -> CellFormat {
    let format = CellFormat::new()
        .set_bold()
        .set_background_color(0xE8_EC_F1)
        .set_border_bottom(FormatBorder::Thin);
    match kind {
        ColumnKind::Amount { .. } | ColumnKind::Count => format.set_align(FormatAlign::Right),
        ColumnKind::Text | ColumnKind::Time => format,
    }
}

/// Wide enough for the column's name and its kind of value, and the first column for the
/// labels of the header fields and totals, which stand in it.
fn column_width_chars(index: usize, column: &Column, report: &Report) -> u16 {
    let by_kind = match column.kind {
        ColumnKind::Time => 19,
        ColumnKind::Amount { .. } => 16,
        ColumnKind::Count => 8,
        ColumnKind::Text => usize::from(column.width),
    };
    let by_name = column.name.chars().count() + 2;
    let by_fields = if index == 0 {
        longest(report.header.iter().chain(&report.totals).map(|f| &f.label))
    } else {
        0
    };
    let chars = by_kind
        .max(by_name)
        .max(by_fields)
        .min(COLUMN_WIDTH_MAX_CHARS);
    u16::try_from(chars).expect("at most COLUMN_WIDTH_MAX_CHARS")
}

fn longest<'a>(texts: impl Iterator<Item = &'a String>) -> usize {
    texts
        .map(|text| text.chars().count() + 2)
        .max()
        .unwrap_or(0)
}

/// The amount in the major unit as the double nearest to its exact decimal value, got by
/// reading its decimal text rather than dividing, so that no float arithmetic touches money.
fn amount_number(minor: i64, exponent: u32) -> f64 {
    let mut decimal = String::new();
    cell_text::write_amount(&mut decimal, minor, exponent, Digits::Plain);
    decimal
        .parse()
        .expect("a plain decimal amount is a valid f64 literal")
}

fn column_number(index: usize) -> ColNum {
    ColNum::try_from(index).expect("a report has at most COLUMNS_MAX columns")
}
