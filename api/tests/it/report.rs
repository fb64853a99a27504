//! `payrail report …` and `payrail merchant correct` as a finance team's operator runs
//! them: a statement with a correction in it written to a PDF and a CSV, read back; a bad
//! format or period refused with the flag at fault, and no file left behind.

use payrail_engine::testing::TestDb;

use crate::support::{run, run_json};

fn today() -> String {
    jiff::Zoned::now()
        .in_tz("Africa/Kigali")
        .expect("Kigali")
        .date()
        .to_string()
}

#[tokio::test]
async fn a_statement_with_a_correction_is_written_to_pdf_and_csv() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (pdf, csv) = (
        dir.path().join("november.pdf"),
        dir.path().join("november.csv"),
    );
    let (pdf_path, csv_path) = (pdf.clone(), csv.clone());
    let url = db.url.clone();
    let (printed, refused) = tokio::task::spawn_blocking(move || {
        let created = run_json(&url, &["merchant", "create", "--name", "Nyanza Dairy"]);
        let merchant = created["merchant"]["id"].as_str().expect("id").to_owned();
        run_json(
            &url,
            &[
                "merchant",
                "fund",
                "--merchant",
                &merchant,
                "--amount",
                "50000",
            ],
        );
        let corrected = run_json(
            &url,
            &[
                "merchant",
                "correct",
                "--merchant",
                &merchant,
                "--debit",
                "1200",
                "--reason",
                "Duplicate top-up of 2 November",
            ],
        );
        assert_eq!(corrected["balances"]["available"], 48_800, "{corrected}");
        let day = today();
        let report = |output: &str, format: Option<&str>| {
            let mut args = vec![
                "report",
                "statement",
                "--merchant",
                &merchant,
                "--from",
                &day,
                "--to",
                &day,
                "--output",
                output,
            ];
            if let Some(format) = format {
                args.extend(["--format", format]);
            }
            args.iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<String>>()
        };
        let printed = run_json(
            &url,
            &strs(&report(pdf_path.to_str().expect("UTF-8"), None)),
        );
        run_json(
            &url,
            &strs(&report(csv_path.to_str().expect("UTF-8"), None)),
        );
        let wrong = dir_path_with(&pdf_path, "wrong.docx");
        let refused = run(&url, &strs(&report(&wrong, None)), false);
        (
            printed,
            String::from_utf8_lossy(&refused.stderr).into_owned(),
        )
    })
    .await
    .expect("commands");
    assert_eq!(
        printed["rows"], 4,
        "opening, funding, correction, closing: {printed}"
    );
    assert_eq!(printed["format"], "pdf");
    assert!(refused.contains("--format"), "{refused}");
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().expect("UTF-8"), "-"])
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in [
        "Account statement",
        "Duplicate top-up",
        "48,800",
        "End of statement",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let body = std::fs::read(&csv).expect("the CSV");
    let body = body.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM");
    let records: Vec<csv::StringRecord> = csv::Reader::from_reader(body)
        .records()
        .collect::<Result<_, _>>()
        .expect("records");
    let types: Vec<&str> = records.iter().map(|r| &r[1]).collect();
    assert_eq!(
        types,
        [
            "Opening balance",
            "funding",
            "correction",
            "Closing balance"
        ]
    );
    assert_eq!(&records[2][7], "1200", "the correction is a debit");
    assert_eq!(&records[3][10], "48800");
}

fn dir_path_with(sibling: &std::path::Path, name: &str) -> String {
    sibling
        .with_file_name(name)
        .to_str()
        .expect("UTF-8")
        .to_owned()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
