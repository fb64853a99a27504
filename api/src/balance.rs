//! `GET /v1/balance`: what the caller's merchant may pay out now (`available`) and what is
//! set aside for payouts queued or in flight (`reserved`), in minor units and as text.

use axum::Json;
use axum::extract::State;
use payrail_engine::api_key::Role;
use payrail_engine::ledger;
use payrail_engine::store::merchants;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Caller;
use crate::problem::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(balance))
}

/// The merchant's balance: what it may pay out now and what is set aside.
#[utoipa::path(get, path = "/v1/balance", operation_id = "get_balance", tag = "balance",
    responses((status = 200, description = "Available and reserved funds, in minor units and as text")))]
async fn balance(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let merchant = merchants::get(&client, caller.merchant)
        .await
        .map_err(ApiError::internal)?;
    let balances = ledger::balances(&client, caller.merchant)
        .await
        .map_err(ApiError::internal)?;
    let currency = merchant.currency;
    let amount = |minor: payrail_engine::money::Amount| json!({"minor": i64::from(minor), "text": minor.format(currency)});
    Ok(Json(json!({
        "currency": currency,
        "available": amount(balances.available),
        "reserved": amount(balances.reserved),
    })))
}
