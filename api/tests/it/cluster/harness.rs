//! The cluster the tests start: `payrail simulate` and `payrail serve` nodes on one
//! database (a test database, or pg_auto_failover's), each node in a directory of its own
//! with its configuration and log.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::unistd::Pid;
use payrail_engine::ledger;
use payrail_engine::store::pool::{self, Priority};
use payrail_engine::testing::TestDb;

use crate::over_network::{interrupt, start, start_simulator, wait_for_http};
use crate::support::{free_port, funded_payroll, http_get, run_json};

/// Each node's lease: short, so that takeovers happen within the test's seconds
/// (`PAYRAIL_CLUSTER_LEASE_MS` sets another).
pub fn lease_ms() -> u64 {
    from_env("PAYRAIL_CLUSTER_LEASE_MS", 2_000) as u64
}
/// Status queries are not capped at the simulator here: what a takeover costs at MTN's
/// 10 a second is the kill test's subject (kill_callbacks.rs), not this one's.
pub const SIMULATOR_PROFILE: &str = "status_queries_per_second = 0\n";

fn node_configuration(name: &str, simulator_port: u16, sends_per_second: u32) -> String {
    let lease_ms = lease_ms();
    // Transfers are answered 202 and end on a status query: queries keep up with sends.
    let queries_per_second = sends_per_second.max(1_000);
    format!(
        r#"
[engine]
sends_per_second = {sends_per_second}
queries_per_second = {queries_per_second}
max_in_flight = 64

[cluster]
node_name = "{name}"
lease_ms = {lease_ms}

[operators.mtn-rw]
kind = "mtn_momo"
base_url = "http://127.0.0.1:{simulator_port}"
target_environment = "mtnrwanda"
currency = "RWF"
disbursement = {{ subscription_key = "sub", api_user = "cluster-test", api_key = "key" }}
"#
    )
}

/// A `payrail serve` node of the test's cluster.
pub struct Node {
    pub name: String,
    pub port: u16,
    dir: PathBuf,
    pub process: Child,
}

impl Node {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.process.id()).expect("a pid"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }
}

/// The simulator and the nodes, on one database.
pub struct Cluster {
    /// The test database, kept for as long as the cluster, when it runs on one.
    _db: Option<TestDb>,
    database_url: String,
    pub dir: tempfile::TempDir,
    simulator_port: u16,
    simulator: Child,
    pub nodes: Vec<Node>,
}

impl Cluster {
    /// A cluster of `nodes` on a test database of its own.
    pub async fn start(nodes: usize, sends_per_second: u32) -> Cluster {
        let db = TestDb::new().await;
        let url = db.url.clone();
        Cluster::on(
            Some(db),
            url,
            tempfile::tempdir().expect("a directory"),
            nodes,
            sends_per_second,
        )
        .await
    }

    /// A cluster of `nodes` on the database at `database_url`, working in `dir`.
    pub async fn on(
        db: Option<TestDb>,
        database_url: String,
        dir: tempfile::TempDir,
        nodes: usize,
        sends_per_second: u32,
    ) -> Cluster {
        let simulator_port = free_port();
        std::fs::write(dir.path().join("simulator.toml"), SIMULATOR_PROFILE).expect("profile");
        let simulator = start_simulator(dir.path(), simulator_port, "simulator.toml").await;
        let mut cluster = Cluster {
            _db: db,
            database_url,
            dir,
            simulator_port,
            simulator,
            nodes: Vec::new(),
        };
        for n in 1..=nodes {
            cluster.add_node(&format!("node-{n}"), sends_per_second);
        }
        for node in &cluster.nodes {
            wait_for_http(node.port, "/readyz").await;
        }
        cluster
    }

    pub fn add_node(&mut self, name: &str, sends_per_second: u32) {
        let dir = self.dir.path().join(name);
        std::fs::create_dir(&dir).expect("the node's directory");
        std::fs::write(
            dir.join("payrail.toml"),
            node_configuration(name, self.simulator_port, sends_per_second),
        )
        .expect("configuration");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let process = start(
            &dir,
            "node.log",
            &["serve", "--listen", &listen],
            Some(&self.database_url),
        );
        self.nodes.push(Node {
            name: name.to_owned(),
            port,
            dir,
            process,
        });
    }

    /// Submits a payroll of `lines` for a new merchant; its batch waits for a node's sweep.
    pub async fn payroll(&self, merchant: &str, lines: usize) {
        let path = self.payroll_file(merchant, lines);
        funded_payroll(&self.database_url, merchant, 1_000_000_000, &path).await;
    }

    /// Submits a payroll of `lines` for a new merchant with no funds: its batch waits in
    /// `awaiting_funds`, taken by a node's sweep, until `fund` tops the merchant up.
    /// Returns the merchant's id.
    pub async fn payroll_awaiting_funds(&self, merchant: &str, lines: usize) -> String {
        let path = self.payroll_file(merchant, lines);
        let (url, name) = (self.database_url.clone(), merchant.to_owned());
        tokio::task::spawn_blocking(move || {
            let created = run_json(&url, &["merchant", "create", "--name", &name]);
            let id = created["merchant"]["id"].as_str().expect("id").to_owned();
            let csv = path.to_str().expect("UTF-8");
            run_json(&url, &["batch", "submit", "--merchant", &id, "--file", csv]);
            id
        })
        .await
        .expect("the payroll is submitted")
    }

