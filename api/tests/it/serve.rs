//! `payrail serve` with nothing configured, as a new user runs it: a private PostgreSQL in
//! `./.payrail/postgres`, kept between runs, and no server left behind after Ctrl-C.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{free_port, http_get, payrail};

/// How long a first start (initdb included) may take.
const START_TIMEOUT: Duration = Duration::from_secs(90);

fn start(dir: &Path, port: u16) -> Child {
    payrail()
        .current_dir(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start payrail serve")
}

async fn wait_until_ready(port: u16, node: &mut Child) {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    loop {
        poll.tick().await;
        if let Some((200, _)) = http_get(port, "/readyz").await {
            return;
        }
        assert!(
            node.try_wait().expect("poll node").is_none(),
            "payrail serve exited early"
        );
        assert!(
            Instant::now() < deadline,
            "payrail serve was not ready in time"
        );
    }
}

fn interrupt_and_wait(node: &mut Child) {
    let pid = Pid::from_raw(i32::try_from(node.id()).expect("pid"));
    kill(pid, Signal::SIGINT).expect("send SIGINT");
    let status = node.wait().expect("wait for payrail");
    assert!(
        status.success(),
        "payrail serve exits cleanly on SIGINT: {status}"
    );
}

fn server_pid(dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join(".payrail/postgres/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[tokio::test]
async fn serve_runs_on_a_private_postgres_kept_between_runs_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("a working directory");
    let port = free_port();
    let mut node = start(dir.path(), port);
    wait_until_ready(port, &mut node).await;
    assert_eq!(
        http_get(port, "/healthz").await.map(|(status, _)| status),
        Some(200)
    );
    let postgres = server_pid(dir.path()).expect("the private server runs");

    // Another command finds the running server and uses the same database.
    let created = payrail()
        .current_dir(dir.path())
        .args(["merchant", "create", "--name", "Nyanza Dairy"])
        .output()
        .expect("run");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    interrupt_and_wait(&mut node);
    assert!(
        kill(Pid::from_raw(postgres), None).is_err(),
        "PostgreSQL stopped with the node"
    );
    assert!(server_pid(dir.path()).is_none());

    let mut node = start(dir.path(), port);
    wait_until_ready(port, &mut node).await;
    let listed = payrail()
        .current_dir(dir.path())
        .args(["merchant", "list"])
        .output()
        .expect("run");
    let merchants: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(
        merchants[0]["name"], "Nyanza Dairy",
        "the second run reuses the data directory"
    );
    interrupt_and_wait(&mut node);
}

#[tokio::test]
async fn a_killed_node_leaves_no_postgres_behind() {
    let dir = tempfile::tempdir().expect("a working directory");
    let port = free_port();
    let mut node = start(dir.path(), port);
    wait_until_ready(port, &mut node).await;
    let postgres = Pid::from_raw(server_pid(dir.path()).expect("the private server runs"));
    node.kill().expect("SIGKILL the node");
    node.wait().expect("reap");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    while kill(postgres, None).is_ok() && Instant::now() < deadline {
        poll.tick().await;
    }
    assert!(
        kill(postgres, None).is_err(),
        "PostgreSQL shut down when its node died"
    );
}
