//! Airtel Money on Airtel's paths: OAuth2 token, then disbursements and collections with
//! their enquiries; every call needs `X-Country: RW`, `X-Currency: RWF` and a bearer token.
//! Business outcomes are 200 with a `DP…` response code (see `wire`).

mod transactions;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use payrail_engine::money::Currency;

use super::book::Kind;
use super::stats::bump;
use super::tokens::{Audience, bearer};
use super::{Sim, header, json, too_many};
use wire::Envelope;

/// Airtel's country and currency for Rwanda, the only ones simulated.
const COUNTRY: &str = "RW";
const CURRENCY: Currency = Currency::Rwf;

type Sims = State<Arc<Sim>>;

/// An Airtel error reply, small enough to return by value and render late.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reject {
    BadRequest(&'static str),
    Unauthorized,
    TooMany(u64),
    Unavailable,
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        match self {
            Reject::BadRequest(message) => plain(StatusCode::BAD_REQUEST, None, None, message),
            Reject::Unauthorized => plain(
                StatusCode::UNAUTHORIZED,
                None,
                None,
                "Invalid or expired access token",
            ),
            Reject::TooMany(secs) => {
                let envelope = failure(StatusCode::TOO_MANY_REQUESTS, None, "Too many requests");
                too_many(secs, wire::envelope_json(None, envelope))
            }
            Reject::Unavailable => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                None,
                "Service unavailable",
            ),
        }
    }
}

fn failure(status: StatusCode, response_code: Option<String>, message: &str) -> Envelope<'_> {
    Envelope {
        response_code,
        code: status.as_str().to_owned().into(),
        success: false,
        result_code: "ESB000001",
        message,
    }
}

/// A reply without a transaction outcome: `{"data":{…},"status":{…,"success":false}}`.
pub(crate) fn plain(
    status: StatusCode,
    id: Option<&str>,
    response_code: Option<String>,
    message: &str,
) -> Response {
    json(
        status,
        wire::envelope_json(id, failure(status, response_code, message)),
    )
}

pub(crate) fn router() -> Router<Arc<Sim>> {
    let create = |kind| {
        post(move |State(sim): Sims, headers: HeaderMap, body: Bytes| {
            transactions::create(sim, kind, headers, body)
        })
    };
    let enquiry = |kind| {
        get(
            move |State(sim): Sims, Path(id): Path<String>, headers: HeaderMap| {
                transactions::enquiry(sim, kind, headers, id)
            },
        )
    };
    Router::new()
        .route("/auth/oauth2/token", post(token))
        .route("/standard/v2/disbursements/", create(Kind::Transfer))
        .route("/standard/v2/disbursements", create(Kind::Transfer))
        .route("/standard/v2/disbursements/{id}", enquiry(Kind::Transfer))
        .route("/merchant/v1/payments/", create(Kind::Payment))
        .route("/merchant/v1/payments", create(Kind::Payment))
        .route("/standard/v1/payments/{id}", enquiry(Kind::Payment))
}

async fn token(State(sim): Sims, body: Bytes) -> Response {
    bump(&sim.counters.token_airtel);
    let live = sim.live();
    let Ok(request) = serde_json::from_slice::<wire::TokenRequest>(&body) else {
        let body = r#"{"error":"invalid_request","error_description":"Invalid request"}"#;
        return json(StatusCode::BAD_REQUEST, body);
    };
    if request.grant_type != "client_credentials" {
        let body =
            r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type"}"#;
        return json(StatusCode::BAD_REQUEST, body);
    }
    let credentials = &live.profile.airtel_credentials;
    let known = if credentials.is_empty() {
        !request.client_id.is_empty() && !request.client_secret.is_empty()
    } else {
        credentials
            .iter()
            .any(|c| c.client_id == request.client_id && c.client_secret == request.client_secret)
    };
    if !known {
        bump(&sim.counters.unauthorized);
        let body =
            r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#;
        return json(StatusCode::UNAUTHORIZED, body);
    }
    let ttl = live.profile.token_ttl_secs;
    let owner: Arc<str> = format!("airtel:{}", request.client_id).into();
    let issued = sim
        .tokens
        .issue(Audience::Airtel, owner, None, Duration::from_secs(ttl));
    let Some(token) = issued else {
        return Reject::Unavailable.into_response();
    };
    // Airtel's docs show expires_in as a string.
    let body = serde_json::json!({"access_token": token, "expires_in": ttl.to_string(), "token_type": "bearer"});
    json(StatusCode::OK, body.to_string())
}

/// The credential of the call's token, after the country and currency headers.
pub(crate) fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<Arc<str>, Reject> {
    if header(headers, "x-country") != Some(COUNTRY)
        || header(headers, "x-currency") != Some(CURRENCY.code())
    {
        return Err(Reject::BadRequest(
            "X-Country must be RW and X-Currency RWF",
        ));
    }
    let grant = bearer(header(headers, "authorization"))
        .and_then(|token| sim.tokens.check(token, Audience::Airtel));
    match grant {
        Some(grant) => Ok(grant.owner),
        None => {
            bump(&sim.counters.unauthorized);
            Err(Reject::Unauthorized)
        }
    }
}
