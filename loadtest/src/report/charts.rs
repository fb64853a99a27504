//! The report's two charts: offered and finished payouts per second over the run, and
//! accept and accept-to-final latency by percentile on a "nines" scale.

use hdrhistogram::Histogram;

use super::Second;
use super::svg::{Axis, LineChart, Series, Stroke};

/// Colours of the series, distinct from everything else on the page.
pub const OFFERED_COLOUR: &str = "#2563eb";
pub const FINISHED_COLOUR: &str = "#16a34a";
pub const ACCEPT_COLOUR: &str = "#ea580c";
pub const ACCEPT_TO_FINAL_COLOUR: &str = "#9333ea";

/// Offered and finished payouts in each second of the run.
pub fn throughput(timeline: &[Second]) -> String {
    let points = |count: fn(&Second) -> u64| -> Vec<(f64, f64)> {
        timeline
            .iter()
            .enumerate()
            .map(|(second, counts)| (second as f64, count(counts) as f64))
            .collect()
    };
    let highest = timeline
        .iter()
        .map(|second| second.offered.max(second.finished))
        .max()
        .unwrap_or(0);
    LineChart {
        title: "Throughput",
        x: Axis::from_zero(
            "seconds since the start",
            timeline.len().saturating_sub(1) as f64,
        ),
        y: Axis::from_zero("payouts per second", highest as f64),
        series: vec![
            Series {
                name: "offered".to_owned(),
                colour: OFFERED_COLOUR,
                stroke: Stroke::Line,
                points: points(|second| second.offered),
            },
            Series {
                name: "finished".to_owned(),
                colour: FINISHED_COLOUR,
                stroke: Stroke::Line,
                points: points(|second| second.finished),
            },
        ],
    }
    .render()
}

/// The "nines" the latency chart's x axis marks: 0 is the 0th percentile, 1 the 90th, 2
/// the 99th, 3 the 99.9th and 4 the 99.99th.
const NINES: [&str; 5] = ["0", "90", "99", "99.9", "99.99"];

/// Points per nine along the latency curves.
const STEPS_PER_NINE: u32 = 20;

/// Accept and accept-to-final latency (ms) against the percentile, on a nines scale.
pub fn latency(accept: &Histogram<u64>, accept_to_final: &Histogram<u64>) -> String {
    let highest = accept.max().max(accept_to_final.max()) as f64 / 1_000.0;
    let nines = (NINES.len() - 1) as f64;
    LineChart {
        title: "Latency by percentile",
        x: Axis {
            title: "percentile",
            range: (0.0, nines),
            ticks: NINES
                .iter()
                .enumerate()
                .map(|(nine, label)| (nine as f64, (*label).to_owned()))
                .collect(),
        },
        y: Axis::from_zero("milliseconds", highest),
        series: vec![
            Series {
                name: "accept".to_owned(),
                colour: ACCEPT_COLOUR,
                stroke: Stroke::Line,
                points: percentile_curve(accept),
            },
            Series {
                name: "accept to final".to_owned(),
                colour: ACCEPT_TO_FINAL_COLOUR,
                stroke: Stroke::Line,
                points: percentile_curve(accept_to_final),
            },
        ],
    }
    .render()
}

/// (nines, ms) from the 0th to the 99.99th percentile; empty when nothing was measured.
fn percentile_curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let steps = (NINES.len() as u32 - 1) * STEPS_PER_NINE;
    (0..=steps)
        .map(|step| {
            let nines = f64::from(step) / f64::from(STEPS_PER_NINE);
            let quantile = 1.0 - 10f64.powf(-nines);
            let ms = histogram.value_at_quantile(quantile) as f64 / 1_000.0;
            (nines, ms)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{histogram_of, sample_report};
    use super::*;

    #[test]
    fn the_percentile_curve_climbs_from_the_minimum_to_the_99_99th_percentile() {
        let curve = percentile_curve(&sample_report().accept);
        assert_eq!(curve.len(), 81);
        let (first, last) = (curve[0], curve[80]);
        assert_eq!(first.0, 0.0);
        assert!((first.1 - 1.0).abs() < 0.01, "{first:?}");
        assert_eq!(last.0, 4.0);
        assert!((last.1 - 1_000.0).abs() < 2.0, "{last:?}");
        assert!(curve.windows(2).all(|pair| pair[0].1 <= pair[1].1));
        assert!(percentile_curve(&histogram_of([])).is_empty());
    }

    #[test]
    fn charts_label_their_axes_and_name_their_series() {
        let report = sample_report();
        let throughput = throughput(&report.timeline);
        for text in [
            "seconds since the start",
            "payouts per second",
            ">offered<",
            ">finished<",
        ] {
            assert!(throughput.contains(text), "{text} in {throughput}");
        }
        assert_eq!(throughput.matches("<polyline").count(), 2);
        let latency = latency(&report.accept, &report.accept_to_final);
        for text in [
            "percentile",
            "milliseconds",
            ">99.9<",
            ">accept<",
            ">accept to final<",
        ] {
            assert!(latency.contains(text), "{text} in {latency}");
        }
        assert_eq!(latency.matches("<polyline").count(), 2);
    }
}
