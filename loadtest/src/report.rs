//! The report of one `payrail-loadtest run`: what it measured and its audit, rendered as
//! a terminal summary, a JSON document and a self-contained HTML page. Its page style,
//! audit table and SVG charts also draw `single --knee`'s page.

mod charts;
#[cfg(test)]
mod fixture;
mod html;
mod json;
mod summary;
pub mod svg;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;

pub use html::{STYLE, escape, write_audit_table};

/// What one run measured, and its audit; rendered three ways.
#[derive(Debug)]
pub struct RunReport {
    /// "payroll", "single", "collections" or "mixed".
    pub scenario: String,
    /// The exact command line that produced it.
    pub command: String,
    /// From `crate::machine::describe()`.
    pub machine: String,
    /// E.g. "PostgreSQL 15.18 (private server, fsync on)".
    pub database: String,
    pub started_at: jiff::Timestamp,
    /// From the first intended send to the last final state.
    pub duration: Duration,
    /// Payouts offered: lines uploaded, single payouts sent and collections requested.
    pub offered: u64,
    pub offered_per_second: f64,
    /// Payouts and collections that reached a final state.
    pub finished: u64,
    /// `finished` over `duration`.
    pub payouts_per_second: f64,
    /// Final state ("succeeded", "failed", ...) to count.
    pub outcomes: BTreeMap<String, u64>,
    /// Error kind ("http_429", "http_5xx", "timeout", "connect", ...) to count; empty when none.
    pub errors: BTreeMap<String, u64>,
    /// Microseconds from the intended send time to the API's answer.
    pub accept: Histogram<u64>,
    /// `accept` by kind of request ("payroll", "single", "collection"): only the kinds
    /// the run offered.
    pub accept_by_kind: BTreeMap<String, Histogram<u64>>,
    /// Microseconds from the intended send time to the final state.
    pub accept_to_final: Histogram<u64>,
    /// One entry per second since the start.
    pub timeline: Vec<Second>,
    pub audit: AuditSummary,
}

/// What one second of the run offered and finished.
#[derive(Clone, Copy, Debug, Default)]
pub struct Second {
    pub offered: u64,
    pub finished: u64,
    /// The accept p99 of the single payouts and collections meant to leave in this
    /// second (none when none were).
    pub accept_p99: Option<Duration>,
}

/// The audit after the run: `ok` when every check holds.
#[derive(Debug)]
pub struct AuditSummary {
    pub ok: bool,
    pub checks: Vec<AuditCheck>,
}

impl AuditSummary {
    /// True only when the audit says so and no check failed.
    pub fn passed(&self) -> bool {
        self.ok && self.checks.iter().all(|check| check.ok)
    }

    /// "audit: passed" (or FAILED), then each check with ✓ or ✗ and its detail.
    pub fn text(&self) -> String {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let mut text = format!("audit: {verdict}\n");
        for check in &self.checks {
            let mark = if check.ok { '✓' } else { '✗' };
            text.push_str(&format!("  {mark} {}: {}\n", check.name, check.detail));
        }
        text
    }
}

/// One audit check, e.g. "every payout final", with what it found.
#[derive(Debug)]
pub struct AuditCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl RunReport {
    /// The terminal summary (several lines): scenario, offered/finished, throughput,
    /// accept (overall, then by kind) and accept-to-final p50/p99/p99.9/max in ms,
    /// outcomes, errors, each audit check with ✓/✗ and its detail, then the `command:`,
    /// `machine:` and `database:` lines.
    pub fn summary(&self) -> String {
        summary::render(self)
    }

    /// The JSON document: the run's figures, latency percentiles in milliseconds (null
    /// when nothing was measured), the timeline and the audit.
    pub fn to_json(&self) -> serde_json::Value {
        json::render(self)
    }

    /// One self-contained HTML page: the summary, the audit and two inline SVG charts
    /// (throughput over time, latency percentiles); nothing loaded from anywhere.
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// Writes `to_json` (pretty) and `to_html` to the given files when set.
    pub fn write_files(&self, json: Option<&Path>, html: Option<&Path>) -> anyhow::Result<()> {
        if let Some(path) = json {
            let mut text = serde_json::to_string_pretty(&self.to_json())?;
            text.push('\n');
            std::fs::write(path, text)
                .with_context(|| format!("writing the JSON report to {}", path.display()))?;
        }
        if let Some(path) = html {
            std::fs::write(path, self.to_html())
                .with_context(|| format!("writing the HTML report to {}", path.display()))?;
        }
        Ok(())
    }
}

/// The percentiles every rendering shows, as (label, quantile).
const PERCENTILES: [(&str, f64); 3] = [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)];

/// A histogram's value at `quantile` in milliseconds; `None` when it is empty.
fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    (!histogram.is_empty()).then(|| histogram.value_at_quantile(quantile) as f64 / 1_000.0)
}

/// A histogram's largest value in milliseconds; `None` when it is empty.
fn max_ms(histogram: &Histogram<u64>) -> Option<f64> {
    (!histogram.is_empty()).then(|| histogram.max() as f64 / 1_000.0)
}

/// "failed 8, succeeded 590", or "none".
fn counts_text(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::fixture::sample_report;

    #[test]
    fn write_files_writes_the_json_and_the_html() {
        let report = sample_report();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let json = dir.path().join("run.json");
        let html = dir.path().join("run.html");
        report
            .write_files(Some(&json), Some(&html))
            .expect("write the report");
        let text = std::fs::read_to_string(&json).expect("read the JSON");
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, report.to_json());
        let page = std::fs::read_to_string(&html).expect("read the HTML");
        assert_eq!(page, report.to_html());
    }

    #[test]
    fn write_files_writes_nothing_when_no_file_is_set() {
        sample_report()
            .write_files(None, None)
            .expect("nothing to write");
    }
}
