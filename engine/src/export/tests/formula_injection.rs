//! OWASP's CSV injection: free text that a spreadsheet would run as a formula comes out
//! behind a single quote, the same in all three formats, and header values and totals too.

use calamine::{Data, Reader, Xlsx, open_workbook};

use super::pdf_text::pdf_pages;
use super::xlsx_read_back::zipped_text;
use super::{HOSTILE_NAME, NEUTRALISED_NAME, write_report};
use crate::export::{Cell, Column, ColumnKind, Field, Format, Report, neutralise_formula};

fn hostile_report() -> Report {
    Report {
        title: "Transactions".to_owned(),
        reference: "TR-9".to_owned(),
        header: vec![
            Field::new("Merchant", "@SUM(A1:A9)"),
            Field::new("Period", "November"),
        ],
        columns: vec![
            Column::new("Name", ColumnKind::Text, 3),
            Column::new("Amount", ColumnKind::Amount { exponent: 0 }, 1),
        ],
        totals: vec![Field::new("Note", "+1+1")],
        end_note: None,
        row_count: 1,
    }
}

fn write_hostile(directory: &tempfile::TempDir, format: Format) -> std::path::PathBuf {
    let rows = [vec![Cell::free_text(HOSTILE_NAME), Cell::Amount(100)]];
    write_report(directory, format, &hostile_report(), rows)
}

#[test]
fn every_formula_start_is_quoted_and_other_text_is_left_alone() {
    for start in ["=", "+", "-", "@", "\t", "\r"] {
        let text = format!("{start}1+1");
        assert_eq!(neutralise_formula(&text), format!("'{text}"));
    }
    assert_eq!(neutralise_formula("Alice"), "Alice");
    assert_eq!(neutralise_formula("a=b"), "a=b");
    assert_eq!(neutralise_formula(""), "");
    let once = neutralise_formula("=1").into_owned();
    assert_eq!(
        neutralise_formula(&once),
        once,
        "applying it twice changes nothing"
    );
    assert_eq!(Cell::free_text("-5"), Cell::Text("'-5".to_owned()));
}

#[test]
fn the_csv_field_starts_with_the_quote() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_hostile(&directory, Format::Csv);
    let bytes = std::fs::read(&path).expect("read the CSV");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let record = reader
        .records()
        .next()
        .expect("one row")
        .expect("valid CSV");
    assert_eq!(&record[0], NEUTRALISED_NAME);
}

#[test]
fn the_xlsx_cell_is_a_string_and_the_sheet_has_no_formula() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_hostile(&directory, Format::Xlsx);
    let mut workbook: Xlsx<_> = open_workbook(&path).expect("a valid workbook");
    let range = workbook.worksheet_range("Report").expect("the sheet");
    // Title, two header fields, a blank row, the table header: the row is the sixth.
    let name = range.get_value((5, 0)).cloned();
    assert_eq!(name, Some(Data::String(NEUTRALISED_NAME.to_owned())));
    let merchant = range.get_value((1, 1)).cloned();
    assert_eq!(merchant, Some(Data::String("'@SUM(A1:A9)".to_owned())));
    // After the row, a blank row, then the total.
    let total = range.get_value((7, 1)).cloned();
    assert_eq!(total, Some(Data::String("'+1+1".to_owned())));
    let formulas = workbook.worksheet_formula("Report").expect("the sheet");
    assert!(
        formulas.used_cells().next().is_none(),
        "no formula in the sheet"
    );
    let sheet_xml = zipped_text(&path, "xl/worksheets/sheet1.xml");
    assert!(
        !sheet_xml.contains("<f>") && !sheet_xml.contains("<f "),
        "{sheet_xml}"
    );
}

#[test]
fn the_pdf_shows_the_same_quoted_text() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_hostile(&directory, Format::Pdf);
    let page = &pdf_pages(&path)[0];
    assert!(page.contains(NEUTRALISED_NAME), "{page}");
    assert!(page.contains("'@SUM(A1:A9)"), "{page}");
    assert!(page.contains("'+1+1"), "{page}");
}
