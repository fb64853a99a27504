//! The workbook read back with calamine (cell types and values, where the table starts) and
//! its sheet XML read with zip (frozen panes, print setup).

use std::io::Read;
use std::path::Path;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use super::{statement, statement_file, write_report};
use crate::export::{Cell, Column, ColumnKind, Format, Report};

/// Title, six header fields and a blank row come before the table header.
const TABLE_HEADER_ROW: u32 = 8;

fn sheet(path: &Path) -> calamine::Range<Data> {
    let mut workbook: Xlsx<_> = open_workbook(path).expect("a valid workbook");
    workbook
        .worksheet_range("Report")
        .expect("the Report sheet")
}

fn cell(range: &calamine::Range<Data>, row: u32, column: u32) -> Data {
    range
        .get_value((row, column))
        .cloned()
        .unwrap_or(Data::Empty)
}

fn text(value: &str) -> Data {
    Data::String(value.to_owned())
}

pub(super) fn zipped_text(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open the workbook");
    let mut archive = zip::ZipArchive::new(file).expect("an XLSX is a zip");
    let mut text = String::new();
    archive
        .by_name(name)
        .expect("part present")
        .read_to_string(&mut text)
        .expect("UTF-8 XML");
    text
}

#[test]
fn the_sheet_has_the_title_header_fields_then_the_table_header_in_bold_position() {
    let (_directory, path) = statement_file(Format::Xlsx, 3);
    let range = sheet(&path);
    assert_eq!(cell(&range, 0, 0), text("Account statement"));
    assert_eq!(cell(&range, 1, 0), text("Merchant"));
    assert_eq!(cell(&range, 1, 1), text("Kigali Coffee Roasters Ltd"));
    assert_eq!(cell(&range, 6, 0), text("Generated at"));
    assert_eq!(cell(&range, 7, 0), Data::Empty);
    for (index, column) in statement(0).columns.iter().enumerate() {
        let index = u32::try_from(index).expect("12 columns");
        assert_eq!(cell(&range, TABLE_HEADER_ROW, index), text(&column.name));
    }
}

#[test]
fn amounts_and_counts_are_numbers_times_are_datetimes_and_text_is_strings() {
    let (_directory, path) = statement_file(Format::Xlsx, 3);
    let range = sheet(&path);
    let payout = TABLE_HEADER_ROW + 2;
    let booked = cell(&range, payout, 0);
    assert!(matches!(booked, Data::DateTime(_)), "{booked:?}");
    let booked = booked.as_datetime().expect("a date and time");
    assert_eq!(booked.to_string(), "2026-11-03 14:01:09");
    assert_eq!(cell(&range, payout, 1), text("PO-0000001"));
    assert_eq!(cell(&range, payout, 4), text("+250788123456"));
    assert_eq!(cell(&range, payout, 7), Data::Float(1.0));
    assert_eq!(cell(&range, payout, 8), Data::Float(150.0));
    assert_eq!(cell(&range, payout, 9), Data::Float(1_501_000.0));
    assert_eq!(cell(&range, payout, 10), Data::Empty);
    assert_eq!(cell(&range, payout, 11), Data::Float(987_654_321.0));
}

#[test]
fn totals_and_the_end_note_follow_the_rows_after_a_blank_row() {
    let (_directory, path) = statement_file(Format::Xlsx, 3);
    let range = sheet(&path);
    let first_total = TABLE_HEADER_ROW + 3 + 2;
    assert_eq!(cell(&range, first_total - 1, 0), Data::Empty);
    assert_eq!(cell(&range, first_total, 0), text("Credits"));
    assert_eq!(cell(&range, first_total, 1), text("12 · 1,500,000"));
    assert_eq!(cell(&range, first_total + 2, 0), text("Closing balance"));
    assert_eq!(cell(&range, first_total + 3, 0), text("End of statement"));
}

#[test]
fn decimal_amounts_are_the_exact_major_unit_value_with_two_decimals_shown() {
    let report = Report {
        columns: vec![Column::new("Amount", ColumnKind::Amount { exponent: 2 }, 1)],
        header: vec![],
        totals: vec![],
        end_note: None,
        row_count: 2,
        ..statement(0)
    };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let rows = [vec![Cell::Amount(1250)], vec![Cell::Amount(-5)]];
    let path = write_report(&directory, Format::Xlsx, &report, rows);
    let range = sheet(&path);
    // Title, blank row, table header: the rows start on the fourth.
    assert_eq!(cell(&range, 3, 0), Data::Float(12.5));
    assert_eq!(cell(&range, 4, 0), Data::Float(-0.05));
    let styles = zipped_text(&path, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"#,##0.00\""), "{styles}");
}

#[test]
fn the_table_header_is_frozen_and_repeated_on_every_landscape_page_one_page_wide() {
    let (_directory, path) = statement_file(Format::Xlsx, 3);
    let sheet_xml = zipped_text(&path, "xl/worksheets/sheet1.xml");
    assert!(
        sheet_xml.contains("topLeftCell=\"A10\""),
        "frozen below row 9: {sheet_xml}"
    );
    assert!(sheet_xml.contains("state=\"frozen\""));
    assert!(sheet_xml.contains("orientation=\"landscape\""));
    assert!(sheet_xml.contains("fitToWidth=\"1\"") || !sheet_xml.contains("fitToWidth="));
    assert!(sheet_xml.contains("fitToHeight=\"0\""));
    assert!(sheet_xml.contains("Page &amp;P of &amp;N"));
    let workbook_xml = zipped_text(&path, "xl/workbook.xml");
    assert!(workbook_xml.contains("_xlnm.Print_Titles"));
    assert!(workbook_xml.contains("Report!$9:$9"), "{workbook_xml}");
}

#[test]
fn large_numbers_of_cells_are_read_back_in_order() {
    let (_directory, path) = statement_file(Format::Xlsx, 500);
    let range = sheet(&path);
    let last = TABLE_HEADER_ROW + 500;
    assert_eq!(cell(&range, last, 1), text("PO-0000499"));
    assert!(cell(&range, last, 9).is_float());
}
