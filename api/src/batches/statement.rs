//! `GET /v1/batches/{id}/statement`: a batch's reconciliation. Each line tied to its
//! payout id, the operator's reference and transaction id, its fee and outcome, with the
//! totals per state; as JSON a page of lines at a time, or as a file.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::app::reports::batch_statement::ReconciledLine;
use payrail_engine::money::Currency;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::pagination::{Key, PageQuery, encode};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::report_files::{self, Wanted};
use crate::views::money_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(statement))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (by default), `csv`, `xlsx` or `pdf`; or ask with `Accept`.
    pub format: Option<String>,
}

/// One line, reconciled.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReconciledView {
    pub line: i32,
    pub reference: Option<String>,
    pub msisdn: String,
    pub name: Option<String>,
    pub amount: String,
    pub fee: String,
    pub state: String,
    pub failure_reason: Option<String>,
    pub payout_id: uuid::Uuid,
    /// The id the operator knows the payout by.
    pub operator_reference: uuid::Uuid,
    pub operator_transaction_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub final_at: Option<jiff::Timestamp>,
}

/// Lines, amounts and fees in one state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StateTotalView {
    pub state: String,
    pub lines: i64,
    pub amount: String,
    pub fee: String,
}

/// The reconciliation, with a page of its lines.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchStatementView {
    pub batch_id: uuid::Uuid,
    pub state: String,
    pub currency: String,
    pub time_zone: String,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: jiff::Timestamp,
    pub totals: Vec<StateTotalView>,
    pub lines: Vec<ReconciledView>,
    pub next_cursor: Option<String>,
}

/// A batch's reconciliation statement.
#[utoipa::path(get, path = "/v1/batches/{id}/statement", operation_id = "get_batch_statement", tag = "reports",
    params(("id" = String, Path, description = "The batch's id"), FormatQuery, PageQuery),
    responses(
        (status = 200, description = "The batch's lines reconciled, with totals per state, or its file", body = BatchStatementView),
        (status = 404, description = "No such batch for this merchant"),
        (status = 406, description = "The `Accept` header names no format this report is answered in")))]
async fn statement(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FormatQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let batch = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such batch".into()))?;
    if let Wanted::File(format) = report_files::wanted(query.format.as_deref(), &headers)? {
        let request = ReportRequest::BatchStatement { batch };
        return report_files::send(&state, &caller, &request, format).await;
    }
    let bounds = page.bounds()?;
    let after = i32::try_from(bounds.after_number()?.unwrap_or(0)).unwrap_or(i32::MAX);
    let head = state
        .app
        .batch_statement_head(Reader::Key(caller), batch)
        .await?;
    let mut lines = state
        .app
        .batch_statement_page(&head, after, bounds.limit + 1)
        .await?;
    let limit = usize::try_from(bounds.limit).unwrap_or(usize::MAX);
    let more = lines.len() > limit;
    lines.truncate(limit);
    let next_cursor = more
        .then(|| lines.last())
        .flatten()
        .map(|last| encode(Key::Number(i64::from(last.line_no))));
    let currency = head.merchant.currency;
    Ok(Json(BatchStatementView {
        batch_id: *head.batch.id.as_uuid(),
        state: head.batch.state.as_str().to_owned(),
        currency: currency.code().to_owned(),
        time_zone: head.merchant.time_zone.clone(),
        generated_at: head.generated_at,
        totals: head
            .counts
            .iter()
            .map(|count| StateTotalView {
                state: count.state.as_str().to_owned(),
                lines: count.lines,
                amount: money_text(count.amount, currency),
                fee: money_text(count.fee, currency),
            })
            .collect(),
        lines: lines.iter().map(|line| view(line, currency)).collect(),
        next_cursor,
    })
    .into_response())
}

fn view(line: &ReconciledLine, currency: Currency) -> ReconciledView {
    ReconciledView {
        line: line.line_no,
        reference: line.reference.clone(),
        msisdn: line.msisdn.clone(),
        name: line.name.clone(),
        amount: money_text(line.amount, currency),
        fee: money_text(line.fee, currency),
        state: line.state.as_str().to_owned(),
        failure_reason: line.failure_code.clone(),
        payout_id: line.payout_id,
        operator_reference: line.operator_reference,
        operator_transaction_id: line.operator_transaction_id.clone(),
        sent_at: line.sent_at,
        final_at: line.final_at,
    }
}
