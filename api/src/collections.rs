//! Collections (requests to pay, approved by the customer on the phone):
//! `POST /v1/collections` in our shape or LTGS's, `GET /v1/collections/{id}` and
//! `GET /v1/collections`. A new collection is stored `pending` with the fee of the
//! merchant's agreement, then handed to the engine's collector, which sends the request,
//! follows it and records it paid (crediting amount − fee), failed or expired.
//!
//! - `request`: both request shapes and their checks
//! - `ltgs`: the LTGS shape and the LTGS names in answers
//! - `view`: a collection in answers
//! - `channel`: the payment channel ("MTN MoMo") of each route

mod channel;
mod ltgs;
mod request;
mod view;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use deadpool_postgres::Transaction;
use jiff::{SignedDuration, Timestamp};
use payrail_actors::Collector;
use payrail_engine::api_key::Role;
use payrail_engine::ids::{CollectionId, MerchantId};
use payrail_engine::store::collections::{self, CreateCollectionError, NewCollection};
use payrail_engine::store::{StoreError, merchants};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use channel::PaymentChannels;

use crate::AppState;
use crate::extract::Caller;
use crate::idempotency::{self, KeyRule};
use crate::json::ApiJson;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use request::{Checked, CollectionRequest, Rules};
use view::CollectionView;

/// How long a payer has to approve before a collection still pending expires.
const APPROVAL_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// What collections need from the node.
#[derive(Clone, Debug, Default)]
pub struct CollectionsSetup {
    /// Sends a new collection's request at once; `None` without an engine in this process
    /// (an engine elsewhere finds it pending at its next sweep).
    pub collector: Option<Collector>,
    /// Each route's payment channel.
    pub channels: PaymentChannels,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
}

/// Asks a customer to approve a payment on the phone.
///
/// Takes our shape (`msisdn`, `amount`, `currency`, …) or LTGS's (`Sale_Reference_ID`,
/// `Phone_Number`, `Total_Amount_to_Pay`, `Callback_URL`, …), told apart by
/// `Sale_Reference_ID`. Answers 202: the collection is `pending` until the customer
/// approves (`paid`), refuses (`failed`) or lets it lapse (`expired`).
#[utoipa::path(post, path = "/v1/collections", operation_id = "create_collection", tag = "collections", params(("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "A key of yours, unique per request (a UUID is a good one): a retry with the same key and body gets the first answer, never a second payment")),
    request_body = CollectionRequest,
    responses(
        (status = 202, description = "Accepted: the request to pay is on its way", body = CollectionView),
        (status = 400, description = "No Idempotency-Key, or malformed JSON"),
        (status = 409, description = "The reference is already used, or a request with this Idempotency-Key is still running"),
        (status = 422, description = "A field is not acceptable; `errors` lists each")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Box<RawValue>>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Maker])?;
    let key = idempotency::key_of(&headers, KeyRule::Required)?;
    let request = CollectionRequest::from_json(&body)?;
    let merchant = {
        let client = state.pool.get().await.map_err(ApiError::internal)?;
        merchants::get(&client, caller.merchant)
            .await
            .map_err(ApiError::internal)?
    };
    let rules = Rules {
        country: state.settings.country,
        routes: &state.settings.routes,
        currency: merchant.currency,
        urls: &state.settings.urls,
    };
    let Checked {
        msisdn,
        route,
        amount,
        client_reference,
        payer_message,
        callback_url,
        ltgs,
    } = request.check(rules).await?;
    let new = NewCollection {
        id: CollectionId::new(),
        merchant: merchant.id,
        payment_channel: state.collections.channels.of(&route),
        currency: merchant.currency,
        created_by: Some(caller.key),
        expires_at: Timestamp::now() + APPROVAL_WINDOW,
        msisdn,
        route,
        amount,
        client_reference,
        payer_message,
        callback_url,
        ltgs,
    };
    let fingerprint = idempotency::fingerprint("POST /v1/collections", &request)?;
    let mut stored = false;
    let response = idempotency::once(&state.pool, merchant.id, key, fingerprint, async |tx| {
        let answer = store(tx, &new).await?;
        stored = true;
        Ok(answer)
    })
    .await?;
    if stored
        && let Some(collector) = &state.collections.collector
        && let Err(error) = collector.collect(merchant.id, new.id)
    {
        // The collector's sweep picks it up anyway.
        tracing::warn!(%error, collection_id = %new.id, "the engine did not take the collection at once");
    }
    Ok(response)
}

