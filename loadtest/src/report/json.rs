//! The JSON document of a run: every figure, latency percentiles in milliseconds, the
//! timeline and the audit, for tools and for comparing runs.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::{RunReport, max_ms, quantile_ms};

pub fn render(report: &RunReport) -> Value {
    let accept_by_kind: serde_json::Map<String, Value> = report
        .accept_by_kind
        .iter()
        .map(|(kind, histogram)| (kind.clone(), latency(histogram)))
        .collect();
    let timeline: Vec<Value> = report
        .timeline
        .iter()
        .enumerate()
        .map(|(second, counts)| {
            json!({
                "second": second,
                "offered": counts.offered,
                "finished": counts.finished,
                "accept_p99_ms": counts.accept_p99.map(|p99| p99.as_secs_f64() * 1_000.0),
            })
        })
        .collect();
    let checks: Vec<Value> = report
        .audit
        .checks
        .iter()
        .map(|check| json!({"name": check.name, "ok": check.ok, "detail": check.detail}))
        .collect();
    json!({
        "scenario": report.scenario,
        "command": report.command,
        "machine": report.machine,
        "database": report.database,
        "started_at": report.started_at.to_string(),
        "duration_seconds": report.duration.as_secs_f64(),
        "offered": report.offered,
        "offered_per_second": report.offered_per_second,
        "finished": report.finished,
        "payouts_per_second": report.payouts_per_second,
        "outcomes": report.outcomes,
        "errors": report.errors,
        "latency": {
            "accept": latency(&report.accept),
            "accept_by_kind": accept_by_kind,
            "accept_to_final": latency(&report.accept_to_final),
        },
        "timeline": timeline,
        "audit": {"ok": report.audit.passed(), "checks": checks},
    })
}

/// `{p50, p99, p999, max}` in milliseconds, each null when nothing was measured.
fn latency(histogram: &Histogram<u64>) -> Value {
    json!({
        "p50": quantile_ms(histogram, 0.5),
        "p99": quantile_ms(histogram, 0.99),
        "p999": quantile_ms(histogram, 0.999),
        "max": max_ms(histogram),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{SAMPLE_COMMAND, histogram_of, sample_report};
    use super::*;

    fn ms(value: &Value) -> f64 {
        value.as_f64().expect("a number of milliseconds")
    }

    #[test]
    fn has_every_key_with_the_run_s_values() {
        let report = sample_report();
        let json = report.to_json();
        assert_eq!(json["scenario"], "mixed");
        assert_eq!(json["command"], SAMPLE_COMMAND);
        assert_eq!(json["machine"], "2 cores, 23 GiB, Test CPU, Linux 6.1");
        assert_eq!(
            json["database"],
            "PostgreSQL 15.18 (private server, fsync on)"
        );
        assert_eq!(json["started_at"], "2025-01-02T03:04:05Z");
        assert_eq!(json["duration_seconds"], 9.5);
        assert_eq!(json["offered"], 600);
        assert_eq!(json["offered_per_second"], 100.0);
        assert_eq!(json["finished"], 598);
        assert_eq!(json["payouts_per_second"], 62.947);
        assert_eq!(json["outcomes"], json!({"succeeded": 590, "failed": 8}));
        assert_eq!(json["errors"], json!({"http_429": 2}));

        // accept holds 1..=1000 ms, accept-to-final 5..=5000 ms, at 3 significant digits.
        let accept = &json["latency"]["accept"];
        assert!((ms(&accept["p50"]) - 500.0).abs() < 2.0, "{accept}");
        assert!((ms(&accept["p99"]) - 990.0).abs() < 2.0, "{accept}");
        assert!((ms(&accept["p999"]) - 999.0).abs() < 2.0, "{accept}");
        assert!((ms(&accept["max"]) - 1_000.0).abs() < 2.0, "{accept}");
        let to_final = &json["latency"]["accept_to_final"];
        assert!((ms(&to_final["p99"]) - 4_950.0).abs() < 10.0, "{to_final}");
        assert!((ms(&to_final["max"]) - 5_000.0).abs() < 10.0, "{to_final}");
        assert_eq!(
            ms(&accept["p99"]),
            report.accept.value_at_quantile(0.99) as f64 / 1_000.0
        );

        // By kind: singles 1..=800 ms, collections 801..=990 ms, payrolls 991..=1000 ms.
        let by_kind = json["latency"]["accept_by_kind"]
            .as_object()
            .expect("accept latency by kind");
        let kinds: Vec<&str> = by_kind.keys().map(String::as_str).collect();
        assert_eq!(kinds, ["collection", "payroll", "single"]);
        let single = &by_kind["single"];
        assert!((ms(&single["p50"]) - 400.0).abs() < 1.0, "{single}");
        assert!((ms(&single["p99"]) - 792.0).abs() < 1.0, "{single}");
        assert!((ms(&single["p999"]) - 799.0).abs() < 2.0, "{single}");
        assert!((ms(&single["max"]) - 800.0).abs() < 1.0, "{single}");
        let collection = &by_kind["collection"];
        assert!((ms(&collection["p50"]) - 895.0).abs() < 2.0, "{collection}");
        assert!((ms(&collection["max"]) - 990.0).abs() < 2.0, "{collection}");
        assert!((ms(&by_kind["payroll"]["p50"]) - 995.0).abs() < 2.0);

        let timeline = json["timeline"].as_array().expect("a timeline");
        assert_eq!(timeline.len(), 10);
        assert_eq!(
            timeline[1],
            json!({"second": 1, "offered": 100, "finished": 60, "accept_p99_ms": 150.0})
        );
        assert_eq!(
            timeline[9],
            json!({"second": 9, "offered": 0, "finished": 0, "accept_p99_ms": null})
        );

        assert_eq!(json["audit"]["ok"], false);
        let checks = json["audit"]["checks"].as_array().expect("audit checks");
        assert_eq!(checks.len(), 3);
        assert_eq!(
            checks[0],
            json!({"name": "every payout final", "ok": false, "detail": "2 of 600 not final"})
        );
        assert_eq!(checks[1]["ok"], true);
    }

    #[test]
    fn the_audit_is_ok_only_when_every_check_passed() {
        let mut report = sample_report();
        report.audit.checks[0].ok = true;
        report.audit.ok = true;
        assert_eq!(report.to_json()["audit"]["ok"], true);
        report.audit.checks[2].ok = false;
        assert_eq!(report.to_json()["audit"]["ok"], false);
    }

    #[test]
    fn latencies_are_null_and_errors_empty_when_nothing_was_measured() {
        let mut report = sample_report();
        report.accept = histogram_of([]);
        report.errors.clear();
        let json = report.to_json();
        assert_eq!(
            json["latency"]["accept"],
            json!({"p50": null, "p99": null, "p999": null, "max": null})
        );
        report.accept_by_kind.clear();
        assert_eq!(report.to_json()["latency"]["accept_by_kind"], json!({}));
        assert_eq!(json["errors"], json!({}));
    }
}
