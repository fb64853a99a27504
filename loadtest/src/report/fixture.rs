//! A small synthetic run the report's tests render: known percentiles (overall and by
//! kind of request), a timeline, an error, a failed audit check and a command that needs
//! escaping in HTML.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::{AuditCheck, AuditSummary, RunReport, Second};

/// The command the sample run claims; its `<`, `>` and `&` must be escaped in HTML.
pub const SAMPLE_COMMAND: &str =
    r#"payrail-loadtest run mixed --lines 60 --rate 40 --label "<fast & 'loose'>""#;

/// A mixed run of 600 payouts over 10 s; accept latencies 1..=1000 ms (singles 1..=800,
/// collections 801..=990, payrolls 991..=1000), accept-to-final 5..=5000 ms; one failed
/// audit check.
pub fn sample_report() -> RunReport {
    let accept = histogram_of((1..=1_000).map(|ms| ms * 1_000));
    let accept_by_kind = [
        ("single", 1..=800),
        ("collection", 801..=990),
        ("payroll", 991..=1_000),
    ]
    .map(|(kind, range)| {
        let histogram = histogram_of(range.map(|ms| ms * 1_000));
        (kind.to_owned(), histogram)
    });
    let accept_to_final = histogram_of((1..=1_000).map(|ms| ms * 5_000));
    let timeline = (0..10)
        .map(|second| Second {
            offered: if second < 6 { 100 } else { 0 },
            finished: [20, 60, 90, 100, 100, 100, 80, 40, 8, 0][second],
            accept_p99: (second < 6).then(|| Duration::from_millis(150)),
        })
        .collect();
    RunReport {
        scenario: "mixed".to_owned(),
        command: SAMPLE_COMMAND.to_owned(),
        machine: "2 cores, 23 GiB, Test CPU, Linux 6.1".to_owned(),
        database: "PostgreSQL 15.18 (private server, fsync on)".to_owned(),
        started_at: "2025-01-02T03:04:05Z".parse().expect("a timestamp"),
        duration: Duration::from_millis(9_500),
        offered: 600,
        offered_per_second: 100.0,
        finished: 598,
        payouts_per_second: 62.947,
        outcomes: BTreeMap::from([("succeeded".to_owned(), 590), ("failed".to_owned(), 8)]),
        errors: BTreeMap::from([("http_429".to_owned(), 2)]),
        accept,
        accept_by_kind: BTreeMap::from(accept_by_kind),
        accept_to_final,
        timeline,
        audit: AuditSummary {
            ok: false,
            checks: vec![
                check("every payout final", false, "2 of 600 not final"),
                check("paid at most once", true, "0 paid twice"),
                check("ledger balanced", true, "debits = credits"),
            ],
        },
    }
}

/// A histogram holding `values` (microseconds).
pub fn histogram_of(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds");
    for value in values {
        histogram.record(value).expect("a value within bounds");
    }
    histogram
}

fn check(name: &str, ok: bool, detail: &str) -> AuditCheck {
    AuditCheck {
        name: name.to_owned(),
        ok,
        detail: detail.to_owned(),
    }
}
