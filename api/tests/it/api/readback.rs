//! Report files read back as a person's tools read them: CSV with the `csv` crate, XLSX
//! with calamine, PDF with poppler's `pdftotext`.

use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

use super::harness::Node;

/// A GET answered with a file: status, content type and bytes.
pub async fn download(
    node: &Node,
    path: &str,
    key: &str,
    accept: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut request = node
        .http
        .get(format!("{}{path}", node.base))
        .bearer_auth(key);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("the node answers");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.expect("a body").to_vec();
    (status, kind, bytes)
}

/// The records of a CSV that starts with a UTF-8 byte-order mark.
pub fn csv_records(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("the CSV starts with a UTF-8 BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|record| {
            record
                .expect("an RFC 4180 record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The first sheet's cells, row by row, and its formulas (none expected).
pub fn xlsx_rows(bytes: Vec<u8>) -> (Vec<Vec<Data>>, usize) {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = workbook.sheet_names()[0].clone();
    let range = workbook.worksheet_range(&sheet).expect("the first sheet");
    let formulas = workbook
        .worksheet_formula(&sheet)
        .map(|range| range.used_cells().filter(|(_, _, f)| !f.is_empty()).count())
        .unwrap_or(0);
    (range.rows().map(<[Data]>::to_vec).collect(), formulas)
}

/// The text `pdftotext -layout` reads from a PDF.
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).expect("write the PDF");
    let output = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    assert!(output.status.success(), "pdftotext: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 text")
}

/// A number cell's value.
pub fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(value) => *value,
        Data::Int(value) => *value as f64,
        other => panic!("not a number: {other:?}"),
    }
}
