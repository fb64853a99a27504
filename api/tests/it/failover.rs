//! PostgreSQL failover under a paying node (docs/cluster.md, "PostgreSQL failover"): a
//! pg_auto_failover monitor, a primary and a hot standby (Debian's
//! `postgresql-15-auto-failover`), a `payrail serve` on the multi-host URL with
//! `target_session_attrs=read-write`, and `payrail simulate`. Mid-payroll the primary's
//! keeper is killed and its PostgreSQL stopped with `-m immediate`; the standby is promoted,
//! `/readyz` says not ready while no writable database answers, the node carries on, every
//! line ends final, nothing is executed twice and the ledger audit passes. A second node
//! on the same database comes back too: the failover outlasts both leases, and neither
//! node reaps the other for it.
//! `PAYRAIL_FAILOVER_LINES` sizes the payroll (the 20,000 for the benchmark).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, User, chown};
use payrail_engine::postgres::Binaries;

use crate::cluster::harness::{Cluster, DONE, SUCCEEDED, from_env};
use crate::over_network::wait_for_http;
use crate::support::{free_port, http_get};

/// pg_auto_failover's processes, each `pg_autoctl … --run` in a process group of its own.
struct AutoFailover {
    dir: PathBuf,
    monitor_port: u16,
    monitor: Child,
    /// The primary and the standby, with their ports.
    nodes: Vec<(Child, u16, PathBuf)>,
}

/// Where PostgreSQL's programs really are (`pg_autoctl` runs `pg_ctl` from `PATH`, and
/// finds the rest beside it: a directory of symbolic links to them will not do).
fn pg_bin() -> PathBuf {
    let pg_ctl = Binaries::find()
        .expect("PostgreSQL's server programs")
        .program("pg_ctl");
    std::fs::canonicalize(pg_ctl)
        .expect("pg_ctl")
        .parent()
        .expect("its directory")
        .to_path_buf()
}

fn pg_ctl() -> String {
    pg_bin().join("pg_ctl").display().to_string()
}

/// The postgres account's ids when running as root (PostgreSQL refuses root).
fn postgres_ids() -> Option<(u32, u32)> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let user = User::from_name("postgres")
        .expect("the account database")
        .expect("the postgres account");
    Some((user.uid.as_raw(), user.gid.as_raw()))
}

impl AutoFailover {
    fn command(&self, program: &str, log: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.join("run"))
            .env("PATH", format!("{}:/usr/bin:/bin", pg_bin().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join(log)).expect("a log"))
            .process_group(0);
        if let Some((uid, gid)) = postgres_ids() {
            command.uid(uid).gid(gid);
        }
        command
    }

    fn monitor_url(&self, user: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:{}/pg_auto_failover?sslmode=disable",
            self.monitor_port
        )
    }

    /// The monitor, then a primary, then a standby that has caught up.
    async fn start(root: &Path) -> AutoFailover {
        let dir = root.join("pg");
        for sub in ["", "config", "data", "run"] {
            std::fs::create_dir_all(dir.join(sub)).expect("a directory");
            if let Some((uid, gid)) = postgres_ids() {
                chown(&dir.join(sub), Some(uid.into()), Some(gid.into())).expect("chown");
            }
        }
        if postgres_ids().is_some() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))
                .expect("the postgres account reaches the directory");
        }
        let monitor_port = free_port();
        let mut failover = AutoFailover {
            dir: dir.clone(),
            monitor_port,
            monitor: Command::new("true").spawn().expect("a placeholder"),
            nodes: Vec::new(),
        };
        failover.monitor = failover
            .command("pg_autoctl", "monitor.log")
            .args(["create", "monitor", "--pgdata"])
            .arg(dir.join("monitor"))
            .args(["--pgport", &monitor_port.to_string()])
            .args([
                "--hostname",
                "127.0.0.1",
                "--auth",
                "trust",
                "--no-ssl",
                "--run",
            ])
            .spawn()
            .expect("pg_autoctl (Debian's postgresql-15-auto-failover; .ci/run installs it)");
        let monitor = failover.connect(&failover.monitor_url("postgres")).await;
        // Declare a node failed within seconds rather than the default 20 s and more.
        for setting in [
            "pgautofailover.health_check_period = 1000",
            "pgautofailover.health_check_timeout = 1000",
            "pgautofailover.health_check_max_retries = 1",
            "pgautofailover.health_check_retry_delay = 500",
            "pgautofailover.node_considered_unhealthy_timeout = 3000",
            "pgautofailover.primary_demote_timeout = 5000",
        ] {
            monitor
                .batch_execute(&format!("ALTER SYSTEM SET {setting}"))
                .await
                .expect(setting);
        }
        monitor
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .expect("reload");
        for n in 1..=2 {
            failover.add_node(n);
            let want: &[&str] = if n == 1 {
                &["single"]
            } else {
                &["primary", "secondary"]
            };
            failover.wait_for_states(want).await;
        }
        failover
    }

    fn add_node(&mut self, n: usize) {
        let port = free_port();
        let pgdata = self.dir.join(format!("node{n}"));
        let child = self
            .command("pg_autoctl", &format!("node{n}.log"))
            .args(["create", "postgres", "--pgdata"])
            .arg(&pgdata)
            .args(["--pgport", &port.to_string()])
            .args(["--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl"])
            .args(["--monitor", &self.monitor_url("autoctl_node")])
            .args(["--dbname", "payrail", "--run"])
            .spawn()
            .expect("pg_autoctl create postgres");
        self.nodes.push((child, port, pgdata));
    }

    async fn connect(&self, url: &str) -> tokio_postgres::Client {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((client, connection)) =
                tokio_postgres::connect(url, tokio_postgres::NoTls).await
            {
                tokio::spawn(connection);
                return client;
            }
            assert!(Instant::now() < deadline, "nothing answers {url}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the nodes report these states, in order of their ids. A standby's base
    /// backup waits for a checkpoint on the primary: one is asked for every second. The
    /// monitor is asked on a new connection each time (it may restart while it settles).
    async fn wait_for_states(&self, want: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut states: Vec<String> = Vec::new();
        while states != want {
            assert!(
                Instant::now() < deadline,
                "pg_auto_failover states {states:?}, waiting for {want:?}"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            let monitor = self.connect(&self.monitor_url("postgres")).await;
            let query = "SELECT reportedstate::text FROM pgautofailover.node ORDER BY nodeid";
            if let Ok(rows) = monitor.query(query, &[]).await {
                states = rows.iter().map(|row| row.get(0)).collect();
            }
            if let Some((_, port, _)) = self.nodes.first() {
                let primary = format!("postgres://postgres@127.0.0.1:{port}/postgres");
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&primary, tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client.batch_execute("CHECKPOINT").await;
                }
            }
        }
    }

    /// The URL a node uses: both hosts, the writable one wins.
    fn database_url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|(_, port, _)| format!("127.0.0.1:{port}"))
            .collect();
        format!(
            "postgres://postgres@{}/payrail?target_session_attrs=read-write&connect_timeout=2",
            hosts.join(",")
        )
    }

    /// Kills the primary's keeper (so nothing restarts it) and stops its PostgreSQL with
    /// `-m immediate`.
    fn stop_primary_immediately(&mut self) {
        let (keeper, _, pgdata) = &mut self.nodes[0];
        let group = Pid::from_raw(i32::try_from(keeper.id()).expect("a pid"));
        let _ = killpg(group, Signal::SIGKILL);
        let _ = keeper.wait();
        let pgdata = pgdata.clone();
        let mut stop = self.command(&pg_ctl(), "stop-primary.log");
        let _ = stop
            .arg("-D")
            .arg(&pgdata)
            .args(["stop", "-m", "immediate"])
            .status();
    }
}

