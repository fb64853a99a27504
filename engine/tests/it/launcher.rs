//! The private PostgreSQL launcher: initialise, keep data between runs, attach to a
//! running server, and leave no server behind.

use std::path::Path;

use payrail_engine::postgres::{Durability, LocalPostgres};

async fn query_one_i64(server: &LocalPostgres, sql: &str) -> i64 {
    let (client, connection) =
        tokio_postgres::connect(&server.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect");
    tokio::spawn(connection);
    client.query_one(sql, &[]).await.expect("query").get(0)
}

fn server_pid(root: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(root.join("postgres/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

#[tokio::test]
async fn the_server_keeps_its_data_between_runs_and_stops_completely() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let first = LocalPostgres::start(root.path(), Durability::Fast)
        .await
        .expect("first start");
    assert!(first.owns_server());
    let (client, connection) =
        tokio_postgres::connect(&first.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        .await
        .expect("write");
    drop(client);
    let pid = server_pid(root.path()).expect("a running server records its pid");
    first.stop().await.expect("stop");
    assert!(!alive(pid), "the server process is gone after stop");
    assert!(
        server_pid(root.path()).is_none(),
        "a clean shutdown removes postmaster.pid"
    );

    let second = LocalPostgres::start(root.path(), Durability::Fast)
        .await
        .expect("second start");
    assert_eq!(
        query_one_i64(&second, "SELECT n::bigint FROM kept").await,
        42
    );
    second.stop().await.expect("stop again");
}

#[tokio::test]
async fn a_second_launcher_attaches_and_leaves_the_server_to_its_owner() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let owner = LocalPostgres::start(root.path(), Durability::Fast)
        .await
        .expect("start");
    let guest = LocalPostgres::start(root.path(), Durability::Fast)
        .await
        .expect("attach");
    assert!(!guest.owns_server());
    assert_eq!(guest.port(), owner.port());
    guest
        .stop()
        .await
        .expect("a guest's stop leaves the server running");
    assert_eq!(query_one_i64(&owner, "SELECT 1::bigint").await, 1);
    let pid = server_pid(root.path()).expect("running");
    drop(owner);
    // Dropping the owner without `stop` still shuts the server down.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(20));
    while alive(pid) && std::time::Instant::now() < deadline {
        poll.tick().await;
    }
    assert!(!alive(pid), "the server stopped when its owner was dropped");
}
