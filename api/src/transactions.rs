//! `GET /v1/transactions`: the merchant's payouts and collections in one list, filtered
//! by time (`from`, `until`: RFC 3339 times or dates, UTC), `type` and `state`.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use jiff::civil::Date;
use payrail_engine::api_key::Role;
use payrail_engine::state::collection::CollectionState;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::transactions::{self, Transaction, TransactionFilter, TransactionType};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Caller;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionQuery {
    /// From this time on (`2026-11-01` or `2026-11-01T08:00:00Z`).
    pub from: Option<String>,
    /// Before this time (a date means its start).
    pub until: Option<String>,
    /// `payout` or `collection`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A payout or collection state (`succeeded`, `failed`, `paid`, …).
    pub state: Option<String>,
}

/// A payout or a collection.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransactionView {
    /// `payout` or `collection`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub state: String,
    pub msisdn: String,
    pub amount: String,
    pub fee: String,
    pub currency: String,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub operator_transaction_id: Option<String>,
    /// The batch a payout belongs to.
    pub batch_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Transaction> for TransactionView {
    fn from(movement: &Transaction) -> TransactionView {
        TransactionView {
            kind: movement.kind.as_str().to_owned(),
            id: movement.id,
            state: movement.state.clone(),
            msisdn: movement.msisdn.clone(),
            amount: movement.amount.format(movement.currency),
            fee: movement.fee.format(movement.currency),
            currency: movement.currency.code().to_owned(),
            reference: movement.reference.clone(),
            failure_reason: movement.failure_code.clone(),
            operator_transaction_id: movement.operator_transaction_id.clone(),
            batch_id: movement.batch,
            created_at: movement.created_at,
            updated_at: movement.updated_at,
        }
    }
}

/// Lists payouts and collections, oldest first.
#[utoipa::path(get, path = "/v1/transactions", operation_id = "list_transactions", tag = "transactions",
    params(TransactionQuery, PageQuery),
    responses(
        (status = 200, description = "A page of transactions (`data`, `next_cursor`)"),
        (status = 422, description = "A filter is not acceptable")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TransactionQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<TransactionView>>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let bounds = page.bounds()?;
    let filter = filter(&query)?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let rows = transactions::list(
        &client,
        caller.merchant,
        &filter,
        bounds.after_id()?,
        bounds.limit + 1,
    )
    .await
    .map_err(ApiError::internal)?;
    let views = rows.iter().map(TransactionView::from).collect();
    Ok(Json(Page::from_rows(
        views,
        &bounds,
        |view: &TransactionView| Key::Id(view.id),
    )))
}

fn filter(query: &TransactionQuery) -> Result<TransactionFilter, ApiError> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some("payout") => Some(TransactionType::Payout),
        Some("collection") => Some(TransactionType::Collection),
        Some(other) => {
            return Err(ApiError::invalid_field(
                "type",
                format!("{other:?} is neither payout nor collection"),
            ));
        }
    };
    if let Some(wanted) = &query.state {
        let known = PayoutState::ALL.iter().any(|s| s.as_str() == wanted)
            || CollectionState::ALL.iter().any(|s| s.as_str() == wanted);
        if !known {
            return Err(ApiError::invalid_field(
                "state",
                format!("no payout or collection state is called {wanted:?}"),
            ));
        }
    }
    let from = query
        .from
        .as_deref()
        .map(|text| time("from", text))
        .transpose()?;
    let until = query
        .until
        .as_deref()
        .map(|text| time("until", text))
        .transpose()?;
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return Err(ApiError::invalid_field("until", "must be after `from`"));
    }
    Ok(TransactionFilter {
        from,
        until,
        kind,
        state: query.state.clone(),
    })
}

/// An RFC 3339 time, or a date taken as its start in UTC.
fn time(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    text.parse::<Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!("{text:?} is neither a date (2026-11-01) nor an RFC 3339 time"),
            )
        })
}
