//! The analytics page's SVG charts: the geometry of each bar, grid line and label, in the
//! coordinates of the chart's `viewBox`, computed from the report (the template draws them).

use super::{PeriodRow, RouteRow, percent};
use crate::portal::page::Page;

/// A chart's parts, in the coordinates of its `viewBox`.
#[derive(Clone, Debug)]
pub(super) struct Chart {
    pub(super) width: i32,
    pub(super) height: i32,
    /// What the chart shows, for screen readers.
    pub(super) label: String,
    pub(super) bars: Vec<Bar>,
    pub(super) grid: Vec<GridLine>,
    pub(super) labels: Vec<Label>,
}

#[derive(Clone, Debug)]
pub(super) struct Bar {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) width: f64,
    pub(super) height: f64,
    /// `bar` or `bar-alt`.
    pub(super) class: &'static str,
    /// Its value, shown on hover.
    pub(super) title: String,
}

#[derive(Clone, Debug)]
pub(super) struct GridLine {
    pub(super) x1: f64,
    pub(super) y1: f64,
    pub(super) x2: f64,
    pub(super) y2: f64,
}

#[derive(Clone, Debug)]
pub(super) struct Label {
    pub(super) x: f64,
    pub(super) y: f64,
    /// `start`, `middle` or `end`.
    pub(super) anchor: &'static str,
    pub(super) text: String,
}

/// The flows chart's size and margins.
const FLOWS_WIDTH: i32 = 720;
const FLOWS_HEIGHT: i32 = 280;
const FLOWS_LEFT: f64 = 84.0;
const FLOWS_RIGHT: f64 = 8.0;
const FLOWS_TOP: f64 = 36.0;
const FLOWS_BOTTOM: f64 = 28.0;
/// Axis labels along the periods, at most.
const FLOWS_AXIS_LABELS: usize = 10;

/// Paid out and collected per period: two bars a period, on a scale of round steps.
pub(super) fn flows_chart(page: &Page, periods: &[PeriodRow], short: &[String]) -> Chart {
    let plot_width = f64::from(FLOWS_WIDTH) - FLOWS_LEFT - FLOWS_RIGHT;
    let plot_height = f64::from(FLOWS_HEIGHT) - FLOWS_TOP - FLOWS_BOTTOM;
    let bottom = FLOWS_TOP + plot_height;
    let largest = periods
        .iter()
        .map(|period| period.payouts.amount.max(period.collections.amount))
        .max()
        .unwrap_or(0);
    let step = round_step(largest / 4);
    let top_value = (largest.max(1) + step - 1) / step * step;
    let y_of = |value: i64| bottom - value as f64 / top_value as f64 * plot_height;
    let (paid, collected) = (page.t("analytics-paid"), page.t("analytics-collected"));
    let mut chart = Chart {
        width: FLOWS_WIDTH,
        height: FLOWS_HEIGHT,
        label: page.t("analytics-flows-chart"),
        bars: Vec::new(),
        grid: Vec::new(),
        labels: Vec::new(),
    };
    chart.legend(&[("bar", &paid), ("bar-alt", &collected)], FLOWS_LEFT);
    for value in (0..=top_value).step_by(step as usize) {
        let y = round(y_of(value));
        chart.grid.push(GridLine {
            x1: FLOWS_LEFT,
            y1: y,
            x2: FLOWS_LEFT + plot_width,
            y2: y,
        });
        chart.labels.push(Label {
            x: FLOWS_LEFT - 8.0,
            y: y + 4.0,
            anchor: "end",
            text: page.formats.minor(value, page.currency),
        });
    }
    let count = periods.len().max(1);
    let group = plot_width / count as f64;
    let bar = (group * 0.38).min(28.0);
    let label_every = count.div_ceil(FLOWS_AXIS_LABELS);
    for (index, period) in periods.iter().enumerate() {
        let left = FLOWS_LEFT + group * index as f64 + (group - 2.0 * bar - 2.0) / 2.0;
        for (offset, class, name, flow) in [
            (0.0, "bar", &paid, period.payouts),
            (bar + 2.0, "bar-alt", &collected, period.collections),
        ] {
            let height = if flow.amount > 0 {
                (bottom - y_of(flow.amount)).max(1.0)
            } else {
                0.0
            };
            chart.bars.push(Bar {
                x: round(left + offset),
                y: round(bottom - height),
                width: round(bar),
                height: round(height),
                class,
                title: format!("{} · {name}: {}", period.label, page.money(&flow.amount)),
            });
        }
        if index % label_every == 0 {
            chart.labels.push(Label {
                x: round(FLOWS_LEFT + group * (index as f64 + 0.5)),
                y: bottom + 18.0,
                anchor: "middle",
                text: short.get(index).cloned().unwrap_or_default(),
            });
        }
    }
    chart
}

