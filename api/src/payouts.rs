//! `POST /v1/payouts` (one payout now, optionally waiting up to 10 s for its end),
//! `GET /v1/payouts/{id}` and `POST /v1/payouts/{id}/cancel` (one not yet sent).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payrail_engine::app::AppError;
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::payouts::{NewPayout as PayOne, Once, Payout};
use payrail_engine::ids::PayoutId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::amount_text::AmountText;
use crate::extract::Authenticated;
use crate::idempotency::{self, required_key};
use crate::json::ApiJson;
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::views::PayoutView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(show))
        .routes(routes!(cancel))
}

/// A payout to one mobile number.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayout {
    /// The recipient: "+250788123456", "250788123456" or "0788123456".
    pub msisdn: String,
    /// In the currency's major unit: "1500" RWF, "12.50" EUR.
    pub amount: AmountText,
    /// The merchant's currency.
    pub currency: String,
    /// Your own reference for it.
    pub reference: Option<String>,
    /// The recipient's name, for your records.
    pub name: Option<String>,
    /// A note (160 characters at most).
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds (at most 10) to wait for the payout to end before answering.
    #[param(minimum = 0, maximum = 10)]
    pub wait: Option<u64>,
}

/// Pays one mobile number now.
///
/// Answers 202 while the payout is on its way, or 200 with its final state when it ended
/// before answering: at once when the balance does not cover it (`failed`,
/// `insufficient_balance`), or within `?wait=` seconds.
#[utoipa::path(post, path = "/v1/payouts", operation_id = "create_payout", tag = "payouts", params(WaitQuery, ("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request (a UUID is a good one): a retry with the same key and body gets the first answer, never a second payment")),
    request_body = NewPayout,
    responses(
        (status = 202, description = "Accepted; on its way", body = PayoutView),
        (status = 200, description = "Already final", body = PayoutView),
        (status = 400, description = "No Idempotency-Key, or malformed JSON"),
        (status = 409, description = "A request with this Idempotency-Key is still running"),
        (status = 422, description = "A field is not acceptable; `errors` lists each"),
        (status = 503, description = "Too many payouts are waiting to be written: retry")))]
async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(wait): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<NewPayout>,
) -> Result<Response, ApiError> {
    let once = Once {
        key: required_key(&headers)?,
        request_sha256: fingerprint(&request)?,
    };
    let new = PayOne {
        msisdn: request.msisdn,
        amount: request.amount.text().to_owned(),
        currency: request.currency,
        reference: request.reference,
        name: request.name,
        note: request.note,
    };
    let wait = Duration::from_secs(wait.wait.unwrap_or(0));
    let answered = state.app.pay_one(&caller, &new, once, wait, answer).await?;
    idempotency::respond(answered)
}

/// What makes two payout requests "the same" for their key: the route and the body.
fn fingerprint(request: &NewPayout) -> Result<[u8; 32], ApiError> {
    Ok(payrail_engine::app::idempotency::fingerprint(
        "POST /v1/payouts",
        request,
    )?)
}

/// Reads a payout.
#[utoipa::path(get, path = "/v1/payouts/{id}", operation_id = "get_payout", tag = "payouts",
    params(("id" = String, Path, description = "The payout's id")),
    responses((status = 200, description = "The payout", body = PayoutView), (status = 404, description = "No such payout")))]
async fn show(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PayoutView>, ApiError> {
    let payout = state.app.payout(&caller, payout_id(&id)?).await?;
    Ok(Json(PayoutView::from(&payout)))
}

/// Cancels a single payout not yet sent; its amount and fee go back to the available
/// balance. The other payouts sent at the same moment are untouched.
#[utoipa::path(post, path = "/v1/payouts/{id}/cancel", operation_id = "cancel_payout", tag = "payouts",
    params(("id" = String, Path, description = "The payout's id")),
    responses(
        (status = 200, description = "Cancelled", body = PayoutView),
        (status = 404, description = "No such payout"),
        (status = 409, description = "It was sent already, or it is a line of a payroll batch")))]
async fn cancel(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PayoutView>, ApiError> {
    let payout = state.app.cancel_payout(&caller, payout_id(&id)?).await?;
    Ok(Json(PayoutView::from(&payout)))
}

/// A payout id from the path; anything that is not one is simply not found.
fn payout_id(text: &str) -> Result<PayoutId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound("no such payout".into()))
}

/// 200 with a final payout, 202 with one still on its way.
fn answer(payout: &Payout) -> Result<Answer, AppError> {
    let status = if payout.state.is_final() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok(Answer {
        status: status.as_u16(),
        body: serde_json::to_value(PayoutView::from(payout)).map_err(AppError::internal)?,
    })
}
