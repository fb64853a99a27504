//! `GET /v1/statements?from=&to=`: the account statement of the caller's merchant, as JSON
//! a page of lines at a time (every page carries the header, balances and totals), or as a
//! CSV, XLSX or PDF file.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::app::reports::statement::{StatementCursor, StatementHead, StatementLine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::pagination::{Key, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::report_files::{self, Wanted};
use crate::views::money_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(statement))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// The first day (`2026-11-01`, in the merchant's time zone), or a time.
    pub from: String,
    /// The last day, included (`2026-11-30`), or a time (excluded).
    pub to: String,
    /// `json` (by default), `csv`, `xlsx` or `pdf`; or ask with `Accept`.
    pub format: Option<String>,
}

/// A count and a sum.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CountSum {
    pub count: i64,
    pub sum: String,
}

/// One posted movement and the balance after it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatementLineView {
    #[schema(value_type = String, format = DateTime)]
    pub time: jiff::Timestamp,
    /// `funding`, `payout`, `collection` or `correction`.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub msisdn: Option<String>,
    /// The payout's, collection's, funding's or correction's id.
    pub id: uuid::Uuid,
    pub operator_transaction_id: Option<String>,
    pub debit: String,
    pub credit: String,
    pub fee: String,
    pub balance: String,
}

/// The statement, with a page of its lines.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub statement_number: String,
    pub merchant_id: uuid::Uuid,
    pub merchant_name: String,
    pub currency: String,
    #[schema(value_type = String, format = DateTime)]
    pub from: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub to: jiff::Timestamp,
    pub time_zone: String,
    pub period: String,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: jiff::Timestamp,
    pub opening_balance: String,
    pub credits: CountSum,
    pub debits: CountSum,
    pub fees: CountSum,
    pub closing_balance: String,
    pub lines: Vec<StatementLineView>,
    pub next_cursor: Option<String>,
}

/// The merchant's account statement for a period.
#[utoipa::path(get, path = "/v1/statements", operation_id = "get_statement", tag = "reports",
    params(StatementQuery, PageQuery),
    responses(
        (status = 200, description = "The statement (JSON with a page of lines), or its file", body = StatementView),
        (status = 406, description = "The `Accept` header names no format this report is answered in"),
        (status = 422, description = "The period or a parameter is not acceptable")))]
async fn statement(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StatementQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    if let Wanted::File(format) = report_files::wanted(query.format.as_deref(), &headers)? {
        let request = ReportRequest::Statement {
            from: query.from,
            to: query.to,
        };
        return report_files::send(&state, &caller, &request, format).await;
    }
    let bounds = page.bounds()?;
    let cursor = match bounds.after {
        None => None,
        Some(Key::Movement(after, balance)) => Some(StatementCursor { after, balance }),
        Some(_) => return Err(crate::pagination::foreign_cursor()),
    };
    let head = state
        .app
        .statement_head(Reader::Key(caller), &query.from, &query.to)
        .await?;
    let mut lines = state
        .app
        .statement_lines(&head, cursor, bounds.limit + 1)
        .await?;
    let more = lines.len() > usize::try_from(bounds.limit).unwrap_or(usize::MAX);
    lines.truncate(usize::try_from(bounds.limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| lines.last())
        .flatten()
        .map(|last| crate::pagination::encode(Key::Movement(last.movement.key, last.balance)));
    Ok(Json(view(&head, &lines, next_cursor)).into_response())
}

fn view(
    head: &StatementHead,
    lines: &[StatementLine],
    next_cursor: Option<String>,
) -> StatementView {
    let currency = head.merchant.currency;
    let totals = &head.totals;
    let count_sum = |count, sum| CountSum {
        count,
        sum: money_text(sum, currency),
    };
    StatementView {
        statement_number: head.number.clone(),
        merchant_id: *head.merchant.id.as_uuid(),
        merchant_name: head.merchant.name.clone(),
        currency: currency.code().to_owned(),
        from: head.period.from,
        to: head.period.to,
        time_zone: head.period.time_zone.clone(),
        period: head.period.describe(),
        generated_at: head.generated_at,
        opening_balance: money_text(head.opening, currency),
        credits: count_sum(totals.credits, totals.credit_sum),
        debits: count_sum(totals.debits, totals.debit_sum),
        fees: count_sum(totals.fees, totals.fee_sum),
        closing_balance: money_text(head.closing, currency),
        lines: lines
            .iter()
            .map(|line| {
                let movement = &line.movement;
                StatementLineView {
                    time: movement.key.at,
                    kind: movement.kind.as_str().to_owned(),
                    description: movement.description.clone(),
                    reference: movement.reference.clone(),
                    msisdn: movement.msisdn.clone(),
                    id: movement.key.item,
                    operator_transaction_id: movement.operator_transaction_id.clone(),
                    debit: money_text(movement.debit, currency),
                    credit: money_text(movement.credit, currency),
                    fee: money_text(movement.fee, currency),
                    balance: money_text(line.balance, currency),
                }
            })
            .collect(),
        next_cursor,
    }
}
