//! Collections (requests to pay, approved by the customer on the phone):
//! `POST /v1/collections` in our shape or LTGS's, `GET /v1/collections/{id}` and
//! `GET /v1/collections`. A new collection is stored `pending` with the fee of the
//! merchant's agreement, then handed to the engine's collector, which sends the request,
//! follows it and records it paid (crediting amount − fee), failed or expired.
//!
//! - `request`: both request shapes, as the application layer takes them
//! - `ltgs`: the LTGS shape and the LTGS names in answers
//! - `view`: a collection in answers

mod ltgs;
mod request;
mod view;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use payrail_engine::app::AppError;
use payrail_engine::app::collections::Collection;
use payrail_engine::app::idempotency::{self as app_idempotency, Answer};
use payrail_engine::ids::CollectionId;
use serde_json::value::RawValue;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::idempotency::{self, required_key};
use crate::json::ApiJson;
use crate::pagination::{Key, Page, PageQuery};
use crate::problem::ApiError;
use crate::query::ApiQuery;
use request::CollectionRequest;
use view::CollectionView;

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
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Box<RawValue>>,
) -> Result<Response, ApiError> {
    let key = required_key(&headers)?;
    let request = CollectionRequest::from_json(&body)?;
    let fingerprint = app_idempotency::fingerprint("POST /v1/collections", &request)?;
    let answered = state
        .app
        .request_payment(
            &caller,
            &request.to_payment_request(),
            Some(&key),
            fingerprint,
            accepted,
        )
        .await?;
    idempotency::respond(answered)
}

/// 202 and the collection, `pending`.
fn accepted(collection: &Collection) -> Result<Answer, AppError> {
    Ok(Answer {
        status: StatusCode::ACCEPTED.as_u16(),
        body: serde_json::to_value(CollectionView::from(collection)).map_err(AppError::internal)?,
    })
}

/// Reads a collection.
#[utoipa::path(get, path = "/v1/collections/{id}", operation_id = "get_collection", tag = "collections",
    params(("id" = String, Path, description = "The collection's id")),
    responses((status = 200, description = "The collection", body = CollectionView), (status = 404, description = "No such collection")))]
async fn show(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CollectionView>, ApiError> {
    let id: CollectionId = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such collection".into()))?;
    let collection = state.app.collection(&caller, id).await?;
    Ok(Json(CollectionView::from(&collection)))
}

/// Lists the merchant's collections, oldest first.
#[utoipa::path(get, path = "/v1/collections", operation_id = "list_collections", tag = "collections", params(PageQuery),
    responses(
        (status = 200, description = "A page of collections (`data`, `next_cursor`)", body = Page<CollectionView>),
        (status = 422, description = "A bad limit or cursor")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<CollectionView>>, ApiError> {
    let bounds = page.bounds()?;
    let after = bounds.after_id()?.map(CollectionId::from_uuid);
    let rows = state
        .app
        .collections(&caller, after, bounds.limit + 1)
        .await?;
    let views = rows.iter().map(CollectionView::from).collect();
    Ok(Json(Page::from_rows(views, &bounds, |view| {
        Key::Id(view.id)
    })))
}
