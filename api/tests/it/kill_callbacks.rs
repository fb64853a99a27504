//! SIGKILLs of `payrail serve` while it pays an MTN payroll through a separate
//! `payrail simulate --profile mtn-documented` (10 status queries a second, callbacks lost,
//! repeated and late): every line ends final, no payout id is executed twice at the
//! simulator, the ledger audit passes, and verification catches up. Lines a killed node
//! had claimed but not sent are asked about before anything is resent, at 10 queries a
//! second, which is most of the time a kill costs. The test is sized to seconds; `PAYRAIL_KILL_LINES` and `PAYRAIL_KILLS` make it the benchmark
//! (docs/benchmarks.md: 20,000 lines, 10 kills).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use payrail_engine::ledger;
use payrail_engine::testing::TestDb;

use crate::over_network::{interrupt, start, start_simulator, wait_for_http};
use crate::support::{free_port, funded_payroll, http_get};

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn node_configuration(simulator_port: u16, node_port: u16) -> String {
    format!(
        r#"
[engine]
sends_per_second = 500
queries_per_second = 10
max_in_flight = 128

[callbacks]
deadline_ms = 2000

[operators.mtn-rw]
kind = "mtn_momo"
base_url = "http://127.0.0.1:{simulator_port}"
target_environment = "mtnrwanda"
currency = "RWF"
callback_url = "http://127.0.0.1:{node_port}/callbacks/mtn"
disbursement = {{ subscription_key = "sub", api_user = "kill-test", api_key = "key" }}
"#
    )
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client()
        .await
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_nodes_pay_every_line_once_and_verification_catches_up() {
    let (lines, kills) = (
        from_env("PAYRAIL_KILL_LINES", 1_500),
        from_env("PAYRAIL_KILLS", 3),
    );
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (simulator_port, node_port) = (free_port(), free_port());
    std::fs::write(
        dir.path().join("payrail.toml"),
        node_configuration(simulator_port, node_port),
    )
    .expect("configuration");
    let simulator = start_simulator(dir.path(), simulator_port, "mtn-documented").await;
    let mut csv = String::from("msisdn,amount,reference\n");
    for i in 0..lines {
        writeln!(csv, "25078{i:07},1000,line-{i}").expect("write");
    }
    let csv_path = dir.path().join("payroll.csv");
    std::fs::write(&csv_path, csv).expect("the CSV");
    funded_payroll(&db.url, "Rubavu Fisheries", 1_000_000_000, &csv_path).await;

    let started = Instant::now();
    let listen = format!("127.0.0.1:{node_port}");
    let serve = ["serve", "--listen", listen.as_str()];
    // Kill the node every 1 to 2 seconds of paying, then let the last one finish.
    for kill in 0..kills {
        let mut node = start(
            dir.path(),
            &format!("node-{kill}.log"),
            &serve,
            Some(&db.url),
        );
        wait_for_http(node_port, "/readyz").await;
        tokio::time::sleep(Duration::from_millis(1_000 + 150 * (kill as u64 % 7))).await;
        node.kill().expect("SIGKILL the node");
        node.wait().expect("reap");
    }
    let node = start(dir.path(), "node-last.log", &serve, Some(&db.url));
    // Verification runs at MTN's 10 queries a second: a quarter of a second per line.
    let deadline = Instant::now() + Duration::from_secs(120 + lines as u64 / 4);
    let done_sql =
        "SELECT count(*) FROM batches WHERE state IN ('completed', 'completed_with_failures')";
    while count(&db, done_sql).await < 1 {
        assert!(Instant::now() < deadline, "the payroll did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let paid_in = started.elapsed();
    let backlog = "SELECT count(*) FROM callback_settlements WHERE verified_at IS NULL";
    while count(&db, backlog).await > 0 {
        assert!(Instant::now() < deadline, "verification did not catch up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let verified_in = started.elapsed();
    interrupt(node);

    let (_, body) = http_get(simulator_port, "/_sim/transfers")
        .await
        .expect("the simulator answers");
    let report: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let mut executions: HashMap<&str, u64> = HashMap::new();
    for transfer in report["transfers"].as_array().expect("transfers") {
        *executions
            .entry(transfer["external_id"].as_str().expect("an external id"))
            .or_default() += transfer["executions"].as_u64().expect("a count");
    }
    assert_eq!(executions.len(), lines, "one payout id per line");
    let twice: Vec<_> = executions.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "payout ids executed twice: {twice:?}");
    interrupt(simulator);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'"
        )
        .await,
        i64::try_from(lines).expect("fits")
    );
    let by_callback = count(&db, "SELECT count(*) FROM callback_settlements").await;
    let audit = ledger::audit(&db.client().await).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
    eprintln!(
        "kill test: {lines} lines, {kills} SIGKILLs: all paid in {:.1} s ({:.0} payouts/s), {by_callback} ended on a callback, verified by {:.1} s",
        paid_in.as_secs_f64(),
        lines as f64 / paid_in.as_secs_f64(),
        verified_in.as_secs_f64()
    );
}
