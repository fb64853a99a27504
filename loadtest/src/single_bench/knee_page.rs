//! The knee sweep's self-contained HTML page: the knee, the command, a chart of accept p50
//! and p99 against the offered rate (log scale) with the limit and the knee marked, the
//! table of rates and the audit. It loads nothing.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;

use super::knee::{Sweep, ms};
use super::step::Step;
use crate::report::svg::{Axis, LineChart, Series, Stroke};
use crate::report::{STYLE, escape, write_audit_table};

const P50_COLOUR: &str = "#2563eb";
const P99_COLOUR: &str = "#ea580c";
const LIMIT_COLOUR: &str = "#dc2626";
const KNEE_COLOUR: &str = "#16a34a";

/// The page's own rules, after the run report's style sheet.
const KNEE_STYLE: &str = "
.row > section.wide { flex: 1 1 540px; min-width: 0; }
.wide .chart { max-width: 860px; }
table.steps th { white-space: nowrap; padding: 4px 6px; }
table.steps td { padding: 4px 6px; }
tr.knee td { background: #dcfce7; font-weight: 600; }
tr.over td { color: #991b1b; }
";

/// The smallest latency the log scale shows, milliseconds; anything faster sits on it.
const FLOOR_MS: f64 = 0.1;

/// Writes the page to `path`.
pub fn write(sweep: &Sweep, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, render(sweep))
        .with_context(|| format!("writing the HTML page to {}", path.display()))
}

pub fn render(sweep: &Sweep) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail.
    let _ = write_page(&mut page, sweep);
    page
}

