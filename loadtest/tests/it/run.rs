//! `payrail-loadtest run` as a load tester runs it, on a small scale: a payroll run that
//! passes its audit and writes both reports; a mixed run against the simulator server's
//! hostile profile that still passes; and the audit itself, failing on a run whose
//! operator record or database was tampered with.

use std::path::Path;
use std::process::{Command, Output};

use payrail_engine::testing::TestDb;
use serde_json::Value;

async fn loadtest(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_payrail-loadtest"))
            .args(&args)
            .output()
            .expect("run payrail-loadtest")
    })
    .await
    .expect("join")
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("a UTF-8 path").to_owned()
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payroll_run_passes_its_audit_and_writes_its_reports_and_a_tampered_one_fails() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (json, html, record) = (
        path(dir.path(), "out.json"),
        path(dir.path(), "out.html"),
        path(dir.path(), "record.json"),
    );
    let mut args = words("run --scenario payroll --spawn --merchants 2 --lines 300");
    args.extend(["--database-url".into(), db.url.clone()]);
    args.extend(["--json".into(), json.clone(), "--html".into(), html.clone()]);
    args.extend(["--operator-record".into(), record.clone()]);
    let output = loadtest(args).await;
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("run --scenario payroll"), "{stdout}");

    let report: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON report")).expect("JSON");
    assert_eq!(report["offered"], 600, "{report}");
    assert_eq!(report["finished"], 600, "{report}");
    assert_eq!(report["audit"]["ok"], true, "{report}");
    assert!(
        report["payouts_per_second"]
            .as_f64()
            .is_some_and(|n| n > 0.0)
    );
    assert!(
        report["offered_per_second"]
            .as_f64()
            .is_some_and(|n| n > 0.0)
    );
    for latency in ["accept", "accept_to_final"] {
        for percentile in ["p50", "p99", "p999"] {
            assert!(
                report["latency"][latency][percentile]
                    .as_f64()
                    .is_some_and(|ms| ms > 0.0),
                "{latency} {percentile}: {report}"
            );
        }
    }
    assert!(report["errors"].is_object());
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(page.contains("<svg"), "the report has its charts");

    let audit = |record: Option<String>| {
        let mut args = vec!["audit".into(), "--database-url".into(), db.url.clone()];
        if let Some(record) = record {
            args.extend(["--operator-record".into(), record]);
        }
        loadtest(args)
    };
    let untouched = audit(Some(record.clone())).await;
    assert!(untouched.status.success(), "{}", text(&untouched));

    // A reference executed twice, in the operators' record.
    let mut tampered: Value =
        serde_json::from_slice(&std::fs::read(&record).expect("the record")).expect("JSON");
    tampered["executed_twice"] = serde_json::json!(["b0a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"]);
    let twice = path(dir.path(), "twice.json");
    std::fs::write(&twice, tampered.to_string()).expect("written");
    let failed = audit(Some(twice)).await;
    assert!(!failed.status.success());
    assert!(
        text(&failed).contains("FAIL no reference executed twice")
            && text(&failed).contains("b0a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"),
        "{}",
        text(&failed)
    );

    // A line settled twice: a second settlement entry for money already paid.
    let client = db.client().await;
    client
        .batch_execute(
            "WITH line AS (SELECT merchant_id, route, amount FROM payout_lines
                            WHERE state = 'succeeded' LIMIT 1),
                  entry AS (INSERT INTO journal_entries (merchant_id, kind)
                            SELECT merchant_id, 'settlement' FROM line RETURNING id, merchant_id)
             INSERT INTO postings (entry_id, merchant_id, account_id, amount)
             SELECT entry.id, entry.merchant_id, a.id,
                    CASE a.kind WHEN 'merchant_available' THEN -line.amount ELSE line.amount END
               FROM entry, line
               JOIN ledger_accounts a ON a.merchant_id = line.merchant_id
                AND (a.kind = 'merchant_available'
                     OR (a.kind = 'route_clearing' AND a.route = line.route))",
        )
        .await
        .expect("settled again");
    let failed = audit(Some(record.clone())).await;
    assert!(!failed.status.success());
    assert!(
        text(&failed).contains("FAIL settled exactly once"),
        "{}",
        text(&failed)
    );

    // A posting removed.
    client
        .batch_execute(
            "ALTER TABLE postings DISABLE TRIGGER ALL;
             DELETE FROM postings WHERE ctid = (SELECT min(ctid) FROM postings);
             ALTER TABLE postings ENABLE TRIGGER ALL;",
        )
        .await
        .expect("a posting removed");
    let failed = audit(Some(record)).await;
    assert!(!failed.status.success());
    assert!(
        text(&failed).contains("FAIL ledger balanced")
            && text(&failed).contains("unbalanced entries 1"),
        "{}",
        text(&failed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_run_against_the_hostile_simulator_still_passes_its_audit() {
    let db = TestDb::new().await;
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/profiles/hostile.toml");
    let mut args = words(
        "run --scenario mixed --spawn --operators http-sim --lines 40 --rate 10 --duration 2",
    );
    args.extend([
        "--faults".into(),
        hostile.to_str().expect("UTF-8").to_owned(),
    ]);
    args.extend(["--database-url".into(), db.url.clone()]);
    let output = loadtest(args).await;
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains('✗'), "{stdout}");
}
