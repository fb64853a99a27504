//! Helpers: running the `payrail` binary, and a minimal HTTP GET over a plain socket.

use std::process::{Command, Output};
use std::time::Duration;

use payrail_engine::store::migrations;
use payrail_engine::testing::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `payrail` binary with a clean environment: no configuration leaks in from the
/// machine running the tests. `PAYRAIL_TEST_BINARY` names another build of it (a release
/// one, for the scenarios that are also benchmarks).
pub fn payrail() -> Command {
    let binary = std::env::var("PAYRAIL_TEST_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_payrail").to_owned());
    let mut command = Command::new(binary);
    command
        .env_remove("DATABASE_URL")
        .env("PAYRAIL_LOG_FORMAT", "json");
    for (name, _) in std::env::vars() {
        if name.starts_with("PAYRAIL_") && name != "PAYRAIL_LOG_FORMAT" {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `payrail` against a database and returns its output, panicking with stderr if
/// `success` does not match.
pub fn run(database_url: &str, args: &[&str], success: bool) -> Output {
    let output = payrail()
        .env("DATABASE_URL", database_url)
        .args(args)
        .output()
        .expect("run payrail");
    assert_eq!(
        output.status.success(),
        success,
        "payrail {args:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command that prints JSON and parses it.
pub fn run_json(database_url: &str, args: &[&str]) -> serde_json::Value {
    let output = run(database_url, args, true);
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Makes a merchant called `name`, funds it with `funds` and submits the payroll CSV at
/// `csv`, through the command line, off the async runtime; returns the merchant's id.
pub async fn funded_payroll(
    database_url: &str,
    name: &str,
    funds: u64,
    csv: &std::path::Path,
) -> String {
    let (url, name) = (database_url.to_owned(), name.to_owned());
    let csv = csv.to_str().expect("UTF-8").to_owned();
    tokio::task::spawn_blocking(move || {
        let created = run_json(&url, &["merchant", "create", "--name", &name]);
        let merchant = created["merchant"]["id"].as_str().expect("id").to_owned();
        let funds = funds.to_string();
        run_json(
            &url,
            &[
                "merchant",
                "fund",
                "--merchant",
                &merchant,
                "--amount",
                &funds,
            ],
        );
        run_json(
            &url,
            &["batch", "submit", "--merchant", &merchant, "--file", &csv],
        );
        merchant
    })
    .await
    .expect("the payroll is submitted")
}

/// GETs `path` from `127.0.0.1:port`; `None` when nothing answers.
pub async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
    let mut stream = tokio::time::timeout(Duration::from_secs(2), connect)
        .await
        .ok()?
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Makes the database look one migration behind the binary.
pub async fn forget_newest_migration(db: &TestDb) {
    db.client()
        .await
        .execute(
            "DELETE FROM refinery_schema_history WHERE version = $1",
            &[&migrations::latest_version()],
        )
        .await
        .expect("forget the newest migration");
}
