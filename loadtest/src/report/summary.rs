//! The terminal summary of a run: its figures, latencies, outcomes, errors and audit,
//! then the command, machine and database that produced them.

use std::fmt::Write;

use hdrhistogram::Histogram;

use super::{PERCENTILES, RunReport, counts_text, max_ms, quantile_ms};

pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, report);
    out
}

fn write_summary(out: &mut String, report: &RunReport) -> std::fmt::Result {
    writeln!(
        out,
        "{}: {} offered ({:.1} /s), {} finished in {:.1} s: {:.1} payouts/s",
        report.scenario,
        report.offered,
        report.offered_per_second,
        report.finished,
        report.duration.as_secs_f64(),
        report.payouts_per_second,
    )?;
    writeln!(
        out,
        "accept latency (ms):          {}",
        latency(&report.accept)
    )?;
    for (kind, histogram) in &report.accept_by_kind {
        let label = format!("  {kind} accept (ms):");
        writeln!(out, "{label:<30}{}", latency(histogram))?;
    }
    writeln!(
        out,
        "accept-to-final latency (ms): {}",
        latency(&report.accept_to_final)
    )?;
    writeln!(
        out,
        "accept p99 (ms) of singles and collections, second by second: {}",
        by_second(report)
    )?;
    writeln!(out, "outcomes: {}", counts_text(&report.outcomes))?;
    writeln!(out, "errors: {}", counts_text(&report.errors))?;
    out.push_str(&report.audit.text());
    writeln!(out, "command: {}", report.command)?;
    writeln!(out, "machine: {}", report.machine)?;
    writeln!(out, "database: {}", report.database)
}

/// Each second's accept p99, rounded to the millisecond ("-" for a second that offered none).
fn by_second(report: &RunReport) -> String {
    let seconds: Vec<String> = report
        .timeline
        .iter()
        .map(|second| match second.accept_p99 {
            Some(p99) => format!("{:.0}", p99.as_secs_f64() * 1_000.0),
            None => "-".to_owned(),
        })
        .collect();
    seconds.join(" ")
}

/// "p50 1.2  p99 3.4  p99.9 5.6  max 7.8", or "none measured".
fn latency(histogram: &Histogram<u64>) -> String {
    let Some(max) = max_ms(histogram) else {
        return "none measured".to_owned();
    };
    let mut parts: Vec<String> = PERCENTILES
        .iter()
        .map(|&(label, quantile)| {
            let value = quantile_ms(histogram, quantile).unwrap_or_default();
            format!("{label} {value:.1}")
        })
        .collect();
    parts.push(format!("max {max:.1}"));
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{SAMPLE_COMMAND, histogram_of, sample_report};
    use super::*;

    #[test]
    fn shows_the_throughput_the_p99s_and_every_audit_check() {
        let report = sample_report();
        let summary = report.summary();
        assert!(summary.starts_with("mixed: 600 offered (100.0 /s), 598 finished in 9.5 s"));
        assert!(summary.contains("62.9 payouts/s"), "{summary}");
        assert!(
            summary.contains("second by second: 150 150 150 150 150 150 - - - -\n"),
            "{summary}"
        );
        let accept_p99 = quantile_ms(&report.accept, 0.99).expect("accept measured");
        let final_p99 = quantile_ms(&report.accept_to_final, 0.99).expect("final measured");
        assert!(
            summary.contains(&format!("p99 {accept_p99:.1}")),
            "{summary}"
        );
        assert!(
            summary.contains(&format!("p99 {final_p99:.1}")),
            "{summary}"
        );
        for check in &report.audit.checks {
            assert!(summary.contains(&check.name), "{summary}");
        }
        assert!(summary.contains("✗ every payout final: 2 of 600 not final"));
        assert!(summary.contains("✓ paid at most once: 0 paid twice"));
        assert!(summary.contains("audit: FAILED"));
        assert!(summary.contains("outcomes: failed 8, succeeded 590"));
        assert!(summary.contains("errors: http_429 2"));
        assert!(summary.contains(&format!("command: {SAMPLE_COMMAND}\n")));
        assert!(summary.contains("machine: 2 cores"));
        assert!(summary.contains("database: PostgreSQL 15.18"));
    }

    #[test]
    fn shows_the_accept_latency_of_each_kind_under_the_overall_one() {
        let summary = sample_report().summary();
        let lines: Vec<&str> = summary.lines().collect();
        let overall = lines
            .iter()
            .position(|line| line.starts_with("accept latency (ms):"))
            .expect("the overall accept line");
        let labels: Vec<&str> = lines[overall + 1..=overall + 4]
            .iter()
            .map(|line| line.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            labels,
            [
                "  collection accept (ms)",
                "  payroll accept (ms)",
                "  single accept (ms)",
                "accept-to-final latency (ms)",
            ],
            "{summary}"
        );
        // Singles hold 1..=800 ms and payrolls 991..=1000 ms, at 3 significant digits.
        assert_eq!(
            lines[overall + 3],
            "  single accept (ms):         p50 400.1  p99 792.1  p99.9 800.3  max 800.3"
        );
        assert_eq!(
            lines[overall + 2],
            "  payroll accept (ms):        p50 995.3  p99 1000.4  p99.9 1000.4  max 1000.4"
        );
    }

    #[test]
    fn says_none_when_nothing_was_measured_or_went_wrong() {
        let mut report = sample_report();
        report.errors.clear();
        report.accept = histogram_of([]);
        let summary = report.summary();
        assert!(summary.contains("errors: none"), "{summary}");
        assert!(summary.contains("accept latency (ms):          none measured"));
    }
}