impl Drop for AutoFailover {
    /// Stops the keepers and every PostgreSQL, also when a test fails.
    fn drop(&mut self) {
        let mut children: Vec<&mut Child> =
            self.nodes.iter_mut().map(|(child, _, _)| child).collect();
        children.push(&mut self.monitor);
        for child in children {
            let group = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
            let _ = killpg(group, Signal::SIGTERM);
            let _ = child.wait();
        }
        for data in ["node1", "node2", "monitor"] {
            let _ = self
                .command(&pg_ctl(), &format!("stop-{data}.log"))
                .arg("-D")
                .arg(self.dir.join(data))
                .args(["stop", "-m", "immediate"])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_stopped_mid_payroll_fails_over_and_the_node_pays_every_line_once() {
    let lines = from_env("PAYRAIL_FAILOVER_LINES", 3_000);
    let postgres_dir = tempfile::tempdir().expect("a directory");
    let mut failover = AutoFailover::start(postgres_dir.path()).await;
    let dir = tempfile::tempdir().expect("a directory");
    // Two nodes: both lose PostgreSQL for longer than their 2 s lease, and neither may
    // reap the other when they come back.
    let mut cluster = Cluster::on(None, failover.database_url(), dir, 2, 300).await;
    cluster.payroll("Kayonza Tea", lines).await;
    cluster
        .wait_until(
            "the payroll started",
            Duration::from_secs(60),
            SUCCEEDED,
            i64::try_from(lines / 10).expect("fits"),
        )
        .await;
    failover.stop_primary_immediately();
    let stopped_at = Instant::now();
    let port = cluster.nodes[0].port;
    let mut not_ready = None;
    let back = loop {
        match http_get(port, "/readyz").await {
            Some((503, _)) => not_ready = not_ready.or(Some(stopped_at.elapsed())),
            Some((200, _)) if not_ready.is_some() => break stopped_at.elapsed(),
            _ => {}
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(120),
            "the node was not ready again within 2 minutes: {}",
            cluster.nodes[0].log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    cluster
        .wait_until(
            "the payroll completed on the new primary",
            Duration::from_secs(120 + lines as u64 / 100),
            DONE,
            1,
        )
        .await;
    let paid_in = stopped_at.elapsed();
    for node in &mut cluster.nodes {
        wait_for_http(node.port, "/readyz").await;
        assert!(
            node.process.try_wait().expect("wait").is_none(),
            "{} was taken over and stopped after the failover: {}",
            node.name,
            node.log()
        );
    }
    let live = "SELECT count(*) FROM cluster_nodes WHERE expires_at > now()";
    assert_eq!(cluster.count(live).await, 2, "both nodes kept their leases");
    cluster.executed_once_each(lines).await;
    cluster.audit(lines).await;
    eprintln!(
        "failover test: {lines} lines; primary stopped, /readyz 503 after {:.1} s, ready again after {:.1} s, payroll done {:.1} s after the stop",
        not_ready.unwrap_or_default().as_secs_f64(),
        back.as_secs_f64(),
        paid_in.as_secs_f64()
    );
    cluster.stop();
    drop(failover);
}
