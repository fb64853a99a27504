//! The self-contained HTML page of a run: a header with the scenario and the command,
//! the summary and audit tables, and the two charts as inline SVG. It loads nothing.

use std::fmt::Write;

use hdrhistogram::Histogram;

use super::{AuditSummary, PERCENTILES, RunReport, charts, counts_text, max_ms, quantile_ms};

/// The pages' style sheet, inline so that a page loads nothing.
pub const STYLE: &str = "
body { margin: 0; padding: 24px; font: 14px/1.4 system-ui, sans-serif; color: #111827; background: #ffffff; }
header { margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 0 0 8px; }
pre.command { margin: 0; padding: 8px 12px; background: #f3f4f6; border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
.verdict { display: inline-block; margin: 0 0 8px; padding: 2px 10px; border-radius: 10px; font-weight: 600; }
.pass { background: #dcfce7; color: #14532d; }
.fail { background: #fee2e2; color: #991b1b; }
.row { display: flex; flex-wrap: wrap; gap: 24px; margin-bottom: 24px; }
.row > section { flex: 1 1 520px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
.number { text-align: right; font-variant-numeric: tabular-nums; }
.chart { width: 100%; max-width: 560px; height: auto; }
.chart-title { font-size: 15px; font-weight: 600; fill: #111827; }
.tick, .legend { font-size: 12px; fill: #374151; }
.axis-title { font-size: 12px; fill: #111827; }
.no-data { font-size: 14px; fill: #6b7280; }
";

pub fn render(report: &RunReport) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail.
    let _ = write_page(&mut page, report);
    page
}

/// `text` with the five characters HTML gives a meaning escaped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn write_page(page: &mut String, report: &RunReport) -> std::fmt::Result {
    let scenario = escape(&report.scenario);
    let (verdict_class, verdict) = if report.audit.passed() {
        ("pass", "audit passed")
    } else {
        ("fail", "audit failed")
    };
    writeln!(page, "<!DOCTYPE html>")?;
    writeln!(page, r#"<html lang="en"><head><meta charset="utf-8">"#)?;
    writeln!(page, "<title>Payrail load test: {scenario}</title>")?;
    writeln!(page, "<style>{STYLE}</style></head><body>")?;
    writeln!(page, "<header><h1>Payrail load test: {scenario}</h1>")?;
    writeln!(page, r#"<p class="verdict {verdict_class}">{verdict}</p>"#)?;
    writeln!(
        page,
        r#"<pre class="command"><code>{}</code></pre></header>"#,
        escape(&report.command)
    )?;
    writeln!(page, r#"<div class="row"><section><h2>Summary</h2>"#)?;
    write_summary_table(page, report)?;
    write_latency_table(page, report)?;
    writeln!(page, "</section><section><h2>Audit</h2>")?;
    write_audit_table(page, &report.audit)?;
    writeln!(page, "</section></div>")?;
    writeln!(page, r#"<div class="row"><section>"#)?;
    page.push_str(&charts::throughput(&report.timeline));
    writeln!(page, "</section><section>")?;
    page.push_str(&charts::latency(&report.accept, &report.accept_to_final));
    writeln!(page, "</section></div></body></html>")
}

fn write_summary_table(page: &mut String, report: &RunReport) -> std::fmt::Result {
    let rows = [
        ("started", report.started_at.to_string()),
        (
            "duration",
            format!("{:.1} s", report.duration.as_secs_f64()),
        ),
        (
            "offered",
            format!(
                "{} ({:.1} per second)",
                report.offered, report.offered_per_second
            ),
        ),
        ("finished", report.finished.to_string()),
        (
            "throughput",
            format!("{:.1} payouts per second", report.payouts_per_second),
        ),
        ("outcomes", counts_text(&report.outcomes)),
        ("errors", counts_text(&report.errors)),
        ("machine", report.machine.clone()),
        ("database", report.database.clone()),
    ];
    writeln!(page, r#"<table class="summary">"#)?;
    for (name, value) in rows {
        writeln!(page, "<tr><th>{name}</th><td>{}</td></tr>", escape(&value))?;
    }
    writeln!(page, "</table>")
}

fn write_latency_table(page: &mut String, report: &RunReport) -> std::fmt::Result {
    writeln!(page, r#"<table class="latency"><tr><th>latency (ms)</th>"#)?;
    for (label, _) in PERCENTILES {
        writeln!(page, r#"<th class="number">{label}</th>"#)?;
    }
    writeln!(page, r#"<th class="number">max</th></tr>"#)?;
    let by_kind = report
        .accept_by_kind
        .iter()
        .map(|(kind, histogram)| (format!("accept: {kind}"), histogram));
    let rows = [("accept".to_owned(), &report.accept)]
        .into_iter()
        .chain(by_kind)
        .chain([("accept to final".to_owned(), &report.accept_to_final)]);
    for (name, histogram) in rows {
        writeln!(page, "<tr><th>{}</th>", escape(&name))?;
        for value in latency_row(histogram) {
            let cell = value.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.1}"));
            writeln!(page, r#"<td class="number">{cell}</td>"#)?;
        }
        writeln!(page, "</tr>")?;
    }
    writeln!(page, "</table>")
}

/// The percentiles and the maximum in milliseconds, `None` when nothing was measured.
fn latency_row(histogram: &Histogram<u64>) -> Vec<Option<f64>> {
    PERCENTILES
        .iter()
        .map(|&(_, quantile)| quantile_ms(histogram, quantile))
        .chain([max_ms(histogram)])
        .collect()
}

/// One row per audit check: ✓ or ✗, its name and what it found.
pub fn write_audit_table(page: &mut String, audit: &AuditSummary) -> std::fmt::Result {
    writeln!(
        page,
        r#"<table class="audit"><tr><th></th><th>check</th><th>detail</th></tr>"#
    )?;
    for check in &audit.checks {
        let (class, mark) = if check.ok {
            ("pass", "✓")
        } else {
            ("fail", "✗")
        };
        writeln!(
            page,
            r#"<tr class="{class}"><td>{mark}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&check.name),
            escape(&check.detail)
        )?;
    }
    writeln!(page, "</table>")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::super::fixture::sample_report;
    use super::*;

    #[test]
    fn is_self_contained_with_two_charts_and_escaped_text() {
        let page = sample_report().to_html();
        assert_eq!(page.matches("<svg").count(), 2);
        for outside in [
            "src=\"http",
            "href=\"http",
            "<script",
            "http://",
            "https://",
            "@import",
            "url(",
        ] {
            assert!(!page.contains(outside), "the page refers to {outside}");
        }
        assert!(page.contains(
            "run mixed --lines 60 --rate 40 --label &quot;&lt;fast &amp; &#39;loose&#39;&gt;&quot;"
        ));
        assert!(!page.contains("<fast"));
        assert!(page.contains("<title>Payrail load test: mixed</title>"));
        assert!(page.contains(r#"<tr class="fail"><td>✗</td><td>every payout final</td>"#));
        assert!(page.contains(r#"<tr class="pass"><td>✓</td><td>paid at most once</td>"#));
        assert!(page.contains(r#"<p class="verdict fail">audit failed</p>"#));
        assert!(page.contains("62.9 payouts per second"));
        let rows: Vec<&str> = page
            .lines()
            .filter_map(|line| line.strip_prefix("<tr><th>"))
            .filter_map(|line| line.strip_suffix("</th>"))
            .collect();
        assert_eq!(
            rows,
            [
                "accept",
                "accept: collection",
                "accept: payroll",
                "accept: single",
                "accept to final"
            ]
        );
        assert!(page.contains("<tr><th>accept: single</th>\n<td class=\"number\">400.1</td>"));
    }

    #[test]
    fn escapes_the_five_characters_html_gives_a_meaning() {
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;"
        );
    }

    /// The browsers the screenshot test looks for on the PATH, in this order.
    const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

    #[test]
    fn headless_chromium_draws_both_charts() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let page = dir.path().join("report.html");
        std::fs::write(&page, sample_report().to_html()).expect("write the page");
        let shot = dir.path().join("shot.png");
        screenshot(&page, &shot, dir.path());
        let (width, height, pixels) = decode_rgb(&shot);
        assert_eq!((width, height), (1200, 1600));

        let colours: HashSet<[u8; 3]> = pixels.iter().copied().collect();
        assert!(colours.len() > 100, "only {} colours", colours.len());
        let not_white = pixels.iter().filter(|pixel| **pixel != [255; 3]).count();
        assert!(
            not_white * 50 > pixels.len(),
            "only {not_white} of {} pixels are not white",
            pixels.len()
        );
        // Each series' line, in its own colour: the charts were drawn, not left blank.
        for colour in [
            charts::OFFERED_COLOUR,
            charts::FINISHED_COLOUR,
            charts::ACCEPT_COLOUR,
            charts::ACCEPT_TO_FINAL_COLOUR,
        ] {
            let target = parse_hex(colour);
            let drawn = pixels
                .iter()
                .filter(|pixel| close_to(**pixel, target))
                .count();
            assert!(
                drawn > 300,
                "only {drawn} pixels of the line coloured {colour}"
            );
        }
    }

    /// Runs headless Chromium on `page`, waiting at most two minutes for `shot`.
    fn screenshot(page: &Path, shot: &Path, dir: &Path) {
        let browser =
            find_browser().expect("chromium, chromium-browser or google-chrome on the PATH");
        let log_path = dir.join("chromium.log");
        let log = std::fs::File::create(&log_path).expect("create the browser's log");
        let mut child = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1200,1600",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", page.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the browser");
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the browser") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "the browser took over two minutes; its log is in {}",
                    log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        assert!(
            status.success() && shot.exists(),
            "{} failed ({status}): {log}",
            browser.display()
        );
    }

    fn find_browser() -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        BROWSERS.iter().find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    }

    /// The image's width, height and pixels as RGB.
    fn decode_rgb(png_path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
        let bytes = std::fs::read(png_path).expect("read the screenshot");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buffer = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
        let frame = reader.next_frame(&mut buffer).expect("the PNG's pixels");
        let channels = match frame.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("a screenshot in {other:?}"),
        };
        let pixels = buffer[..frame.buffer_size()]
            .chunks_exact(channels)
            .map(|pixel| [pixel[0], pixel[1], pixel[2]])
            .collect();
        (frame.width, frame.height, pixels)
    }

    fn parse_hex(colour: &str) -> [u8; 3] {
        let channel =
            |at: usize| u8::from_str_radix(&colour[at..at + 2], 16).expect("a colour as #rrggbb");
        [channel(1), channel(3), channel(5)]
    }

    fn close_to(pixel: [u8; 3], target: [u8; 3]) -> bool {
        pixel
            .iter()
            .zip(target)
            .all(|(channel, wanted)| channel.abs_diff(wanted) <= 12)
    }
}
