//! Test support (feature `testing`): one private PostgreSQL server per test process, in a
//! temporary directory, and a fresh, migrated database per test, cloned from a template
//! database so that each costs milliseconds. Tests never skip: without PostgreSQL they fail.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use deadpool_postgres::Pool;
use tokio::sync::OnceCell;

use crate::postgres::{Durability, LocalPostgres};
use crate::store::{migrations, pool};

/// The migrated database every test database is cloned from.
const TEMPLATE: &str = "payrail_template";
/// Connections each test's pool may open.
const TEST_POOL_SIZE: usize = 8;

struct TestServer {
    server: LocalPostgres,
    next_database: AtomicU32,
}

static SERVER: OnceCell<TestServer> = OnceCell::const_new();

/// A fresh database with the whole schema, for one test.
#[derive(Debug)]
pub struct TestDb {
    pub pool: Pool,
    pub url: String,
    pub name: String,
}

impl TestDb {
    /// Creates a new database with the whole schema, cloned from the template, starting
    /// the server on first use.
    pub async fn new() -> TestDb {
        TestDb::create(TEMPLATE).await
    }

    /// Creates a new database without any schema, for testing migrations themselves.
    pub async fn empty() -> TestDb {
        TestDb::create("template0").await
    }

    async fn create(template: &str) -> TestDb {
        let server = SERVER.get_or_init(start_server).await;
        let number = server.next_database.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{number}");
        let (admin, connection) =
            tokio_postgres::connect(&server.server.url("postgres"), tokio_postgres::NoTls)
                .await
                .expect("connect to the test server");
        let connection = tokio::spawn(connection);
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("create a test database");
        drop(admin);
        let _ = connection.await;
        let url = server.server.url(&name);
        let pool = pool::connect(&url, TEST_POOL_SIZE, pool::Priority::Normal)
            .expect("a pool for the test database");
        TestDb { pool, url, name }
    }

    /// A pooled client (panics with the reason if none can be had).
    pub async fn client(&self) -> deadpool_postgres::Object {
        self.pool
            .get()
            .await
            .expect("a connection to the test database")
    }
}

/// Everything the test process's PostgreSQL server has logged so far (nothing before the
/// first `TestDb`).
pub fn server_log() -> String {
    SERVER
        .get()
        .and_then(|test| std::fs::read_to_string(test.server.log_path()).ok())
        .unwrap_or_default()
}

async fn start_server() -> TestServer {
    let root = server_root();
    let server = LocalPostgres::start(&root, Durability::Fast)
        .await
        .unwrap_or_else(|error| panic!("tests need PostgreSQL and could not start it: {error}"));
    server
        .ensure_database(TEMPLATE)
        .await
        .expect("create the template database");
    let (mut client, connection) =
        tokio_postgres::connect(&server.url(TEMPLATE), tokio_postgres::NoTls)
            .await
            .expect("connect to the template database");
    let connection = tokio::spawn(connection);
    migrations::run(&mut client)
        .await
        .expect("migrate the template database");
    drop(client);
    let _ = connection.await;
    TestServer {
        server,
        next_database: AtomicU32::new(0),
    }
}

/// `<tmp>/payrail-tests/<pid>`. Directories left by test processes that have ended (whose
/// servers shut down with them) are removed first.
fn server_root() -> PathBuf {
    let base = std::env::temp_dir().join("payrail-tests");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.filter_map(Result::ok) {
            let pid = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<i32>().ok());
            let ended = pid.is_some_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
            });
            if ended {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let root = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&root);
    root
}
