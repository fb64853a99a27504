//! `GET /v1/balance`: what the caller's merchant may pay out now (`available`) and what is
//! set aside for payouts queued or in flight (`reserved`), in minor units and as text.

use axum::Json;
use axum::extract::State;
use payrail_engine::money::Amount;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::problem::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(balance))
}

/// The merchant's balance: what it may pay out now and what is set aside.
#[utoipa::path(get, path = "/v1/balance", operation_id = "get_balance", tag = "balance",
    responses((status = 200, description = "Available and reserved funds, in minor units and as text")))]
async fn balance(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let balance = state.app.balance(&caller).await?;
    let currency = balance.currency;
    let amount = |minor: Amount| json!({"minor": i64::from(minor), "text": minor.format(currency)});
    Ok(Json(json!({
        "currency": currency,
        "available": amount(balance.available),
        "reserved": amount(balance.reserved),
    })))
}
