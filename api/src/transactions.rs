//! `GET /v1/transactions`: the transaction report. Every payout, collection, funding and
//! correction of the merchant (fees too, with `type=fee`), filtered, sorted by time, a
//! page at a time with the totals of the whole filter; or the whole report as a file.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::app::reports::transactions::{
    Transaction, TransactionKey, TransactionQuery as Filters, key_of,
};
use payrail_engine::money::Currency;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Authenticated;
use crate::pagination::{Key, PageQuery, encode};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::report_files::{self, Wanted};
use crate::views::money_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionQuery {
    /// From this time on: a date (`2026-11-01`, in the merchant's time zone), a local time
    /// (`2026-11-01T08:00`) or an RFC 3339 time.
    pub from: Option<String>,
    /// Up to this time; a date includes its whole day.
    pub to: Option<String>,
    /// Before this time, a date meaning its start (kept from the first version; use `to`).
    pub until: Option<String>,
    /// Comma-separated: `payout`, `collection`, `funding`, `fee`, `correction` (all but
    /// `fee` by default).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A payout or collection state (`succeeded`, `failed`, `paid`, …), or `posted`.
    pub state: Option<String>,
    /// A route (`mtn-rw`).
    pub route: Option<String>,
    /// An operator (`mtn`, `airtel`): its routes.
    pub operator: Option<String>,
    /// A batch of the merchant's.
    pub batch: Option<String>,
    /// The number's last digits (at least four).
    pub msisdn: Option<String>,
    /// The merchant's own reference, exactly.
    pub reference: Option<String>,
    /// At least this amount (`1500`).
    pub amount_min: Option<String>,
    /// At most this amount.
    pub amount_max: Option<String>,
    /// `json` (by default), `csv`, `xlsx` or `pdf`; or ask with `Accept`.
    pub format: Option<String>,
}

/// A payout, collection, funding, fee or correction.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransactionView {
    /// `payout`, `collection`, `funding`, `fee` or `correction`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub state: String,
    pub msisdn: Option<String>,
    pub amount: String,
    pub fee: String,
    pub currency: String,
    /// `credit` (money in) or `debit`.
    pub direction: String,
    pub route: Option<String>,
    pub reference: Option<String>,
    pub description: Option<String>,
    pub failure_reason: Option<String>,
    pub operator_transaction_id: Option<String>,
    /// The batch a payout belongs to.
    pub batch_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The totals of every row the filter takes, not only this page's.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransactionTotalsView {
    pub count: i64,
    pub amount: String,
    pub fee: String,
}

/// A page of the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransactionPage {
    pub data: Vec<TransactionView>,
    pub next_cursor: Option<String>,
    pub totals: TransactionTotalsView,
    pub time_zone: String,
}

/// Lists the merchant's transactions, oldest first, with the totals of the filter.
#[utoipa::path(get, path = "/v1/transactions", operation_id = "list_transactions", tag = "reports",
    params(TransactionQuery, PageQuery),
    responses(
        (status = 200, description = "A page of transactions with the filter's totals, or the report's file", body = TransactionPage),
        (status = 404, description = "The `batch` filter names no batch of the merchant's"),
        (status = 406, description = "The `Accept` header names no format this report is answered in"),
        (status = 422, description = "A filter is not acceptable")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TransactionQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let wanted = report_files::wanted(query.format.as_deref(), &headers)?;
    let filters = filters(query);
    if let Wanted::File(format) = wanted {
        let request = ReportRequest::Transactions {
            filters: Box::new(filters),
        };
        return report_files::send(&state, &caller, &request, format).await;
    }
    let bounds = page.bounds()?;
    let after = bounds
        .after_transaction()?
        .map(|(id, rank)| TransactionKey { id, rank });
    let scope = state
        .app
        .transaction_scope(Reader::Key(caller), &filters)
        .await?;
    let mut rows = state
        .app
        .transactions(&scope, after, bounds.limit + 1)
        .await?;
    let totals = state.app.transaction_totals(&scope).await?;
    let limit = usize::try_from(bounds.limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more.then(|| rows.last()).flatten().map(|last| {
        let key = key_of(last);
        encode(Key::Transaction(key.id, key.rank))
    });
    let currency = scope.merchant.currency;
    Ok(Json(TransactionPage {
        data: rows.iter().map(|row| view(row, currency)).collect(),
        next_cursor,
        totals: TransactionTotalsView {
            count: totals.count,
            amount: money_text(totals.amount, currency),
            fee: money_text(totals.fee, currency),
        },
        time_zone: scope.merchant.time_zone.clone(),
    })
    .into_response())
}

fn filters(query: TransactionQuery) -> Filters {
    Filters {
        from: query.from,
        to: query.to,
        until: query.until,
        types: query.kind,
        state: query.state,
        route: query.route,
        operator: query.operator,
        batch: query.batch,
        msisdn: query.msisdn,
        reference: query.reference,
        amount_min: query.amount_min,
        amount_max: query.amount_max,
    }
}

fn view(row: &Transaction, currency: Currency) -> TransactionView {
    TransactionView {
        kind: row.kind.as_str().to_owned(),
        id: row.id,
        state: row.state.clone(),
        msisdn: row.msisdn.clone(),
        amount: row.amount.format(currency),
        fee: row.fee.format(currency),
        currency: currency.code().to_owned(),
        direction: if row.credit { "credit" } else { "debit" }.to_owned(),
        route: row.route.clone(),
        reference: row.reference.clone(),
        description: row.description.clone(),
        failure_reason: row.failure_code.clone(),
        operator_transaction_id: row.operator_transaction_id.clone(),
        batch_id: row.batch,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
