//! The analytics page: per day, week or month of a period (by default the last 30 days,
//! by day), what was paid out and collected, and each route's success ratio; drawn as SVG
//! charts (their geometry in `chart`; the template draws each bar, line and label), each
//! with a table of the same numbers; and the report offered as a file. Here: the handler,
//! its query, the page and the report's rows.

mod chart;

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use jiff::{Timestamp, ToSpan};
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::analytics::{Analytics, Flow, RouteOutcomes};
use serde::Deserialize;

use super::error::PortalError;
use super::exports::ExportOffer;
use super::form::FormErrors;
use super::page::Page;
use super::session::Session;
use super::transactions::given;
use crate::AppState;

/// Days the page covers when none are asked for, today included.
const DEFAULT_DAYS: i32 = 30;
const GRANULARITIES: [&str; 3] = ["day", "week", "month"];

pub fn routes() -> Router<AppState> {
    Router::new().route("/analytics", get(show))
}

/// The period and granularity asked for; blanks take the defaults.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AnalyticsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub granularity: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/analytics.html")]
pub struct AnalyticsPage {
    page: Page,
    from: String,
    to: String,
    granularity: String,
    errors: FormErrors,
    report: Option<Report>,
    export: ExportOffer,
}

/// What the charts and tables show.
#[derive(Clone, Debug)]
pub struct Report {
    periods: Vec<PeriodRow>,
    routes: Vec<RouteRow>,
    paid: Flow,
    collected: Flow,
    /// The fees of both.
    fees: i64,
    flows_chart: chart::Chart,
    routes_chart: chart::Chart,
}

/// One period's flows.
#[derive(Clone, Debug)]
pub struct PeriodRow {
    label: String,
    payouts: Flow,
    collections: Flow,
    fees: i64,
}

/// One route's outcomes over the whole period.
#[derive(Clone, Debug)]
pub struct RouteRow {
    kind: String,
    route: String,
    succeeded: i64,
    failed: i64,
    ratio: String,
}

/// `GET /analytics`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<AnalyticsQuery>,
) -> Result<(StatusCode, AnalyticsPage), PortalError> {
    let page = Page::new(&session, "analytics", "analytics-title");
    let today = Timestamp::now().to_zoned(page.zone.clone()).date();
    let first_day = today
        .checked_sub((DEFAULT_DAYS - 1).days())
        .unwrap_or(today);
    let from = given(&query.from).unwrap_or_else(|| first_day.to_string());
    let to = given(&query.to).unwrap_or_else(|| today.to_string());
    let granularity = given(&query.granularity).unwrap_or_else(|| "day".into());
    let analytics = state
        .app
        .analytics(Reader::Key(*session.caller()), &from, &to, &granularity)
        .await;
    let (status, report, errors) = match analytics {
        Ok(analytics) => (
            StatusCode::OK,
            Some(report(&page, &analytics)),
            FormErrors::default(),
        ),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            FormErrors::from_app(error)?,
        ),
    };
    Ok((
        status,
        AnalyticsPage {
            export: ExportOffer {
                report: "analytics",
                fields: vec![
                    ("from", from.clone()),
                    ("to", to.clone()),
                    ("granularity", granularity.clone()),
                ],
            },
            page,
            from,
            to,
            granularity,
            errors,
            report,
        },
    ))
}

impl AnalyticsPage {
    /// The granularities, as (value, label).
    fn granularities(&self) -> Vec<(&'static str, String)> {
        GRANULARITIES
            .iter()
            .map(|name| (*name, self.page.t(&format!("analytics-granularity-{name}"))))
            .collect()
    }
}

fn report(page: &Page, analytics: &Analytics) -> Report {
    let granularity = analytics.granularity.as_str();
    let periods: Vec<PeriodRow> = analytics
        .periods
        .iter()
        .map(|period| PeriodRow {
            label: period_label(page, granularity, period.start, &period.label),
            payouts: period.payouts,
            collections: period.collections,
            fees: period.payouts.fee + period.collections.fee,
        })
        .collect();
    let short: Vec<String> = analytics
        .periods
        .iter()
        .map(|period| axis_label(page, granularity, period.start, &period.label))
        .collect();
    let mut by_route: BTreeMap<(String, String), RouteOutcomes> = BTreeMap::new();
    for outcome in analytics.periods.iter().flat_map(|period| &period.routes) {
        let total = by_route
            .entry((outcome.kind.clone(), outcome.route.clone()))
            .or_insert_with(|| RouteOutcomes {
                succeeded: 0,
                failed: 0,
                ..outcome.clone()
            });
        total.succeeded += outcome.succeeded;
        total.failed += outcome.failed;
    }
    let routes: Vec<RouteRow> = by_route
        .into_values()
        .map(|outcome| RouteRow {
            kind: page.t(&format!("analytics-kind-{}", outcome.kind)),
            ratio: percent(page, outcome.success_permille()),
            route: outcome.route,
            succeeded: outcome.succeeded,
            failed: outcome.failed,
        })
        .collect();
    let paid = total(periods.iter().map(|period| period.payouts));
    let collected = total(periods.iter().map(|period| period.collections));
    Report {
        fees: paid.fee + collected.fee,
        paid,
        collected,
        flows_chart: chart::flows_chart(page, &periods, &short),
        routes_chart: chart::routes_chart(page, &routes),
        periods,
        routes,
    }
}

fn total(flows: impl Iterator<Item = Flow>) -> Flow {
    flows.fold(Flow::default(), |total, flow| Flow {
        count: total.count + flow.count,
        amount: total.amount + flow.amount,
        fee: total.fee + flow.fee,
    })
}

/// A period as the table names it: "3 Dec 2026", "Week of 30 Nov 2026", "December 2026".
fn period_label(page: &Page, granularity: &str, start: Timestamp, label: &str) -> String {
    match granularity {
        "day" => page.formats.day(start, &page.zone),
        "week" => page.t1(
            "analytics-week-of",
            "day",
            page.formats.day(start, &page.zone),
        ),
        "month" => start
            .to_zoned(page.zone.clone())
            .strftime(&page.t("analytics-month-format"))
            .to_string(),
        _ => label.to_owned(),
    }
}

/// A period as the chart's axis names it, shorter: "3 Dec", "W49", "Dec".
fn axis_label(page: &Page, granularity: &str, start: Timestamp, label: &str) -> String {
    let local = start.to_zoned(page.zone.clone());
    match granularity {
        "day" => local.strftime(&page.t("analytics-axis-day")).to_string(),
        "week" => label.rsplit('-').next().unwrap_or(label).to_owned(),
        "month" => local.strftime(&page.t("analytics-axis-month")).to_string(),
        _ => label.to_owned(),
    }
}

/// Thousandths as a percentage with one decimal: "98.7%".
fn percent(page: &Page, permille: i64) -> String {
    let value = format!(
        "{}{}{}",
        permille / 10,
        page.t("number-decimal"),
        permille % 10
    );
    page.t1("analytics-percent", "value", value)
}
