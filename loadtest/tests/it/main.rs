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

/// Whether a `postmaster.pid` is anywhere under `dir`: a private server is running there.
fn server_running_under(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            path.file_name() == Some(std::ffi::OsStr::new("postmaster.pid"))
                || (path.is_dir() && server_running_under(&path))
        })
}

#[tokio::test]
async fn an_interrupted_benchmark_stops_its_private_server_and_removes_its_directory() {
    let temp = tempfile::tempdir().expect("a directory");
    // The private server's directory goes where the benchmark's temporary files go.
    std::fs::set_permissions(
        temp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("open to the server's account");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_payrail-loadtest"))
        .args(["engine", "--merchants", "1", "--lines", "5000000"])
        .env("TMPDIR", temp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start payrail-loadtest");
    let started = std::time::Instant::now();
    while !server_running_under(temp.path()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the private server never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pid = nix::unistd::Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("it exits soon after")
        .expect("its output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(temp.path())
        .expect("the directory")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
