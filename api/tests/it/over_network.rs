//! `payrail serve` paying a batch end to end over loopback: the MTN MoMo and Airtel Money
//! adapters talk HTTP to `payrail simulate`, with faults switched on, and every line ends
//! paid exactly once.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use payrail_engine::ledger;
use payrail_engine::testing::TestDb;

use crate::support::{free_port, funded_payroll, http_get, payrail};

const LINES: usize = 600;
/// The simulator's RSA key for Airtel PINs (it checks a PIN is there, never decrypts it).
const SIMULATOR_AIRTEL_KEY: &str =
    include_str!("../../../adapters/profiles/simulator-airtel-public-key.pem");

/// Faults on: lost requests, 500s after executing, 429 bursts, garbage status replies,
/// and half the callbacks dropped. Airtel's callback URL goes in front. The adapters wait
/// 2 s for an answer (held replies outlast them): shorter, a loaded CI machine turns slow
/// token replies into "not sent" and the backoff stretches the run.
const SIMULATOR_PROFILE: &str = r#"
hang_ms = 6000
status_queries_per_second = 0
[faults]
accepted_then_lost = 50000
error_after_executing = 50000
accept_then_timeout = 20000
rate_limited = 5000
burst_ms = 100
garbage_status = 20000
[callbacks]
drop_ppm = 500000
"#;

fn node_configuration(simulator_port: u16, node_port: u16) -> String {
    let base_url = format!("http://127.0.0.1:{simulator_port}");
    let callback_url = format!("http://127.0.0.1:{node_port}/callbacks/mtn");
    format!(
        r#"
[engine]
sends_per_second = 5000
queries_per_second = 5000
max_in_flight = 128

[operators.mtn-rw]
kind = "mtn_momo"
base_url = "{base_url}"
target_environment = "mtnrwanda"
currency = "RWF"
callback_url = "{callback_url}"
timeouts = {{ connect_ms = 1000, request_ms = 2000 }}
disbursement = {{ subscription_key = "sub", api_user = "node-mtn", api_key = "key" }}

[operators.airtel-rw]
kind = "airtel_money"
base_url = "{base_url}"
client_id = "node-airtel"
client_secret = "secret"
pin = "1234"
public_key = """
{SIMULATOR_AIRTEL_KEY}"""
timeouts = {{ connect_ms = 1000, request_ms = 2000 }}
"#
    )
}

/// Starts `payrail` with its log in `dir/<log>`.
pub(crate) fn start(dir: &Path, log: &str, args: &[&str], database_url: Option<&str>) -> Child {
    let mut command = payrail();
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(log)).expect("a log file"))
        .spawn()
        .expect("start payrail")
}

/// Starts `payrail simulate` on `port` with `profile` (a file in `dir`, or a built-in
/// profile's name), its log in `dir/simulator.log`, and waits until it answers.
pub(crate) async fn start_simulator(dir: &Path, port: u16, profile: &str) -> Child {
    let listen = format!("127.0.0.1:{port}");
    let simulator = start(
        dir,
        "simulator.log",
        &["simulate", "--listen", &listen, "--profile", profile],
        None,
    );
    wait_for_http(port, "/_sim/stats").await;
    simulator
}

pub(crate) fn interrupt(mut child: Child) {
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGINT,
    )
    .expect("SIGINT");
    assert!(child.wait().expect("wait").success());
}

pub(crate) async fn wait_for_http(port: u16, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, path).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "nothing answers {path} on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_pays_a_batch_over_http_through_the_simulator_with_faults() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let (simulator_port, node_port) = (free_port(), free_port());
    let profile = format!(
        "airtel_callback_url = \"http://127.0.0.1:{node_port}/callbacks/airtel\"\n{SIMULATOR_PROFILE}"
    );
    std::fs::write(dir.path().join("simulator.toml"), profile).expect("profile");
    std::fs::write(
        dir.path().join("payrail.toml"),
        node_configuration(simulator_port, node_port),
    )
    .expect("configuration");
    let simulator = start_simulator(dir.path(), simulator_port, "simulator.toml").await;

    let mut csv = String::from("msisdn,amount,reference\n");
    for i in 0..LINES {
        // Two in three lines to MTN, one to Airtel.
        let prefix = if i % 3 == 0 { "25073" } else { "25078" };
        writeln!(csv, "{prefix}{i:07},1000,line-{i}").expect("write");
    }
    let csv_path = dir.path().join("payroll.csv");
    std::fs::write(&csv_path, csv).expect("the CSV");
    funded_payroll(&db.url, "Huye Coffee", 5_000_000, &csv_path).await;

    let listen = format!("127.0.0.1:{node_port}");
    let mut node = start(
        dir.path(),
        "node.log",
        &["serve", "--listen", &listen],
        Some(&db.url),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done: i64 = db
            .client()
            .await
            .query_one(
                "SELECT count(*) FROM batches WHERE state IN ('completed', 'completed_with_failures')",
                &[],
            )
            .await
            .expect("count")
            .get(0);
        if done == 1 {
            break;
        }
        let exited = node.try_wait().expect("the node's status");
        if exited.is_some() || Instant::now() >= deadline {
            let states: Vec<(String, i64)> = db
                .client()
                .await
                .query(
                    "SELECT state::text, count(*) FROM payout_lines GROUP BY 1",
                    &[],
                )
                .await
                .expect("counts")
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            eprintln!("lines by state: {states:?}");
            let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "the batch did not finish (node exited: {exited:?}); the node's last log lines, newest first:\n{}",
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    interrupt(node);

    let (status, body) = http_get(simulator_port, "/_sim/transfers")
        .await
        .expect("the simulator answers");
    assert_eq!(status, 200);
    let report: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let transfers = report["transfers"].as_array().expect("transfers");
    assert_eq!(transfers.len(), LINES);
    assert!(transfers.iter().all(|t| t["executions"] == 1), "{report}");
    assert_eq!(report["executed_twice"], serde_json::json!([]));
    let (_, stats) = http_get(simulator_port, "/_sim/stats")
        .await
        .expect("stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("JSON");
    for fault in [
        "accepted_then_lost",
        "error_after_executing",
        "accept_then_timeout",
    ] {
        assert!(
            stats["faults"][fault].as_u64() > Some(0),
            "{fault}: {stats}"
        );
    }
    interrupt(simulator);

    let client = db.client().await;
    let succeeded: i64 = client
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(succeeded, i64::try_from(LINES).expect("fits"));
    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
}
