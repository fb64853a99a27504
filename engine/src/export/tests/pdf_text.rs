//! The PDF's text as poppler's `pdftotext -layout` extracts it: every header field, the
//! column names, cell values formatted for people and right-aligned, "Page N of M" with the
//! right M, the totals and the end note.

use std::path::Path;
use std::process::Command;

use super::{statement_file, write_report};
use crate::export::{Cell, Column, ColumnKind, Format, Report};

/// The text of each page, in order.
pub(super) fn pdf_pages(path: &Path) -> Vec<String> {
    let output = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 text");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|page| page.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[test]
fn a_250_row_statement_has_every_header_field_and_page_n_of_m_on_every_page() {
    // 29 rows fit under the header fields of the first page and 32 on each other: 8 pages
    // of rows, the last with 29 rows and no room left for three totals and the end note,
    // which take a ninth.
    let (_directory, path) = statement_file(Format::Pdf, 250);
    let pages = pdf_pages(&path);
    assert_eq!(pages.len(), 9);
    for (index, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Page {} of 9", index + 1)),
            "page {}",
            index + 1
        );
        assert!(page.contains("Account statement"));
        assert!(page.contains("ST-2026-11-0001"));
        assert!(page.contains("Kigali Coffee Roasters Ltd"));
        assert!(page.contains("2026-11-01 to 2026-11-30"));
    }
    let first = &pages[0];
    for field in [
        "Currency",
        "RWF",
        "Time zone",
        "Africa/Kigali",
        "MRC-000184",
        "2026-12-01 08:00:00",
    ] {
        assert!(first.contains(field), "{field} on the first page:\n{first}");
    }
    for name in [
        "Booked at",
        "Reference",
        "Counterparty",
        "Items",
        "Debit",
        "Credit",
        "Balance",
    ] {
        assert!(
            pages[1].contains(name),
            "column {name} repeated on page 2:\n{}",
            pages[1]
        );
    }
    assert!(first.contains("PO-0000001"));
    assert!(first.contains("2026-11-03 14:01:09"));
    assert!(first.contains("1,501,000"));
    assert!(first.contains("987,654,321"));
    assert!(pages[7].contains("PO-0000249"));
    assert!(!pages[7].contains("Closing balance"));
    let last = &pages[8];
    for total in [
        "Credits",
        "12 · 1,500,000",
        "Debits",
        "Closing balance",
        "1,250,000",
        "End of statement",
    ] {
        assert!(last.contains(total), "{total} on the last page:\n{last}");
    }
}

#[test]
fn totals_that_fit_under_the_last_row_share_its_page() {
    let (_directory, path) = statement_file(Format::Pdf, 5);
    let pages = pdf_pages(&path);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].contains("Page 1 of 1"));
    assert!(pages[0].contains("Closing balance"));
    assert!(pages[0].contains("End of statement"));
}

fn amounts_report(row_count: u64) -> Report {
    Report {
        title: "Batch reconciliation".to_owned(),
        reference: "BR-7".to_owned(),
        header: vec![],
        columns: vec![
            Column::new("Name", ColumnKind::Text, 12),
            Column::new("Amount", ColumnKind::Amount { exponent: 2 }, 12),
            Column::new("Lines", ColumnKind::Count, 6),
        ],
        totals: vec![],
        end_note: None,
        row_count,
    }
}

#[test]
fn numbers_are_grouped_by_thousands_and_aligned_right() {
    let rows = [(5, 7), (150_000, 12_000), (150_000_000, 3)].map(|(minor, lines)| {
        vec![
            Cell::Text("x".to_owned()),
            Cell::Amount(minor),
            Cell::Count(lines),
        ]
    });
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_report(&directory, Format::Pdf, &amounts_report(3), rows);
    let words = word_boxes(&path);
    let right_edge = |value: &str| {
        words
            .iter()
            .find(|(word, _)| word == value)
            .unwrap_or_else(|| panic!("{value} in {words:?}"))
            .1
    };
    let same = |a: &str, b: &str| {
        let (a_edge, b_edge) = (right_edge(a), right_edge(b));
        assert!(
            (a_edge - b_edge).abs() < 0.01,
            "{a} ends at {a_edge}, {b} at {b_edge}"
        );
    };
    same("0.05", "1,500.00");
    same("1,500.00", "1,500,000.00");
    same("Amount", "1,500,000.00");
    same("12,000", "Lines");
}

/// Every word of the first page with the x of its right edge, from `pdftotext -bbox`.
fn word_boxes(path: &Path) -> Vec<(String, f64)> {
    let output = Command::new("pdftotext")
        .args(["-bbox", "-f", "1", "-l", "1"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let html = String::from_utf8(output.stdout).expect("UTF-8");
    html.lines()
        .filter_map(|line| {
            let attributes = line.trim().strip_prefix("<word ")?;
            let x_max = attributes.split("xMax=\"").nth(1)?.split('"').next()?;
            let word = attributes.split('>').nth(1)?.strip_suffix("</word")?;
            Some((word.to_owned(), x_max.parse().ok()?))
        })
        .collect()
}

#[test]
fn text_wider_than_its_column_is_cut_with_an_ellipsis() {
    let long = format!(
        "{}and the end",
        "A description far too long for its column ".repeat(6)
    );
    let rows = [vec![
        Cell::free_text(&long),
        Cell::Amount(1),
        Cell::Count(1),
    ]];
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_report(&directory, Format::Pdf, &amounts_report(1), rows);
    let page = &pdf_pages(&path)[0];
    assert!(page.contains("A description"), "{page}");
    assert!(page.contains('…'), "{page}");
    assert!(!page.contains("the end"), "{page}");
}
