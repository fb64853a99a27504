//! `payrail batch submit | show`, and a node killed in the middle of a 50,000-line batch
//! that finishes it after a restart with the ledger intact.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use payrail_engine::ledger;
use payrail_engine::testing::TestDb;

use crate::support::{free_port, payrail, run, run_json};

fn write_csv(dir: &Path, body: &str) -> String {
    let path = dir.join("payroll.csv");
    std::fs::write(&path, body).expect("write the CSV");
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[tokio::test]
async fn an_invalid_file_is_reported_line_by_line_and_nothing_is_paid() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let csv = write_csv(
        dir.path(),
        "msisdn,amount,reference\n0788123456,1500,a\n0712,1500,b\n0788123457,12.5,c\n0788123458,100,a\n46733123450,100,d\n",
    );
    let url = db.url.clone();
    let (output, merchant) = tokio::task::spawn_blocking(move || {
        let created = run_json(&url, &["merchant", "create", "--name", "Gisenyi Port"]);
        let merchant = created["merchant"]["id"].as_str().expect("id").to_owned();
        (
            run(
                &url,
                &["batch", "submit", "--merchant", &merchant, "--file", &csv],
                false,
            ),
            merchant,
        )
    })
    .await
    .expect("commands");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let lines: Vec<(i64, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().expect("line"),
                e["field"].as_str().expect("field"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (3, "msisdn"),
            (4, "amount"),
            (5, "reference"),
            (6, "msisdn")
        ],
        "{report}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing will be paid"));
    let batch_id = report["batch"]["id"]
        .as_str()
        .expect("the batch kept as invalid");
    assert_eq!(report["batch"]["state"], "invalid", "{report}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM batches WHERE state <> 'invalid'").await,
        0,
        "only the invalid batch {batch_id} of {merchant}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM payout_lines").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM journal_entries").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_submitted_from_the_command_line_waits_for_a_checker_approving_over_http() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(
        dir.path().join("payrail.toml"),
        "[simulator]\nlatency = { kind = \"fixed\", ms = 1 }\n",
    )
    .expect("configuration");
    let csv = write_csv(
        dir.path(),
        "msisdn,amount,reference\n250788123456,1500,a\n250788123457,2500,b\n",
    );
    let url = db.url.clone();
    let (merchant, checker, batch) = tokio::task::spawn_blocking(move || {
        let created = run_json(
            &url,
            &[
                "merchant",
                "create",
                "--name",
                "Huye Tea",
                "--approval-threshold",
                "0",
            ],
        );
        let merchant = created["merchant"]["id"].as_str().expect("id").to_owned();
        let checker = created["api_keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|key| key["role"] == "checker")
            .expect("a checker key")["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        run_json(
            &url,
            &[
                "merchant",
                "fund",
                "--merchant",
                &merchant,
                "--amount",
                "10000",
            ],
        );
        let submitted = run_json(
            &url,
            &["batch", "submit", "--merchant", &merchant, "--file", &csv],
        );
        assert_eq!(
            submitted["batch"]["state"], "awaiting_approval",
            "{submitted}"
        );
        let batch = submitted["batch"]["id"].as_str().expect("id").to_owned();
        (merchant, checker, batch)
    })
    .await
    .expect("setup");

    let port = free_port();
    let mut node = serve(dir.path(), &db.url, port);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "the node never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let untouched = "SELECT count(*) FROM payout_lines WHERE state <> 'validated'";
    assert_eq!(
        count(&db, untouched).await,
        0,
        "nothing sent before approval"
    );
    let balances = http
        .get(format!("{base}/v1/balance"))
        .bearer_auth(&checker)
        .send()
        .await
        .expect("balance")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert_eq!(
        balances["reserved"]["minor"], 0,
        "nothing reserved for {merchant}: {balances}"
    );
    assert_eq!(balances["available"]["minor"], 10000, "{balances}");

    let approved = http
        .post(format!("{base}/v1/batches/{batch}/approve"))
        .bearer_auth(&checker)
        .send()
        .await
        .expect("approve");
    assert_eq!(
        approved.status().as_u16(),
        200,
        "{:?}",
        approved.text().await
    );
    wait_until(
        &db,
        "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
        2,
        Duration::from_secs(60),
    )
    .await;
    kill(
        Pid::from_raw(i32::try_from(node.id()).expect("pid")),
        Signal::SIGINT,
    )
    .expect("SIGINT");
    assert!(node.wait().expect("wait").success());
}

fn serve(dir: &Path, url: &str, port: u16) -> Child {
    payrail()
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start payrail serve")
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client()
        .await
        .query_one(sql, &[])
        .await
        .expect("count")
        .get(0)
}

async fn wait_until(db: &TestDb, sql: &str, at_least: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let value = count(db, sql).await;
        if value >= at_least {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: {value} after {limit:?}, wanted {at_least}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_batch_finishes_it_after_a_restart() {
    const LINES: i64 = 50_000;
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(
        dir.path().join("payrail.toml"),
        "[engine]\nsends_per_second = 20000\nqueries_per_second = 20000\nmax_in_flight = 256\n[simulator]\nlatency = { kind = \"fixed\", ms = 20 }\n",
    )
    .expect("configuration");
    let mut body = String::from("msisdn,amount,reference\n");
    for i in 0..LINES {
        writeln!(body, "25078{:07},100,line-{i}", i).expect("write");
    }
    let csv = write_csv(dir.path(), &body);
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let created = run_json(
            &url,
            &[
                "merchant",
                "create",
                "--name",
                "Rwamagana Farms",
                "--payout-fee",
                "10",
            ],
        );
        let merchant = created["merchant"]["id"].as_str().expect("id").to_owned();
        run_json(
            &url,
            &[
                "merchant",
                "fund",
                "--merchant",
                &merchant,
                "--amount",
                "5500000",
            ],
        );
        let submitted = run_json(
            &url,
            &["batch", "submit", "--merchant", &merchant, "--file", &csv],
        );
        assert_eq!(submitted["batch"]["state"], "scheduled");
        assert_eq!(submitted["batch"]["line_count"], LINES);
    })
    .await
    .expect("setup");

    let port = free_port();
    let mut node = serve(dir.path(), &db.url, port);
    wait_until(
        &db,
        "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
        5_000,
        Duration::from_secs(120),
    )
    .await;
    node.kill().expect("SIGKILL the node");
    node.wait().expect("reap");
    let paid_before = count(
        &db,
        "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
    )
    .await;
    assert!(
        paid_before < LINES,
        "killed midway: {paid_before} of {LINES} paid"
    );

    let mut node = serve(dir.path(), &db.url, port);
    wait_until(
        &db,
        "SELECT count(*) FROM batches WHERE state = 'completed'",
        1,
        Duration::from_secs(180),
    )
    .await;
    kill(
        Pid::from_raw(i32::try_from(node.id()).expect("pid")),
        Signal::SIGINT,
    )
    .expect("SIGINT");
    assert!(node.wait().expect("wait").success());

    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'"
        )
        .await,
        LINES
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM payout_outcomes").await,
        LINES,
        "each line settled once"
    );
    let client = db.client().await;
    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
    let merchant = client
        .query_one("SELECT id FROM merchants", &[])
        .await
        .expect("merchant")
        .get(0);
    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(balances.reserved.minor(), 0);
    assert_eq!(balances.clearing["mtn-rw"].minor(), LINES * 100);
    assert_eq!(balances.fee_revenue.minor(), LINES * 10);
    assert_eq!(balances.available.minor(), 5_500_000 - LINES * 110);
}
