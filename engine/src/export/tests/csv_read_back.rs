//! The CSV read back with the `csv` crate: byte-order mark, CRLF, the header record, and
//! values as plain decimals in the major unit.

use super::{statement, statement_file, write_report};
use crate::export::{Cell, Column, ColumnKind, Field, Format, Report};

fn read_records(bytes: &[u8]) -> Vec<csv::StringRecord> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("the file starts with a UTF-8 byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .collect::<Result<_, _>>()
        .expect("valid RFC 4180")
}

#[test]
fn the_csv_is_the_table_alone_with_a_bom_and_crlf_line_ends() {
    let (_directory, path) = statement_file(Format::Csv, 3);
    let bytes = std::fs::read(&path).expect("read the CSV");
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    assert_eq!(
        text.matches("\r\n").count(),
        4,
        "a header and 3 rows, each ending CRLF"
    );
    assert_eq!(text.matches('\n').count(), 4, "no bare LF");
    assert!(
        !text.contains("Kigali Coffee"),
        "header fields are not in the CSV"
    );
    assert!(
        !text.contains("Closing balance"),
        "totals are not in the CSV"
    );

    let records = read_records(&bytes);
    assert_eq!(records.len(), 4);
    let report = statement(0);
    let names: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(records[0].iter().collect::<Vec<_>>(), names);
    let payout = records[2].iter().collect::<Vec<_>>();
    assert_eq!(
        payout,
        [
            "2026-11-03 14:01:09",
            "PO-0000001",
            "Payout",
            "Employee number 1 with a long name",
            "+250788123456",
            "November salary",
            "MTN",
            "1",
            "150",
            "1501000",
            "",
            "987654321",
        ]
    );
    let top_up = &records[1];
    assert_eq!((&top_up[9], &top_up[10]), ("", "1500000"));
}

#[test]
fn amounts_have_exactly_their_currency_decimals_and_no_separators() {
    let report = Report {
        title: "Transactions".to_owned(),
        reference: "TR-1".to_owned(),
        header: vec![Field::new("Currency", "EUR")],
        columns: vec![
            Column::new("Amount", ColumnKind::Amount { exponent: 2 }, 1),
            Column::new("Note", ColumnKind::Text, 1),
        ],
        totals: vec![],
        end_note: None,
        row_count: 3,
    };
    let rows = [1250, 123_456_789, -5]
        .map(|minor| vec![Cell::Amount(minor), Cell::Text("a, \"b\"".to_owned())]);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_report(&directory, Format::Csv, &report, rows);
    let records = read_records(&std::fs::read(&path).expect("read the CSV"));
    let amounts: Vec<&str> = records[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(amounts, ["12.50", "1234567.89", "-0.05"]);
    assert_eq!(
        &records[1][1], "a, \"b\"",
        "commas and quotes survive quoting"
    );
}