    /// Funds the merchants at once; each node's sweep starts the batches it holds.
    pub async fn fund(&self, merchants: Vec<String>) {
        let url = self.database_url.clone();
        tokio::task::spawn_blocking(move || {
            for merchant in merchants {
                let fund = [
                    "merchant",
                    "fund",
                    "--merchant",
                    &merchant,
                    "--amount",
                    "1000000000",
                ];
                run_json(&url, &fund);
            }
        })
        .await
        .expect("the merchants are funded");
    }

    fn payroll_file(&self, merchant: &str, lines: usize) -> PathBuf {
        let mut csv = String::from("msisdn,amount,reference\n");
        for i in 0..lines {
            writeln!(csv, "25078{i:07},1000,{merchant}-{i}").expect("write");
        }
        let path = self.dir.path().join(format!("{merchant}.csv"));
        std::fs::write(&path, csv).expect("the CSV");
        path
    }

    /// A new connection to the database, wherever it is writable now (waiting out a
    /// failover).
    pub async fn client(&self) -> tokio_postgres::Client {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            match tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return client;
                }
                Err(error) => assert!(Instant::now() < deadline, "the database: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client()
            .await
            .query_one(sql, &[])
            .await
            .expect(sql)
            .get(0)
    }

    /// Each running batch's id and the name of the node that owns it.
    pub async fn owners(&self) -> HashMap<String, String> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT b.id::text, n.name FROM batches b JOIN cluster_nodes n ON n.id = b.owner_node
                  WHERE b.state = 'running' AND b.kind = 'batch'",
                &[],
            )
            .await
            .expect("owners");
        rows.iter().map(|row| (row.get(0), row.get(1))).collect()
    }

    pub async fn wait_until(&self, what: &str, limit: Duration, sql: &str, at_least: i64) {
        let deadline = Instant::now() + limit;
        while self.count(sql).await < at_least {
            if Instant::now() >= deadline {
                panic!("{what}: not within {limit:?}\n{}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What a failed wait shows: lines and batches by state, the nodes, and their logs' ends.
    pub async fn describe(&self) -> String {
        let client = self.client().await;
        let mut text = String::new();
        for sql in [
            "SELECT state || ' ' || count(*) FROM payout_lines GROUP BY state",
            "SELECT state || ' owned by ' || coalesce(owner_node::text, 'nobody') FROM batches",
            "SELECT name || ' live ' || (expires_at > now()) FROM cluster_nodes",
        ] {
            for row in client.query(sql, &[]).await.expect(sql) {
                writeln!(text, "{}", row.get::<_, String>(0)).expect("write");
            }
        }
        for node in &self.nodes {
            let log = node.log();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            writeln!(
                text,
                "--- {} (newest first)\n{}",
                node.name,
                tail.join("\n")
            )
            .expect("write");
        }
        text
    }

    pub async fn simulator(&self, path: &str) -> serde_json::Value {
        let (_, body) = http_get(self.simulator_port, path)
            .await
            .expect("the simulator answers");
        serde_json::from_str(&body).expect("JSON")
    }

    /// What the simulator executed: every payout once; returns the busiest one-second
    /// window of transfers created.
    pub async fn executed_once_each(&self, lines: usize) -> usize {
        let report = self.simulator("/_sim/transfers").await;
        let transfers = report["transfers"].as_array().expect("transfers");
        let mut executions: HashMap<&str, u64> = HashMap::new();
        for transfer in transfers {
            *executions
                .entry(transfer["external_id"].as_str().expect("an external id"))
                .or_default() += transfer["executions"].as_u64().expect("a count");
        }
        assert_eq!(executions.len(), lines, "one payout id per line");
        let twice: Vec<_> = executions.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "payout ids executed twice: {twice:?}");
        let mut created: Vec<u64> = transfers
            .iter()
            .map(|t| t["created_ms"].as_u64().expect("a time"))
            .collect();
        created.sort_unstable();
        busiest_second(&created)
    }

    pub async fn audit(&self, lines: usize) {
        assert_eq!(
            self.count(SUCCEEDED).await,
            i64::try_from(lines).expect("fits")
        );
        let pool = pool::connect(&self.database_url, 1, Priority::Normal).expect("a pool");
        let client = pool.get().await.expect("a connection");
        let audit = ledger::audit(&client).await.expect("audit");
        assert!(audit.is_sound(), "{audit:?}");
    }

    /// Stops every node and the simulator with SIGINT; each must exit cleanly.
    pub fn stop(mut self) {
        for node in std::mem::take(&mut self.nodes) {
            interrupt(node.process);
        }
        let simulator = std::mem::replace(&mut self.simulator, spawn_nothing());
        interrupt(simulator);
    }
}

/// A process that has already ended, to stand in for one handed over.
fn spawn_nothing() -> Child {
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let _ = child.wait();
    child
}

impl Drop for Cluster {
    /// A test that failed leaves no process behind.
    fn drop(&mut self) {
        for child in self
            .nodes
            .iter_mut()
            .map(|node| &mut node.process)
            .chain(std::iter::once(&mut self.simulator))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// CPU seconds a process has used (user and system), from `/proc`.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / 100.0
}

/// CPU seconds every PostgreSQL server process on the machine has used so far.
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

/// The most transfers created within any one second, from their sorted creation times.
pub fn busiest_second(created_ms: &[u64]) -> usize {
    let mut busiest = 0;
    let mut first = 0;
    for (last, at) in created_ms.iter().enumerate() {
        while created_ms[first] + 1_000 <= *at {
            first += 1;
        }
        busiest = busiest.max(last + 1 - first);
    }
    busiest
}

pub fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Lines paid.
pub const SUCCEEDED: &str = "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'";

pub const DONE: &str =
    "SELECT count(*) FROM batches WHERE state IN ('completed', 'completed_with_failures')";
