//! What a batch holds, line by line: `GET /v1/batches/{id}/errors` (the validation report,
//! as JSON pages or one CSV file) and `GET /v1/batches/{id}/payouts` (its lines, filtered).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use payrail_engine::msisdn::Msisdn;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches;
use payrail_engine::store::line_errors::{self, LineError};
use payrail_engine::store::payouts::{self, LineFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{batch_id, not_found};
use crate::AppState;
use crate::extract::Caller;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::views::PayoutView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(errors))
        .routes(routes!(lines))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
pub struct ErrorsQuery {
    /// `csv` for the whole report as one CSV file (also chosen by `Accept: text/csv`).
    pub format: Option<String>,
}

/// The validation report of an invalid batch: each bad line's number in the file (the
/// header is line 1), the field and the reason.
#[utoipa::path(get, path = "/v1/batches/{id}/errors", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), ErrorsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of errors (`data`, `next_cursor`), or a CSV file"),
        (status = 404, description = "No such batch")))]
async fn errors(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ErrorsQuery>,
    Query(page): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id = batch_id(&id)?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    batches::get(&client, caller.merchant, id)
        .await
        .map_err(not_found)?;
    let wants_csv = query.format.as_deref() == Some("csv")
        || headers
            .get("accept")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"));
    if wants_csv {
        let all = line_errors::list(&client, caller.merchant, id, 0, i64::MAX)
            .await
            .map_err(ApiError::internal)?;
        return csv_report(id.to_string(), &all);
    }
    let bounds = page.bounds()?;
    let after = i32::try_from(bounds.after_number()?.unwrap_or(0))
        .map_err(|_| ApiError::invalid_field("cursor", "out of range"))?;
    let rows = line_errors::list(&client, caller.merchant, id, after, bounds.limit + 1)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Page::from_rows(rows, bounds, |error| {
        Key::Number(i64::from(error.line))
    }))
    .into_response())
}

fn csv_report(batch: String, errors: &[LineError]) -> Result<Response, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["line", "field", "reason"])
        .map_err(ApiError::internal)?;
    for error in errors {
        writer
            .write_record([error.line.to_string().as_str(), &error.field, &error.reason])
            .map_err(ApiError::internal)?;
    }
    let bytes = writer.into_inner().map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"batch-{batch}-errors.csv\"");
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
pub struct LinesQuery {
    /// Only lines in this state (`succeeded`, `failed`, `queued`, …).
    pub state: Option<String>,
    /// Only lines to this number.
    pub msisdn: Option<String>,
    /// Only the line with this reference of yours.
    pub reference: Option<String>,
}

/// A batch's payouts in line order, optionally filtered.
#[utoipa::path(get, path = "/v1/batches/{id}/payouts", tag = "batches",
    params(("id" = String, Path, description = "The batch's id"), LinesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of payouts (`data`, `next_cursor`)"),
        (status = 404, description = "No such batch")))]
async fn lines(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<LinesQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<PayoutView>>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id = batch_id(&id)?;
    let bounds = page.bounds()?;
    let after = i32::try_from(bounds.after_number()?.unwrap_or(0))
        .map_err(|_| ApiError::invalid_field("cursor", "out of range"))?;
    let state_filter = query
        .state
        .as_deref()
        .map(|name| {
            PayoutState::ALL
                .into_iter()
                .find(|state| state.as_str() == name)
                .ok_or_else(|| {
                    ApiError::invalid_field("state", format!("no payout state is called {name:?}"))
                })
        })
        .transpose()?;
    let msisdn = query
        .msisdn
        .as_deref()
        .map(|text| {
            Msisdn::parse(text, state.settings.country)
                .map(|msisdn| msisdn.as_str().to_owned())
                .map_err(|error| ApiError::invalid_field("msisdn", error.to_string()))
        })
        .transpose()?;
    let filter = LineFilter {
        state: state_filter,
        msisdn,
        reference: query.reference,
    };
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    batches::get(&client, caller.merchant, id)
        .await
        .map_err(not_found)?;
    let rows = payouts::in_batch(
        &client,
        caller.merchant,
        id,
        &filter,
        after,
        bounds.limit + 1,
    )
    .await
    .map_err(ApiError::internal)?;
    let views = rows.iter().map(PayoutView::from).collect();
    Ok(Json(Page::from_rows(views, bounds, |view: &PayoutView| {
        Key::Number(i64::from(view.line))
    })))
}
