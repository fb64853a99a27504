//! The Grafana dashboard and the alert rules, checked for real: a node under a little load
//! is scraped by a real Prometheus (Debian's `prometheus`), and every panel's expressions
//! are evaluated through Prometheus's HTTP API. All must parse, and the throughput and
//! latency panels must show data. The rules pass `promtool check rules` and their unit
//! tests `promtool test rules`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use payrail_engine::api_key::Role;
use serde_json::{Value, json};

use super::harness::Node;

fn grafana() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana")
}

/// Every target expression of the dashboard, with the title of the row it sits in, the
/// panel's title, and Grafana's variables replaced as a dashboard opened on all routes
/// replaces them.
fn dashboard_expressions() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(grafana().join("dashboards/payrail-overview.json"))
        .expect("the dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut row = String::new();
    let mut found = Vec::new();
    let panels = dashboard["panels"].as_array().expect("panels");
    for panel in panels
        .iter()
        .flat_map(|p| std::iter::once(p).chain(p["panels"].as_array().into_iter().flatten()))
    {
        let title = panel["title"].as_str().unwrap_or_default().to_owned();
        if panel["type"] == "row" {
            row = title;
            continue;
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a target has an expression");
            let expr = expr
                .replace("$__rate_interval", "1m")
                .replace("$route", ".*");
            found.push((row.clone(), title.clone(), expr));
        }
    }
    found
}

/// A Prometheus scraping `target` every second, stopped when dropped.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: payrail\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("the configuration");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (Debian's `prometheus` package; .ci/run installs it)");
        Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The query's answer: `status` and `data.result`.
    async fn query(&self, http: &reqwest::Client, expr: &str) -> Value {
        let answer = http
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", expr)])
            .send()
            .await;
        match answer {
            Ok(answer) => answer.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the answer holds at least one finite sample.
fn has_data(answer: &Value) -> bool {
    answer["data"]["result"].as_array().is_some_and(|series| {
        series.iter().any(|s| {
            s["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(f64::is_finite)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_evaluates_on_a_real_prometheus_scraping_a_loaded_node() {
    let node = Node::start().await;
    let merchant = node.merchant("10000000").await;
    let maker = merchant.key(Role::Maker).to_owned();
    let target = node.base.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(&target);

    // A steady trickle of payouts for the whole check.
    let load = {
        let (base, http) = (node.base.clone(), reqwest::Client::new());
        tokio::spawn(async move {
            loop {
                let _ = http
                    .post(format!("{base}/v1/payouts"))
                    .bearer_auth(&maker)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({ "msisdn": "0788123456", "amount": "1500", "currency": "RWF" }))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let http = reqwest::Client::new();
    let mut waited = 0;
    while prometheus.query(&http, "up").await["status"] != "success" {
        assert!(waited < 90, "Prometheus did not start");
        tokio::time::sleep(Duration::from_secs(1)).await;
        waited += 1;
    }
    let expressions = dashboard_expressions();
    assert!(expressions.len() >= 20, "{} expressions", expressions.len());
    // Every expression must parse at once; the throughput and latency panels must show
    // data once Prometheus has scraped enough of the load (polled, at most 90 s).
    let mut waited = 0;
    loop {
        let mut empty = Vec::new();
        for (row, panel, expr) in &expressions {
            let answer = prometheus.query(&http, expr).await;
            assert_eq!(
                answer["status"], "success",
                "{row} / {panel}: {expr} → {answer}"
            );
            let must_show = ["Throughput", "Latency", "Cluster"];
            if must_show.contains(&row.as_str()) && !has_data(&answer) {
                empty.push(format!("{row} / {panel}: no data from {expr}"));
            }
        }
        if empty.is_empty() {
            break;
        }
        assert!(waited < 90, "{}", empty.join("\n"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        waited += 1;
    }
    load.abort();
    node.stop().await;
}

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(grafana().join("prometheus"))
        .output()
        .expect("promtool (Debian's `prometheus` package; .ci/run installs it)");
    assert!(
        output.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_alert_rules_and_the_scrape_configuration_pass_promtool() {
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
    promtool(&["check", "config", "prometheus.yml"]);
}
