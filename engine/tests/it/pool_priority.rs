//! Bulk work's connections run at a lower CPU priority on a server on this machine (their
//! niceness, and their session's where the kernel groups processes by session), and the
//! main pool's at the server's own; `warm` opens every connection of a pool.

use payrail_engine::store::pool::{self, Priority};
use payrail_engine::testing::TestDb;

/// The niceness of the server process behind one of `pool`'s connections, and its
/// session's (none when the kernel does not group processes by session).
async fn niceness_behind(pool: &deadpool_postgres::Pool) -> (i32, Option<i32>) {
    let client = pool.get().await.expect("a connection");
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("the server process")
        .get(0);
    let session = std::fs::read_to_string(format!("/proc/{pid}/autogroup"))
        .ok()
        .map(|group| session_niceness(&group));
    let pid = rustix::process::Pid::from_raw(pid).expect("a process id");
    let own = rustix::process::getpriority_process(Some(pid)).expect("its priority");
    (own, session)
}

/// The niceness in `/proc/<pid>/autogroup` ("/autogroup-42 nice 10").
fn session_niceness(group: &str) -> i32 {
    group
        .split_whitespace()
        .last()
        .and_then(|nice| nice.parse().ok())
        .unwrap_or_else(|| panic!("an autogroup's niceness in {group:?}"))
}

#[tokio::test]
async fn bulk_connections_run_at_nice_10_and_the_others_at_the_server_s_own() {
    let db = TestDb::new().await;
    let bulk = pool::connect(&db.url, 2, Priority::Bulk).expect("a bulk pool");
    let main = pool::connect(&db.url, 2, Priority::Normal).expect("a pool");
    let (server_s_own, main_session) = niceness_behind(&main).await;
    let (bulk_own, bulk_session) = niceness_behind(&bulk).await;
    assert_eq!(bulk_own, server_s_own + 10);
    assert_eq!(bulk_session, main_session.map(|nice| nice + 10));
    assert_eq!(
        bulk_session.is_some(),
        std::path::Path::new("/proc/self/autogroup").exists(),
        "a kernel that groups by session has a group for every process"
    );
}

#[tokio::test]
async fn a_warm_pool_holds_every_connection_it_may_open() {
    let db = TestDb::new().await;
    let pool = pool::connect(&db.url, 3, Priority::Bulk).expect("a pool");
    assert_eq!(pool.status().size, 0);
    pool::warm(&pool).await.expect("warmed");
    assert_eq!(pool.status().size, 3);
    assert_eq!(pool.status().available, 3);
}
