//! Each format written to a real file and read back with an independent reader: the `csv`
//! crate, calamine, and poppler's `pdftotext`.

mod csv_read_back;
mod formula_injection;
mod pdf_text;
mod xlsx_read_back;

use std::path::PathBuf;

use super::{Cell, Column, ColumnKind, Field, Format, Report, writer};

/// The hostile name of OWASP's example, and how every format must show it.
const HOSTILE_NAME: &str = "=HYPERLINK(\"http://x\",\"y\")";
const NEUTRALISED_NAME: &str = "'=HYPERLINK(\"http://x\",\"y\")";

/// A merchant's statement in RWF with 12 columns, as the statements service will build it.
fn statement(row_count: u64) -> Report {
    let rwf = ColumnKind::Amount { exponent: 0 };
    Report {
        title: "Account statement".to_owned(),
        reference: "ST-2026-11-0001".to_owned(),
        header: vec![
            Field::new("Merchant", "Kigali Coffee Roasters Ltd"),
            Field::new("Period", "2026-11-01 to 2026-11-30"),
            Field::new("Currency", "RWF"),
            Field::new("Time zone", "Africa/Kigali"),
            Field::new("Account", "MRC-000184"),
            Field::new("Generated at", "2026-12-01 08:00:00"),
        ],
        columns: vec![
            Column::new("Booked at", ColumnKind::Time, 19),
            Column::new("Reference", ColumnKind::Text, 10),
            Column::new("Type", ColumnKind::Text, 6),
            Column::new("Counterparty", ColumnKind::Text, 20),
            Column::new("Phone", ColumnKind::Text, 13),
            Column::new("Description", ColumnKind::Text, 16),
            Column::new("Operator", ColumnKind::Text, 5),
            Column::new("Items", ColumnKind::Count, 3),
            Column::new("Fee", rwf, 6),
            Column::new("Debit", rwf, 12),
            Column::new("Credit", rwf, 12),
            Column::new("Balance", rwf, 12),
        ],
        totals: vec![
            Field::new("Credits", "12 · 1,500,000"),
            Field::new("Debits", "3 · 250,000"),
            Field::new("Closing balance", "1,250,000"),
        ],
        end_note: Some("End of statement".to_owned()),
        row_count,
    }
}

/// Row `index` of the statement: a payout with a fee, every tenth one a top-up.
fn statement_row(index: u64) -> Vec<Cell> {
    let minute = i8::try_from(index % 60).expect("below 60");
    let booked = jiff::civil::date(2026, 11, 3).at(14, minute, 9, 0);
    let amount = 1_500_000 + i64::try_from(index).expect("small") * 1000;
    let top_up = index.is_multiple_of(10);
    vec![
        Cell::Time(booked),
        Cell::Text(format!("PO-{index:07}")),
        Cell::Text(if top_up { "Top-up" } else { "Payout" }.to_owned()),
        Cell::free_text(&format!("Employee number {index} with a long name")),
        Cell::Text("+250788123456".to_owned()),
        Cell::free_text("November salary"),
        Cell::Text("MTN".to_owned()),
        Cell::Count(1),
        if top_up {
            Cell::Empty
        } else {
            Cell::Amount(150)
        },
        if top_up {
            Cell::Empty
        } else {
            Cell::Amount(amount)
        },
        if top_up {
            Cell::Amount(amount)
        } else {
            Cell::Empty
        },
        Cell::Amount(987_654_321),
    ]
}

/// Writes `report` with `rows` into a temporary directory and returns the file's path.
fn write_report(
    directory: &tempfile::TempDir,
    format: Format,
    report: &Report,
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> PathBuf {
    let path = directory
        .path()
        .join(format!("report.{}", format.extension()));
    let file = std::fs::File::create(&path).expect("create the export file");
    let mut writer = writer(format, report, file).expect("a valid report");
    for row in rows {
        writer.row(&row).expect("a valid row");
    }
    writer.finish().expect("finish the export");
    path
}

fn statement_file(format: Format, row_count: u64) -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let rows = (0..row_count).map(statement_row);
    let path = write_report(&directory, format, &statement(row_count), rows);
    (directory, path)
}

#[test]
fn format_names_are_read_in_any_case_and_unknown_ones_name_the_three() {
    assert_eq!("PDF".parse::<Format>(), Ok(Format::Pdf));
    assert_eq!("xlsx".parse::<Format>(), Ok(Format::Xlsx));
    assert_eq!("Csv".parse::<Format>(), Ok(Format::Csv));
    let unknown = "xls".parse::<Format>().expect_err("not a format");
    assert_eq!(
        unknown.to_string(),
        "unknown export format \"xls\": expected csv, xlsx or pdf"
    );
    for format in Format::ALL {
        assert_eq!(format.extension().parse::<Format>(), Ok(format));
    }
    assert_eq!(Format::Pdf.content_type(), "application/pdf");
}

#[test]
fn a_report_no_format_can_render_is_refused_before_anything_is_written() {
    let mut no_columns = statement(0);
    no_columns.columns.clear();
    let mut too_many_decimals = statement(0);
    too_many_decimals.columns[8].kind = ColumnKind::Amount { exponent: 5 };
    for report in [no_columns, too_many_decimals] {
        for format in Format::ALL {
            let refused = writer(format, &report, std::io::sink());
            assert!(matches!(
                refused,
                Err(super::ExportError::InvalidReport { .. })
            ));
        }
    }
}

#[test]
fn every_format_refuses_a_row_of_the_wrong_shape_and_a_short_report() {
    for format in Format::ALL {
        let mut writer = writer(format, &statement(2), std::io::sink()).expect("valid report");
        writer.row(&statement_row(0)).expect("a valid row");
        let refused = writer.row(&[Cell::Empty]);
        assert!(matches!(
            refused,
            Err(super::ExportError::InvalidRow { row: 2, .. })
        ));
        let refused = writer.finish();
        assert!(matches!(
            refused,
            Err(super::ExportError::RowCount {
                announced: 2,
                written: 1
            })
        ));
    }
}
