//! `GET /v1/balance`: what the caller's merchant may pay out now (`available`) and what is
//! set aside for payouts queued or in flight (`reserved`), in minor units and as text.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use payrail_engine::api_key::Role;
use payrail_engine::ledger;
use payrail_engine::store::merchants;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::Caller;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/balance", get(balance))
}

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
