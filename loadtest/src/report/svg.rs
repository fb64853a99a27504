//! A small line-chart renderer that writes inline SVG: a frame, axes with ticks, grid
//! lines and labels, one polyline per series (plain, dotted at each point, or dashed), and
//! a legend.

use std::fmt::Write;

use super::html::escape;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 52.0;

/// One line on a chart: its name in the legend, its colour, how it is drawn, its (x, y)
/// points.
#[derive(Debug)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub stroke: Stroke,
    pub points: Vec<(f64, f64)>,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stroke {
    /// A line through the points.
    Line,
    /// A line with a dot on each point: for a few measurements far apart.
    Dotted,
    /// A thin dashed line: a limit or a mark rather than a measurement.
    Dashed,
}

impl Stroke {
    /// The SVG attributes of the line.
    fn attributes(self) -> &'static str {
        match self {
            Stroke::Line | Stroke::Dotted => r#"stroke-width="2.5""#,
            Stroke::Dashed => r#"stroke-width="1.5" stroke-dasharray="6 4""#,
        }
    }
}

/// An axis: its title, the range it spans and where its labelled ticks go.
#[derive(Debug)]
pub struct Axis {
    pub title: &'static str,
    pub range: (f64, f64),
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// An axis from 0 to a round number at or above `max`, with about five labelled ticks.
    pub fn from_zero(title: &'static str, max: f64) -> Self {
        let max = if max > 0.0 { max } else { 1.0 };
        let step = round_step(max / 5.0);
        let count = (max / step).ceil().max(1.0) as u32;
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        let ticks: Vec<(f64, String)> = (0..=count)
            .map(|index| {
                let value = f64::from(index) * step;
                (value, format!("{value:.decimals$}"))
            })
            .collect();
        Self {
            title,
            range: (0.0, f64::from(count) * step),
            ticks,
        }
    }

    /// Where `value` falls along `length` pixels.
    fn place(&self, value: f64, length: f64) -> f64 {
        let (low, high) = self.range;
        (value - low) / (high - low) * length
    }
}

/// 1, 2 or 5 times a power of ten, at or above `rough` (and at least 1e-3).
fn round_step(rough: f64) -> f64 {
    let rough = rough.max(1e-3);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * power)
        .find(|step| *step >= rough * 0.999_999)
        .unwrap_or(10.0 * power)
}

/// A line chart with a title, two axes and its series.
#[derive(Debug)]
pub struct LineChart {
    pub title: &'static str,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

impl LineChart {
    pub fn render(&self) -> String {
        let mut svg = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut svg);
        svg
    }

    fn write(&self, svg: &mut String) -> std::fmt::Result {
        let (plot_width, plot_height) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let x_at = |x: f64| LEFT + self.x.place(x, plot_width);
        let y_at = |y: f64| TOP + plot_height - self.y.place(y, plot_height);
        let title = escape(self.title);
        writeln!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}">"#
        )?;
        writeln!(svg, "<title>{title}</title>")?;
        writeln!(
            svg,
            r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
        )?;
        writeln!(
            svg,
            r#"<text x="{LEFT}" y="20" class="chart-title">{title}</text>"#
        )?;
        for (value, label) in &self.y.ticks {
            let y = y_at(*value);
            writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e7eb"/>"##,
                LEFT + plot_width
            )?;
            writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                escape(label)
            )?;
        }
        for (value, label) in &self.x.ticks {
            let x = x_at(*value);
            let bottom = TOP + plot_height;
            writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#374151"/>"##,
                bottom + 5.0
            )?;
            writeln!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
                bottom + 18.0,
                escape(label)
            )?;
        }
        writeln!(
            svg,
            r##"<path d="M{LEFT},{TOP} V{:.1} H{:.1}" fill="none" stroke="#374151"/>"##,
            TOP + plot_height,
            LEFT + plot_width
        )?;
        writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="axis-title" text-anchor="middle">{}</text>"#,
            LEFT + plot_width / 2.0,
            HEIGHT - 8.0,
            escape(self.x.title)
        )?;
        writeln!(
            svg,
            r#"<text transform="translate(16 {:.1}) rotate(-90)" class="axis-title" text-anchor="middle">{}</text>"#,
            TOP + plot_height / 2.0,
            escape(self.y.title)
        )?;
        if self.series.iter().all(|series| series.points.is_empty()) {
            writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="no-data" text-anchor="middle">nothing measured</text>"#,
                LEFT + plot_width / 2.0,
                TOP + plot_height / 2.0
            )?;
        }
        let mut legend_x = WIDTH - RIGHT;
        for series in self.series.iter().rev() {
            let name = escape(&series.name);
            let (colour, attributes) = (series.colour, series.stroke.attributes());
            legend_x -= 34.0 + 7.0 * series.name.chars().count() as f64;
            writeln!(
                svg,
                r#"<line x1="{legend_x:.1}" y1="36" x2="{:.1}" y2="36" stroke="{colour}" {attributes}/>"#,
                legend_x + 20.0
            )?;
            if series.stroke == Stroke::Dotted {
                write_dot(svg, legend_x + 10.0, 36.0, colour)?;
            }
            writeln!(
                svg,
                r#"<text x="{:.1}" y="40" class="legend">{name}</text>"#,
                legend_x + 25.0
            )?;
            if series.points.is_empty() {
                continue;
            }
            let points: Vec<String> = series
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", x_at(x), y_at(y)))
                .collect();
            writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" {attributes} stroke-linejoin="round"><title>{name}</title></polyline>"#,
                points.join(" ")
            )?;
            if series.stroke == Stroke::Dotted {
                for &(x, y) in &series.points {
                    write_dot(svg, x_at(x), y_at(y), colour)?;
                }
            }
        }
        writeln!(svg, "</svg>")
    }
}

/// A dot of `colour` with a white rim, centred on (x, y).
fn write_dot(svg: &mut String, x: f64, y: f64, colour: &str) -> std::fmt::Result {
    writeln!(
        svg,
        r##"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(round_step(0.9), 1.0);
        assert_eq!(round_step(1.0), 1.0);
        assert_eq!(round_step(1.3), 2.0);
        assert_eq!(round_step(3.0), 5.0);
        assert_eq!(round_step(7.0), 10.0);
        assert_eq!(round_step(240.0), 500.0);
        assert!((round_step(0.03) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn an_axis_from_zero_ends_on_a_round_tick_at_or_above_its_max() {
        let axis = Axis::from_zero("payouts per second", 113.0);
        assert_eq!(axis.range, (0.0, 150.0));
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(labels, ["0", "50", "100", "150"]);
        let small = Axis::from_zero("ms", 0.42);
        assert_eq!(
            small.ticks.last().map(|(_, label)| label.as_str()),
            Some("0.5")
        );
        let empty = Axis::from_zero("ms", 0.0);
        assert_eq!(empty.range, (0.0, 1.0));
    }

    #[test]
    fn a_chart_without_points_says_nothing_was_measured() {
        let chart = LineChart {
            title: "empty",
            x: Axis::from_zero("s", 0.0),
            y: Axis::from_zero("n", 0.0),
            series: vec![Series {
                name: "offered".to_owned(),
                colour: "#000000",
                stroke: Stroke::Line,
                points: Vec::new(),
            }],
        };
        let svg = chart.render();
        assert!(svg.contains("nothing measured"));
        assert!(!svg.contains("<polyline"));
    }
}
