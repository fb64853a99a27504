//! MTN MoMo on MTN's paths: tokens per product, and the checks every call passes (APIM
//! subscription key, bearer token of the right product, `X-Target-Environment`). Errors are
//! MTN's `{"code","message"}`; malformed requests get 400 `BAD_REQUEST`: our convention.

mod accounts;
mod transfers;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use payrail_engine::money::Currency;

use super::profile::Product;
use super::stats::bump;
use super::tokens::{Audience, Grant, bearer};
use super::{Live, Sim, header, json, too_many};
use wire::{ErrorReason, reason_message};

const SUBSCRIPTION_KEY: &str = "ocp-apim-subscription-key";
/// Azure API Management's own 401 messages, which MTN's gateway answers with.
const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const BAD_TOKEN: &str = "Unauthorized. Access token is missing or invalid.";

type Sims = State<Arc<Sim>>;

/// An MTN error reply, small enough to return by value and render late.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reject {
    /// `{"code","message"}` with MTN's message for the code.
    Code(StatusCode, &'static str),
    /// 400 `BAD_REQUEST` with what is wrong.
    BadRequest(&'static str),
    /// APIM's `{"statusCode":401,"message"}`.
    Unauthorized(&'static str),
    /// 429 with Retry-After.
    TooMany(u64),
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        match self {
            Reject::Code(status, code) => error(status, code, reason_message(code)),
            Reject::BadRequest(message) => error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
            Reject::Unauthorized(message) => {
                let body = format!(r#"{{"statusCode":401,"message":"{message}"}}"#);
                json(StatusCode::UNAUTHORIZED, body)
            }
            Reject::TooMany(secs) => {
                let body = format!(
                    r#"{{"code":"TOO_MANY_REQUESTS","message":"Rate limit is exceeded. Try again in {secs} seconds."}}"#
                );
                too_many(secs, body.into_bytes())
            }
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::to_vec(&ErrorReason { code, message }).expect("an error serialises");
    json(status, body)
}

pub(crate) fn router() -> Router<Arc<Sim>> {
    let mut router = Router::new();
    for product in [Product::Disbursement, Product::Collection] {
        let base = format!("/{}", product.path());
        let token_route =
            post(move |State(sim): Sims, headers: HeaderMap| token(sim, product, headers));
        let balance = get(move |State(sim): Sims, headers: HeaderMap| {
            accounts::balance(sim, product, headers)
        });
        let holder = get(
            move |State(sim): Sims,
                  Path(path): Path<(String, String, String)>,
                  headers: HeaderMap| { accounts::holder(sim, product, headers, path) },
        );
        router = router
            .route(&format!("{base}/token/"), token_route.clone())
            .route(&format!("{base}/token"), token_route)
            .route(&format!("{base}/v1_0/account/balance"), balance)
            .route(
                &format!("{base}/v1_0/accountholder/{{id_type}}/{{id}}/{{what}}"),
                holder,
            );
    }
    let create = |product| {
        post(move |State(sim): Sims, headers: HeaderMap, body: Bytes| {
            transfers::create(sim, product, headers, body)
        })
    };
    let status = |product| {
        get(
            move |State(sim): Sims, Path(id): Path<String>, headers: HeaderMap| {
                transfers::status(sim, product, headers, id)
            },
        )
    };
    router
        .route("/disbursement/v1_0/transfer", create(Product::Disbursement))
        .route(
            "/disbursement/v1_0/transfer/{reference}",
            status(Product::Disbursement),
        )
        .route("/collection/v1_0/requesttopay", create(Product::Collection))
        .route(
            "/collection/v1_0/requesttopay/{reference}",
            status(Product::Collection),
        )
}

async fn token(sim: Arc<Sim>, product: Product, headers: HeaderMap) -> Response {
    bump(match product {
        Product::Disbursement => &sim.counters.token_mtn_disbursement,
        Product::Collection => &sim.counters.token_mtn_collection,
    });
    let live = sim.live();
    let Some(key) = header(&headers, SUBSCRIPTION_KEY).filter(|k| !k.is_empty()) else {
        bump(&sim.counters.unauthorized);
        return Reject::Unauthorized(MISSING_KEY).into_response();
    };
    let credentials = &live.profile.mtn_credentials;
    let pinned = !credentials.is_empty();
    let known = basic(header(&headers, "authorization")).filter(|(user, secret)| {
        !pinned
            || credentials.iter().any(|c| {
                c.product == product
                    && c.api_user == *user
                    && c.api_key == *secret
                    && c.subscription_key == key
            })
    });
    let Some((user, _)) = known else {
        bump(&sim.counters.unauthorized);
        return json(StatusCode::UNAUTHORIZED, r#"{"error":"login_failed"}"#);
    };
    let ttl = live.profile.token_ttl_secs;
    let owner: Arc<str> = format!("mtn:{user}").into();
    let subscription_key = pinned.then(|| Arc::from(key));
    let audience = Audience::Mtn(product);
    let ttl_duration = Duration::from_secs(ttl);
    let Some(token) = sim
        .tokens
        .issue(audience, owner, subscription_key, ttl_duration)
    else {
        return Reject::Code(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
            .into_response();
    };
    let body =
        serde_json::json!({"access_token": token, "token_type": "access_token", "expires_in": ttl});
    json(StatusCode::OK, body.to_string())
}

/// `apiUser` and `apiKey` from `Basic base64(apiUser:apiKey)`.
fn basic(value: Option<&str>) -> Option<(String, String)> {
    let (scheme, encoded) = value?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (user, key) = decoded.split_once(':')?;
    (!user.is_empty() && !key.is_empty()).then(|| (user.to_owned(), key.to_owned()))
}

/// The grant of the call's token and the currency of its environment: the checks every
/// MTN call but the token passes.
pub(crate) fn authorize(
    sim: &Sim,
    live: &Live,
    product: Product,
    headers: &HeaderMap,
) -> Result<(Grant, Currency), Reject> {
    let Some(key) = header(headers, SUBSCRIPTION_KEY).filter(|k| !k.is_empty()) else {
        bump(&sim.counters.unauthorized);
        return Err(Reject::Unauthorized(MISSING_KEY));
    };
    let grant = bearer(header(headers, "authorization"))
        .and_then(|token| sim.tokens.check(token, Audience::Mtn(product)))
        .filter(|grant| grant.subscription_key.as_deref().is_none_or(|k| k == key));
    let Some(grant) = grant else {
        bump(&sim.counters.unauthorized);
        return Err(Reject::Unauthorized(BAD_TOKEN));
    };
    let currency = header(headers, "x-target-environment")
        .and_then(|name| live.profile.mtn_environments.get(name))
        .copied()
        .ok_or(Reject::Code(
            StatusCode::BAD_REQUEST,
            "NOT_ALLOWED_TARGET_ENVIRONMENT",
        ))?;
    Ok((grant, currency))
}

/// An MSISDN as MTN takes it: 7 to 15 digits, country code first.
pub(crate) fn is_msisdn(digits: &str) -> bool {
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}
