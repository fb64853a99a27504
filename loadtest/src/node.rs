//! A `payrail serve` node started for a benchmark, from the `payrail` binary built next
//! to this one, on the benchmark's database and a configuration it is given; its memory
//! is read from `/proc`, and it is stopped with SIGTERM as an SRE would.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// A running node.
#[derive(Debug)]
pub struct SpawnedNode {
    child: Child,
    pid: u32,
    pub base: String,
    /// Holds the configuration file and the node's log (`node.log`).
    pub dir: tempfile::TempDir,
}

impl SpawnedNode {
    /// Starts `payrail serve` on `database_url` with `config` (TOML, without `listen`),
    /// and waits until `/readyz` answers 200.
    pub async fn start(database_url: &str, config: &str) -> anyhow::Result<SpawnedNode> {
        let binary = payrail_binary()?;
        let dir = tempfile::tempdir().context("a temporary directory")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let file = dir.path().join("payrail.toml");
        std::fs::write(&file, format!("listen = \"127.0.0.1:{port}\"\n{config}"))?;
        let log = std::fs::File::create(dir.path().join("node.log"))?;
        let child = Command::new(&binary)
            .arg("--config")
            .arg(&file)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("PAYRAIL_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("the node has a process id")?;
        let node = SpawnedNode {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        node.wait_ready().await?;
        Ok(node)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the node did not become ready in 60 s; see {}",
            self.dir.path().join("node.log").display()
        )
    }

    /// The node's resident memory now (`VmRSS`) and at its peak (`VmHWM`), in bytes.
    pub fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let kib: u64 = status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .with_context(|| format!("{name} in /proc/{}/status", self.pid))?;
            Ok(kib * 1024)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Stops the node with SIGTERM and waits for it to drain and exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = Pid::from_raw(i32::try_from(self.pid)?);
        kill(pid, Signal::SIGTERM).context("signalling the node")?;
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .context("the node did not stop within 30 s")??;
        Ok(())
    }
}

/// `payrail`, next to this binary (`cargo build --release` builds both).
fn payrail_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::current_exe()?.with_file_name("payrail");
    if !binary.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release --bin payrail`",
            binary.display()
        );
    }
    Ok(binary)
}
