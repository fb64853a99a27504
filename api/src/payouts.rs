//! `POST /v1/payouts` (one payout now, optionally waiting up to 10 s for its end) and
//! `GET /v1/payouts/{id}`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use payrail_engine::api_key::Role;
use payrail_engine::ids::{MerchantId, PayoutId};
use payrail_engine::store::payouts::{self, Payout};
use payrail_engine::store::{StoreError, merchants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::amount_text::AmountText;
use crate::extract::Caller;
use crate::idempotency::{self, KeyRule, Lookup};
use crate::json::ApiJson;
use crate::lines::{LineChecker, LineRules, RawLine};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use crate::views::PayoutView;

mod group_writer;

pub use group_writer::GroupWriter;
use group_writer::SinglePayout;

/// The longest a request may wait for its payout to end.
const MAX_WAIT_SECONDS: u64 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(show))
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
        (status = 422, description = "A field is not acceptable; `errors` lists each")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(wait): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<NewPayout>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Maker])?;
    let key = idempotency::key_of(&headers, KeyRule::Required)?.unwrap_or_default();
    let wait = Duration::from_secs(wait.wait.unwrap_or(0));
    if wait.as_secs() > MAX_WAIT_SECONDS {
        return Err(ApiError::invalid_field(
            "wait",
            format!("at most {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let merchant = {
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        merchants::get(&client, caller.merchant)
            .await
            .map_err(ApiError::internal)?
    };
    if request.currency != merchant.currency.code() {
        return Err(ApiError::invalid_field(
            "currency",
            format!("this merchant pays in {}", merchant.currency.code()),
        ));
    }
    let rules = LineRules {
        country: state.settings.country,
        routes: &state.settings.routes,
        currency: merchant.currency,
        fee: merchant.fees.payout_fee(),
    };
    let raw = RawLine {
        msisdn: &request.msisdn,
        amount: request.amount.text(),
        name: request.name.as_deref(),
        reference: request.reference.as_deref(),
        note: request.note.as_deref(),
    };
    let line = LineChecker::new(rules).check(1, raw).map_err(|errors| {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Invalid {
            detail,
            errors: errors
                .iter()
                .map(|e| serde_json::json!({ "field": e.field, "reason": e.reason }))
                .collect(),
        }
    })?;
    let fingerprint = idempotency::fingerprint("POST /v1/payouts", &request)?;
    let claim = match idempotency::claim(&state.pool, caller.merchant, &key).await? {
        Lookup::Done(stored) => return stored.replay(&fingerprint),
        Lookup::Claimed(claim) => claim,
    };
    let single = SinglePayout {
        merchant: merchant.id,
        currency: merchant.currency,
        created_by: caller.key,
        line,
        claim: claim.clone(),
        request_sha256: fingerprint,
    };
    let payout = match state.group_writer().write(single).await {
        Ok(payout) => payout,
        Err(error) => {
            claim.release(&state.pool).await;
            return Err(error);
        }
    };
    if wait.is_zero() || payout.state.is_final() {
        return respond(&payout);
    }
    let payout = wait_for_end(&state, merchant.id, payout.id, wait).await?;
    let (status, body) = answer(&payout)?;
    if status == StatusCode::OK {
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        claim.update(&client, &fingerprint, status, &body).await?;
    }
    Ok((status, Json(body)).into_response())
}

/// Reads a payout.
#[utoipa::path(get, path = "/v1/payouts/{id}", operation_id = "get_payout", tag = "payouts",
    params(("id" = String, Path, description = "The payout's id")),
    responses((status = 200, description = "The payout", body = PayoutView), (status = 404, description = "No such payout")))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PayoutView>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id: PayoutId = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such payout"))?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let payout = read(&client, caller.merchant, id).await?;
    Ok(Json(PayoutView::from(&payout)))
}

async fn read(
    client: &impl deadpool_postgres::GenericClient,
    merchant: MerchantId,
    id: PayoutId,
) -> Result<Payout, ApiError> {
    payouts::get(client, merchant, id)
        .await
        .map_err(|error| match error {
            StoreError::NotFound { .. } => ApiError::NotFound("no such payout"),
            other => ApiError::internal(other),
        })
}

/// 200 with a final payout, 202 with one still on its way.
pub(crate) fn answer(payout: &Payout) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let status = if payout.state.is_final() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = serde_json::to_value(PayoutView::from(payout)).map_err(ApiError::internal)?;
    Ok((status, body))
}

fn respond(payout: &Payout) -> Result<Response, ApiError> {
    let (status, body) = answer(payout)?;
    Ok((status, Json(body)).into_response())
}

/// Reads the payout until it is final or `wait` has passed; polls quickly at first, since
/// a payout to a fast operator ends within milliseconds.
async fn wait_for_end(
    state: &AppState,
    merchant: MerchantId,
    id: PayoutId,
    wait: Duration,
) -> Result<Payout, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        tokio::time::sleep(
            pause.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        let payout = read(&client, merchant, id).await?;
        if payout.state.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(payout);
        }
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