fn write_page(page: &mut String, sweep: &Sweep) -> std::fmt::Result {
    let title = "Payrail single payouts: accept latency against offered rate";
    let knee_class = if sweep.knee().is_some() {
        "pass"
    } else {
        "fail"
    };
    let (audit_class, audit) = if sweep.audit.passed() {
        ("pass", "audit passed")
    } else {
        ("fail", "audit failed")
    };
    writeln!(page, "<!DOCTYPE html>")?;
    writeln!(page, r#"<html lang="en"><head><meta charset="utf-8">"#)?;
    writeln!(page, "<title>{title}</title>")?;
    writeln!(page, "<style>{STYLE}{KNEE_STYLE}</style></head><body>")?;
    writeln!(page, "<header><h1>{title}</h1>")?;
    writeln!(
        page,
        r#"<p><span class="verdict {knee_class}">{}</span> <span class="verdict {audit_class}">{audit}</span></p>"#,
        escape(&sweep.verdict())
    )?;
    writeln!(
        page,
        r#"<pre class="command"><code>{}</code></pre></header>"#,
        escape(&sweep.command)
    )?;
    writeln!(page, r#"<div class="row"><section class="wide">"#)?;
    page.push_str(&chart(sweep));
    writeln!(page, "</section><section><h2>Rates</h2>")?;
    write_steps_table(page, sweep)?;
    write_setting_table(page, sweep)?;
    writeln!(page, "</section></div>")?;
    writeln!(page, r#"<div class="row"><section><h2>Audit</h2>"#)?;
    write_audit_table(page, &sweep.audit)?;
    writeln!(page, "</section></div></body></html>")
}

fn write_steps_table(page: &mut String, sweep: &Sweep) -> std::fmt::Result {
    writeln!(
        page,
        r#"<table class="steps"><tr><th class="number" colspan="2">rate (/s)</th><th></th><th class="number" colspan="3">accept latency (ms)</th><th class="number">to final (ms)</th><th>limit</th></tr><tr>"#
    )?;
    for heading in [
        "offered", "achieved", "accepted", "p50", "p99", "p99.9", "p99",
    ] {
        writeln!(page, r#"<th class="number">{heading}</th>"#)?;
    }
    writeln!(page, "<th>p99 ≤ {} ms</th></tr>", sweep.limit_ms)?;
    let knee = sweep.knee();
    for step in &sweep.steps {
        let within = step.within(sweep.limit_ms);
        let class = match (within, knee == Some(step.load.rate)) {
            (true, true) => "knee",
            (true, false) => "within",
            (false, _) => "over",
        };
        let cells = [
            step.load.rate.to_string(),
            format!("{:.1}", step.achieved_per_second()),
            format!("{}/{}", step.accepted, step.load.payouts()),
            format!("{:.1}", ms(step, 0.5)),
            format!("{:.1}", ms(step, 0.99)),
            format!("{:.1}", ms(step, 0.999)),
            format!(
                "{:.1}",
                step.to_final.value_at_quantile(0.99) as f64 / 1_000.0
            ),
        ];
        writeln!(page, r#"<tr class="{class}">"#)?;
        for cell in cells {
            writeln!(page, r#"<td class="number">{cell}</td>"#)?;
        }
        writeln!(page, "<td>{}</td></tr>", if within { "✓" } else { "✗" })?;
    }
    writeln!(page, "</table>")
}

fn write_setting_table(page: &mut String, sweep: &Sweep) -> std::fmt::Result {
    writeln!(page, r#"<table class="summary">"#)?;
    for (name, value) in [("machine", &sweep.machine), ("database", &sweep.database)] {
        writeln!(page, "<tr><th>{name}</th><td>{}</td></tr>", escape(value))?;
    }
    writeln!(page, "</table>")
}

/// Accept p50 and p99 against the offered rate on a log scale, the limit as a dashed
/// line across, and the knee as a dashed line up.
fn chart(sweep: &Sweep) -> String {
    let limit = f64::from(sweep.limit_ms);
    let (p50, p99) = (curve(&sweep.steps, 0.5), curve(&sweep.steps, 0.99));
    let lowest = p50.iter().map(|&(_, ms)| ms).fold(limit, f64::min);
    let highest = p99.iter().map(|&(_, ms)| ms).fold(limit, f64::max);
    let y = log_axis(lowest, highest);
    let highest_rate = sweep.steps.iter().map(|step| step.load.rate).max();
    let x = Axis::from_zero(
        "offered payouts per second",
        f64::from(highest_rate.unwrap_or(0)),
    );
    let log = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        points
            .into_iter()
            .map(|(rate, ms)| (rate, ms.max(FLOOR_MS).log10()))
            .collect()
    };
    let mut series = vec![
        dotted("accept p50", P50_COLOUR, log(p50)),
        dotted("accept p99", P99_COLOUR, log(p99)),
        Series {
            name: format!("limit {} ms", sweep.limit_ms),
            colour: LIMIT_COLOUR,
            stroke: Stroke::Dashed,
            points: vec![(x.range.0, limit.log10()), (x.range.1, limit.log10())],
        },
    ];
    if let Some(knee) = sweep.knee() {
        let at_least = if sweep.first_over().is_none() {
            "≥ "
        } else {
            ""
        };
        series.push(Series {
            name: format!("knee {at_least}{knee} /s"),
            colour: KNEE_COLOUR,
            stroke: Stroke::Dashed,
            points: vec![(f64::from(knee), y.range.0), (f64::from(knee), y.range.1)],
        });
    }
    LineChart {
        title: "Accept latency against offered rate",
        x,
        y,
        series,
    }
    .render()
}

fn dotted(name: &str, colour: &'static str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.to_owned(),
        colour,
        stroke: Stroke::Dotted,
        points,
    }
}

/// (offered rate, accept latency in ms at `quantile`) for each step.
fn curve(steps: &[Step], quantile: f64) -> Vec<(f64, f64)> {
    steps
        .iter()
        .map(|step| (f64::from(step.load.rate), ms(step, quantile)))
        .collect()
}

/// A log10 axis of milliseconds from a power of ten at or below `lowest` to one above
/// `highest`, ticked at 1, 2 and 5 times each power (only the powers past three decades).
fn log_axis(lowest: f64, highest: f64) -> Axis {
    let bottom = lowest.max(FLOOR_MS).log10().floor();
    let top = (highest.max(FLOOR_MS).log10().floor() + 1.0).max(bottom + 1.0);
    let factors: &[f64] = if top - bottom > 3.0 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut ticks = Vec::new();
    let mut power = bottom;
    while power < top {
        for factor in factors {
            ticks.push(tick(factor * 10f64.powf(power)));
        }
        power += 1.0;
    }
    ticks.push(tick(10f64.powf(top)));
    Axis {
        title: "accept latency, ms (log scale)",
        range: (bottom, top),
        ticks,
    }
}

/// A tick at `ms` on the log scale, labelled without needless decimals.
fn tick(ms: f64) -> (f64, String) {
    let label = if ms < 1.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    };
    (ms.log10(), label)
}

#[cfg(test)]
mod tests {
    use super::super::knee::tests::sample_sweep;
    use super::*;

    #[test]
    fn the_log_axis_spans_whole_decades_around_the_values() {
        let axis = log_axis(3.2, 300.0);
        assert_eq!(axis.range, (0.0, 3.0));
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(
            labels,
            ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]
        );
        let wide = log_axis(0.01, 20_000.0);
        assert_eq!(wide.range, (-1.0, 5.0));
        assert_eq!(wide.ticks.len(), 7);
        assert_eq!(wide.ticks[0].1, "0.1");
        assert_eq!(log_axis(100.0, 100.0).range, (2.0, 3.0));
    }

    #[test]
    fn the_page_draws_both_percentiles_the_limit_and_the_knee() {
        let page = render(&sample_sweep());
        assert_eq!(page.matches("<svg").count(), 1);
        for text in [
            ">accept p50<",
            ">accept p99<",
            ">limit 100 ms<",
            ">knee 500 /s<",
            "knee: 500 /s",
            "audit passed",
            "--html &lt;a&amp;b&gt;",
        ] {
            assert!(page.contains(text), "{text} in the page");
        }
        assert_eq!(page.matches("<polyline").count(), 4);
        assert_eq!(page.matches(r#"<tr class="knee">"#).count(), 1);
        assert_eq!(page.matches(r#"<tr class="over">"#).count(), 1);
        for outside in ["http://", "https://", "<script", "url("] {
            assert!(!page.contains(outside), "the page refers to {outside}");
        }
    }

    #[test]
    fn without_a_knee_the_page_marks_none() {
        let mut sweep = sample_sweep();
        sweep.steps.drain(..2);
        let page = render(&sweep);
        assert!(page.contains(r#"<span class="verdict fail">knee: none"#));
        assert_eq!(page.matches("<polyline").count(), 3);
    }
}