/// The routes chart's rows and columns.
const ROUTES_WIDTH: i32 = 720;
const ROUTES_ROW: f64 = 36.0;
const ROUTES_TOP: f64 = 36.0;
const ROUTES_LABELS: f64 = 200.0;
const ROUTES_BARS: f64 = 440.0;

/// Each route's succeeded and failed share, as one bar of 100 %.
pub(super) fn routes_chart(page: &Page, routes: &[RouteRow]) -> Chart {
    let rows_height = ROUTES_ROW * routes.len() as f64;
    let height = ROUTES_TOP + rows_height + 24.0;
    let (succeeded, failed) = (page.t("analytics-succeeded"), page.t("analytics-failed"));
    let mut chart = Chart {
        width: ROUTES_WIDTH,
        height: height as i32,
        label: page.t("analytics-routes-chart"),
        bars: Vec::new(),
        grid: Vec::new(),
        labels: Vec::new(),
    };
    chart.legend(&[("bar", &succeeded), ("bar-alt", &failed)], ROUTES_LABELS);
    for quarter in 0..=4 {
        let x = ROUTES_LABELS + ROUTES_BARS * f64::from(quarter) / 4.0;
        chart.grid.push(GridLine {
            x1: x,
            y1: ROUTES_TOP,
            x2: x,
            y2: ROUTES_TOP + rows_height,
        });
        chart.labels.push(Label {
            x,
            y: ROUTES_TOP + rows_height + 16.0,
            anchor: "middle",
            text: percent(page, i64::from(quarter) * 250),
        });
    }
    for (index, route) in routes.iter().enumerate() {
        let y = ROUTES_TOP + ROUTES_ROW * index as f64;
        let name = format!("{} · {}", route.kind, route.route);
        chart.labels.push(Label {
            x: ROUTES_LABELS - 10.0,
            y: y + 22.0,
            anchor: "end",
            text: name.clone(),
        });
        let ended = route.succeeded + route.failed;
        let share = |count: i64| {
            if ended == 0 {
                0.0
            } else {
                round(ROUTES_BARS * count as f64 / ended as f64)
            }
        };
        let title = format!(
            "{name}: {} {}, {} {}",
            page.count(&route.succeeded),
            succeeded,
            page.count(&route.failed),
            failed
        );
        for (x, width, class) in [
            (ROUTES_LABELS, share(route.succeeded), "bar"),
            (
                ROUTES_LABELS + share(route.succeeded),
                share(route.failed),
                "bar-alt",
            ),
        ] {
            chart.bars.push(Bar {
                x,
                y: y + 8.0,
                width,
                height: 20.0,
                class,
                title: title.clone(),
            });
        }
        chart.labels.push(Label {
            x: ROUTES_LABELS + ROUTES_BARS + 10.0,
            y: y + 22.0,
            anchor: "start",
            text: route.ratio.clone(),
        });
    }
    chart
}

impl Chart {
    /// A legend across the top, from `left`: a swatch and the series' name each.
    fn legend(&mut self, series: &[(&'static str, &String)], left: f64) {
        let mut x = left;
        for (class, name) in series {
            self.bars.push(Bar {
                x,
                y: 8.0,
                width: 12.0,
                height: 12.0,
                class,
                title: (*name).clone(),
            });
            self.labels.push(Label {
                x: x + 18.0,
                y: 18.0,
                anchor: "start",
                text: (*name).clone(),
            });
            x += 18.0 + 7.5 * name.chars().count() as f64 + 24.0;
        }
    }
}

/// The smallest round step (1, 2, 2.5 or 5 times a power of ten) at least `rough`.
fn round_step(rough: i64) -> i64 {
    let mut power = 1_i64;
    loop {
        for multiple in [10, 20, 25, 50] {
            let step = power * multiple / 10;
            if step >= rough.max(1) && step > 0 {
                return step;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// A coordinate to a tenth of a unit.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_cover_a_quarter_of_the_largest_value() {
        assert_eq!(round_step(0), 1);
        assert_eq!(round_step(3), 5);
        assert_eq!(round_step(180_000), 200_000);
        assert_eq!(round_step(230_000), 250_000);
        assert_eq!(round_step(260_000), 500_000);
    }
}
