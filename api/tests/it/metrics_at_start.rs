//! A fresh `payrail serve` (its own process, so its own recorder) serves every configured
//! route × payout outcome, each route's payout duration, and every batch outcome at 0
//! before any work: dashboards and alerts see the series from the start.

use std::collections::BTreeMap;
use std::path::Path;

use payrail_engine::testing::TestDb;

use crate::over_network::{interrupt, start, wait_for_http};
use crate::support::{free_port, http_get};

/// The routes the node is configured with; `mtn-ug` is in no default table.
const ROUTES: [&str; 3] = ["mtn-rw", "airtel-rw", "mtn-ug"];
const PAYOUT_OUTCOMES: [&str; 3] = ["succeeded", "failed", "requires_review"];
const BATCH_OUTCOMES: [&str; 4] = [
    "completed",
    "completed_with_failures",
    "cancelled",
    "invalid",
];

const CONFIGURATION: &str = r#"
routes = [
    { prefix = "25078", route = "mtn-rw" },
    { prefix = "25072", route = "airtel-rw" },
    { prefix = "25677", route = "mtn-ug" },
]
"#;

/// One line of the text format: `name{label="value",…} value`.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Every sample in `text`; panics on a line that is neither a sample nor a comment.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| sample(line).unwrap_or_else(|| panic!("not a sample: {line:?}")))
        .collect()
}

fn sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let (name, mut rest) = match series.split_once('{') {
        Some((name, labels)) => (name, labels.strip_suffix('}')?),
        None => (series, ""),
    };
    let mut labels = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => value.push(match chars.next()?.1 {
                    'n' => '\n',
                    escaped => escaped,
                }),
                (at, '"') => break at,
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = match &after[end + 1..] {
            "" => "",
            more => more.strip_prefix(',')?,
        };
    }
    Some(Sample {
        name: name.to_owned(),
        labels,
        value: value.parse().ok()?,
    })
}

/// The value of the one sample of `name` whose labels are exactly `labels`.
fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|sample| sample.name == name && sample.labels == wanted)
        .collect();
    match found.as_slice() {
        [one] => one.value,
        other => panic!("{name}{wanted:?}: {} samples, not one", other.len()),
    }
}

/// Starts `payrail serve` on `db` in `dir` and scrapes `/metrics` once it answers.
async fn scrape_a_fresh_node(dir: &Path, db: &TestDb) -> String {
    std::fs::write(dir.join("payrail.toml"), CONFIGURATION).expect("configuration");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let node = start(
        dir,
        "node.log",
        &["serve", "--listen", &listen],
        Some(&db.url),
    );
    // The node listens only once its engine (and so its journal) has started.
    wait_for_http(port, "/healthz").await;
    let scraped = http_get(port, "/metrics").await;
    interrupt(node);
    let (status, text) = scraped.expect("/metrics answers");
    assert_eq!(status, 200, "{text}");
    text
}

#[test]
fn the_sample_parser_reads_labels_with_quotes_and_braces() {
    let parsed =
        sample(r#"payrail_http_requests_total{route="/v1/payouts/{id}",note="a \"b\""} 3"#);
    let labels = [("note", "a \"b\""), ("route", "/v1/payouts/{id}")];
    assert_eq!(
        parsed,
        Some(Sample {
            name: "payrail_http_requests_total".to_owned(),
            labels: labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            value: 3.0,
        })
    );
    assert_eq!(sample("payrail_build_info 1").map(|s| s.value), Some(1.0));
    assert_eq!(sample("payrail_build_info{version=\"0.1.0\" 1"), None);
    assert_eq!(
        sample(r#"payrail_batches_total{outcome="invalid"x="y"} 0"#),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_node_serves_every_route_and_batch_outcome_at_zero() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let text = scrape_a_fresh_node(dir.path(), &db).await;
    let samples = samples(&text);

    for route in ROUTES {
        for outcome in PAYOUT_OUTCOMES {
            let labels = [("route", route), ("outcome", outcome)];
            let value = value_of(&samples, "payrail_payouts_total", &labels);
            assert_eq!(value, 0.0, "{route} {outcome}:\n{text}");
        }
        let labels = [("route", route)];
        for suffix in ["count", "sum"] {
            let name = format!("payrail_payout_duration_seconds_{suffix}");
            assert_eq!(value_of(&samples, &name, &labels), 0.0, "{route}:\n{text}");
        }
        let every = [("route", route), ("le", "+Inf")];
        let name = "payrail_payout_duration_seconds_bucket";
        assert_eq!(value_of(&samples, name, &every), 0.0, "{route}:\n{text}");
    }
    for outcome in BATCH_OUTCOMES {
        let value = value_of(&samples, "payrail_batches_total", &[("outcome", outcome)]);
        assert_eq!(value, 0.0, "{outcome}:\n{text}");
    }
}
