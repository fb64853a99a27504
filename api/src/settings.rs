//! A merchant's settings: `GET /v1/settings` (currency, fees, approval rule, time zone),
//! `PUT /v1/settings/approval`, the four-eyes rule — never, always, or above an amount —
//! and `PUT /v1/settings/time-zone`, the zone reports are dated in.

use axum::Json;
use axum::extract::State;
use payrail_engine::app::merchants::{self as app, ApprovalRule, Merchant};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::amount_text::AmountText;
use crate::extract::Authenticated;
use crate::json::ApiJson;
use crate::problem::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(set_approval))
        .routes(routes!(set_time_zone))
}

/// When payroll batches wait for a second person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    Never,
    Always,
    /// When the batch's total is above `above`.
    Above,
}

/// The four-eyes rule.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub required: Required,
    /// The total above which approval is needed (with `required: "above"`).
    pub above: Option<AmountText>,
}

/// What a merchant is set up with.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Settings {
    pub name: String,
    pub currency: String,
    /// Charged on each payout.
    pub payout_fee: String,
    /// Charged on each collection, in basis points (1/100 %).
    pub collection_fee_bps: u16,
    pub approval: Approval,
    /// The IANA time zone reports are dated in.
    pub time_zone: String,
}

/// The time zone reports are dated in.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneSetting {
    /// An IANA name, e.g. `Africa/Kigali`.
    pub time_zone: String,
}

fn settings(merchant: &Merchant) -> Settings {
    let currency = merchant.currency;
    let approval = match merchant.approval_threshold {
        None => Approval {
            required: Required::Never,
            above: None,
        },
        Some(threshold) if threshold.is_zero() => Approval {
            required: Required::Always,
            above: None,
        },
        Some(threshold) => Approval {
            required: Required::Above,
            above: Some(AmountText::Text(threshold.format(currency))),
        },
    };
    Settings {
        name: merchant.name.clone(),
        currency: currency.code().to_owned(),
        payout_fee: merchant.fees.payout_fee().format(currency),
        collection_fee_bps: merchant.fees.collection_fee_bps(),
        approval,
        time_zone: merchant.time_zone.clone(),
    }
}

/// The merchant's settings.
#[utoipa::path(get, path = "/v1/settings", operation_id = "get_settings", tag = "settings",
    responses((status = 200, description = "The settings", body = Settings)))]
async fn show(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(settings(&state.app.merchant_settings(&caller).await?)))
}

/// Sets when payroll batches need a second person's approval (admin keys only).
#[utoipa::path(put, path = "/v1/settings/approval", operation_id = "set_approval_rule", tag = "settings", request_body = Approval,
    responses((status = 200, description = "The settings", body = Settings), (status = 422, description = "An amount is missing or not acceptable")))]
async fn set_approval(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiJson(approval): ApiJson<Approval>,
) -> Result<Json<Settings>, ApiError> {
    let rule = ApprovalRule {
        required: match approval.required {
            Required::Never => app::Required::Never,
            Required::Always => app::Required::Always,
            Required::Above => app::Required::Above,
        },
        above: approval.above.map(|above| above.text().to_owned()),
    };
    let merchant = state.app.set_approval_rule(&caller, &rule).await?;
    Ok(Json(settings(&merchant)))
}

/// Sets the time zone the merchant's reports are dated in (admin keys only).
#[utoipa::path(put, path = "/v1/settings/time-zone", operation_id = "set_time_zone", tag = "settings", request_body = TimeZoneSetting,
    responses((status = 200, description = "The settings", body = Settings), (status = 422, description = "Not an IANA time zone")))]
async fn set_time_zone(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiJson(setting): ApiJson<TimeZoneSetting>,
) -> Result<Json<Settings>, ApiError> {
    let merchant = state.app.set_time_zone(&caller, &setting.time_zone).await?;
    Ok(Json(settings(&merchant)))
}