/// Stores a checked collection in the request's transaction: 202 and its view.
async fn store(tx: &Transaction<'_>, new: &NewCollection) -> Result<(StatusCode, Value), ApiError> {
    if let Some(reference) = &new.client_reference {
        match collections::by_client_reference(tx, new.merchant, reference).await {
            Ok(existing) => return Err(reference_in_use(reference, Some(existing.id))),
            Err(StoreError::NotFound { .. }) => {}
            Err(error) => return Err(ApiError::internal(error)),
        }
    }
    let collection = collections::insert(tx, new)
        .await
        .map_err(|error| match error {
            CreateCollectionError::DuplicateReference(reference) => {
                reference_in_use(&reference, None)
            }
            CreateCollectionError::WrongCurrency { merchant, .. } => ApiError::invalid_field(
                "currency",
                format!("this merchant collects in {}", merchant.code()),
            ),
            CreateCollectionError::ZeroAmount => {
                ApiError::invalid_field("amount", "the amount must be positive")
            }
            CreateCollectionError::Store(error) => ApiError::internal(error),
        })?;
    let body =
        serde_json::to_value(CollectionView::from(&collection)).map_err(ApiError::internal)?;
    Ok((StatusCode::ACCEPTED, body))
}

fn reference_in_use(reference: &str, existing: Option<CollectionId>) -> ApiError {
    ApiError::Conflict {
        name: "reference-in-use",
        detail: format!(
            "the reference {reference:?} is already used by another collection; use a new reference for a new collection"
        ),
        link: existing.map(|id| format!("/v1/collections/{id}")),
    }
}

/// Reads a collection.
#[utoipa::path(get, path = "/v1/collections/{id}", operation_id = "get_collection", tag = "collections",
    params(("id" = String, Path, description = "The collection's id")),
    responses((status = 200, description = "The collection", body = CollectionView), (status = 404, description = "No such collection")))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CollectionView>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let id: CollectionId = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such collection"))?;
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let collection = read(&client, caller.merchant, id).await?;
    Ok(Json(CollectionView::from(&collection)))
}

async fn read(
    client: &impl deadpool_postgres::GenericClient,
    merchant: MerchantId,
    id: CollectionId,
) -> Result<collections::Collection, ApiError> {
    collections::get(client, merchant, id)
        .await
        .map_err(|error| match error {
            StoreError::NotFound { .. } => ApiError::NotFound("no such collection"),
            other => ApiError::internal(other),
        })
}

/// Lists the merchant's collections, oldest first.
#[utoipa::path(get, path = "/v1/collections", operation_id = "list_collections", tag = "collections", params(PageQuery),
    responses(
        (status = 200, description = "A page of collections (`data`, `next_cursor`)", body = Page<CollectionView>),
        (status = 422, description = "A bad limit or cursor")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<CollectionView>>, ApiError> {
    caller.require(&[Role::Viewer, Role::Maker, Role::Checker])?;
    let bounds = page.bounds()?;
    let after = bounds.after_id()?.map(CollectionId::from_uuid);
    let client = state.pool.get().await.map_err(ApiError::internal)?;
    let rows = collections::list(&client, caller.merchant, after, bounds.limit + 1)
        .await
        .map_err(ApiError::internal)?;
    let views = rows.iter().map(CollectionView::from).collect();
    Ok(Json(Page::from_rows(views, &bounds, |view| {
        Key::Id(view.id)
    })))
}
