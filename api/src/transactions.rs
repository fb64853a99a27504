//! `GET /v1/transactions`: the merchant's payouts and collections in one list, filtered
//! by time (`from`, `until`: RFC 3339 times or dates, UTC), `type` and `state`.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use payrail_engine::app::transactions::{Transaction, TransactionQuery as Filters};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Authenticated;
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
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<TransactionQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<TransactionView>>, ApiError> {
    let bounds = page.bounds()?;
    let filters = Filters {
        from: query.from,
        until: query.until,
        kind: query.kind,
        state: query.state,
    };
    let rows = state
        .app
        .transactions(&caller, &filters, bounds.after_id()?, bounds.limit + 1)
        .await?;
    let views = rows.iter().map(TransactionView::from).collect();
    Ok(Json(Page::from_rows(
        views,
        &bounds,
        |view: &TransactionView| Key::Id(view.id),
    )))
}
