//! `/metrics`: the catalogue's names are served, move with the work, keep labels bounded
//! (route templates, not raw paths), and pass `promtool check metrics`.

use std::io::Write;
use std::process::{Command, Stdio};

use payrail_engine::api_key::Role;
use serde_json::json;

use super::harness::Node;

/// The value of the first sample of `metric` whose labels include every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| {
            line.starts_with(&format!("{metric}{{")) || line.starts_with(&format!("{metric} "))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

async fn scrape(node: &Node) -> String {
    let answer = node
        .call(reqwest::Method::GET, "/metrics", None, &[], None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        answer.headers
    );
    answer.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_moves_the_metrics_and_the_exposition_passes_promtool() {
    let node = Node::start().await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let succeeded = ["route=\"mtn-rw\"", "outcome=\"succeeded\""];
    let before = sample(&scrape(&node).await, "payrail_payouts_total", &succeeded).unwrap_or(0.0);

    let payout = json!({ "msisdn": "0788123456", "amount": "1500", "currency": "RWF" });
    let answer = node.post_json("/v1/payouts?wait=10", maker, &payout).await;
    assert_eq!(answer.body["state"], "succeeded", "{}", answer.text);
    let id = answer.body["id"].as_str().expect("an id").to_owned();
    let read = node.get(&format!("/v1/payouts/{id}"), maker).await;
    assert_eq!(read.status, 200);

    let text = scrape(&node).await;
    // Other tests share the process's recorder, so counts only grow by at least ours.
    let after = sample(&text, "payrail_payouts_total", &succeeded).expect("payouts counted");
    assert!(after >= before + 1.0, "{before} → {after}");
    let sends = ["route=\"mtn-rw\"", "operation=\"send\"", "status=\"ok\""];
    assert!(sample(&text, "payrail_operator_requests_total", &sends).is_some_and(|n| n >= 1.0));
    assert!(
        sample(
            &text,
            "payrail_payout_duration_seconds_count",
            &["route=\"mtn-rw\""]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(sample(&text, "payrail_journal_flush_rows_count", &[]).is_some_and(|n| n >= 1.0));
    let accepted = ["route=\"/v1/payouts\"", "status=\"200\""];
    assert!(
        sample(&text, "payrail_http_requests_total", &accepted).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(text.contains("route=\"/v1/payouts/{id}\""), "{text}");
    assert!(!text.contains(&id), "a payout id became a label value");
    assert!(sample(&text, "payrail_build_info", &["version=\""]) == Some(1.0));
    for histogram in [
        "payrail_payout_duration_seconds",
        "payrail_operator_request_duration_seconds",
        "payrail_journal_flush_rows",
        "payrail_journal_flush_duration_seconds",
        "payrail_http_request_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {histogram} histogram")),
            "{histogram} is not a histogram:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {histogram} ")),
            "{histogram} has no help"
        );
    }
    for gauge in [
        "payrail_payouts_in_flight",
        "payrail_running_batches",
        "payrail_batch_lines_pending",
    ] {
        assert!(
            text.contains(&format!("# TYPE {gauge} gauge")),
            "{gauge}:\n{text}"
        );
    }

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's `prometheus` package; .ci/run installs it)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("written");
    let checked = promtool.wait_with_output().expect("promtool ran");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    node.stop().await;
}
