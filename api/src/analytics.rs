//! `GET /v1/analytics?from=&to=&granularity=day|week|month`: per period, what was
//! collected and paid out, each route's success ratio, the top failure reasons, and how
//! long payouts took (median and 95th percentile); as JSON or as a file.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::app::reports::analytics::{AnalyticsPeriod, Flow};
use payrail_engine::money::Currency;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::report_files::{self, Wanted};
use crate::views::money_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(analytics))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// The first day (in the merchant's time zone), or a time.
    pub from: String,
    /// The last day, included, or a time (excluded).
    pub to: String,
    /// `day` (by default), `week` (from Monday) or `month`.
    pub granularity: Option<String>,
    /// `json` (by default), `csv`, `xlsx` or `pdf`; or ask with `Accept`.
    pub format: Option<String>,
}

/// What succeeded: how many, for how much, and the fees.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlowView {
    pub count: i64,
    pub amount: String,
    pub fees: String,
}

/// One route's outcomes in a period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RouteView {
    /// `payout` or `collection`.
    pub kind: String,
    pub route: String,
    pub succeeded: i64,
    pub failed: i64,
    /// Succeeded over ended, e.g. "0.987".
    pub success_ratio: String,
}

/// A failure reason and how often it came.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FailureView {
    pub kind: String,
    pub reason: String,
    pub count: i64,
}

/// One period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub period: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    pub collections: FlowView,
    pub payouts: FlowView,
    pub routes: Vec<RouteView>,
    pub top_failure_reasons: Vec<FailureView>,
    /// From sending to the end, in ms: an upper estimate within 25 %.
    pub payout_median_ms: Option<i64>,
    pub payout_p95_ms: Option<i64>,
}

/// The report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AnalyticsView {
    pub currency: String,
    pub time_zone: String,
    pub granularity: String,
    pub periods: Vec<PeriodView>,
}

/// The merchant's sales analytics for a period.
#[utoipa::path(get, path = "/v1/analytics", operation_id = "get_analytics", tag = "reports",
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "Per period: collections, payouts, success by route, failures, latency", body = AnalyticsView),
        (status = 406, description = "The `Accept` header names no format this report is answered in"),
        (status = 422, description = "The period or the granularity is not acceptable")))]
async fn analytics(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<AnalyticsQuery>,
) -> Result<Response, ApiError> {
    let granularity = query.granularity.unwrap_or_else(|| "day".to_owned());
    if let Wanted::File(format) = report_files::wanted(query.format.as_deref(), &headers)? {
        let request = ReportRequest::Analytics {
            from: query.from,
            to: query.to,
            granularity,
        };
        return report_files::send(&state, &caller, &request, format).await;
    }
    let report = state
        .app
        .analytics(Reader::Key(caller), &query.from, &query.to, &granularity)
        .await?;
    let currency = report.merchant.currency;
    Ok(Json(AnalyticsView {
        currency: currency.code().to_owned(),
        time_zone: report.period.time_zone.clone(),
        granularity: report.granularity.as_str().to_owned(),
        periods: report.periods.iter().map(|p| period(p, currency)).collect(),
    })
    .into_response())
}

fn flow(flow: Flow, currency: Currency) -> FlowView {
    FlowView {
        count: flow.count,
        amount: money_text(flow.amount, currency),
        fees: money_text(flow.fee, currency),
    }
}

fn period(period: &AnalyticsPeriod, currency: Currency) -> PeriodView {
    PeriodView {
        period: period.label.clone(),
        start: period.start,
        collections: flow(period.collections, currency),
        payouts: flow(period.payouts, currency),
        routes: period
            .routes
            .iter()
            .map(|route| {
                let permille = route.success_permille();
                RouteView {
                    kind: route.kind.clone(),
                    route: route.route.clone(),
                    succeeded: route.succeeded,
                    failed: route.failed,
                    success_ratio: format!("{}.{:03}", permille / 1000, permille % 1000),
                }
            })
            .collect(),
        top_failure_reasons: period
            .failure_reasons
            .iter()
            .map(|(kind, reason, count)| FailureView {
                kind: kind.clone(),
                reason: reason.clone(),
                count: *count,
            })
            .collect(),
        payout_median_ms: period.payout_median_ms,
        payout_p95_ms: period.payout_p95_ms,
    }
}
