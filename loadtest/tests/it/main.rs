//! `payrail-loadtest` run as a person sizing a deployment runs it, on a small scale.

mod run;

use std::process::Command;

use payrail_engine::testing::TestDb;

#[tokio::test]
async fn bulk_insert_prints_its_figures_with_the_command_and_writes_json() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let json = dir.path().join("figures.json");
    let url = db.url.clone();
    let json_arg = json.to_str().expect("a UTF-8 path").to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_payrail-loadtest"))
            .args([
                "bulk-insert",
                "--lines",
                "500",
                "--runs",
                "2",
                "--database-url",
                &url,
                "--json",
                &json_arg,
            ])
            .output()
            .expect("run payrail-loadtest")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("lines/s"), "{stdout}");
    assert!(
        stdout.contains("command:  ") && stdout.contains("bulk-insert --lines 500"),
        "{stdout}"
    );
    let figures: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON file")).expect("JSON");
    assert_eq!(figures["lines"], 500);
    assert!(
        figures["lines_per_second"]["median"]
            .as_f64()
            .expect("a figure")
            > 0.0
    );
    let stored: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM payout_lines", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 1_000, "two runs of 500 lines were really written");
}

#[test]
fn nonsense_arguments_are_refused_with_a_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_payrail-loadtest"))
        .args([
            "bulk-insert",
            "--lines",
            "0",
            "--database-url",
            "postgres://127.0.0.1:1/none",
        ])
        .output()
        .expect("run payrail-loadtest");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 1"));
}
