//! The OpenAPI 3.1 document, generated from the handlers (utoipa) and served at
//! `/openapi.json`, and the Swagger UI docs page at `/docs`, served from files compiled
//! into the binary so it works without internet.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi as _};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;
use crate::problem::Problem;

mod bodies;
mod filters;
mod links;
mod refusals;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Payrail",
        description = "Payouts, payroll batches and collections over mobile money. Every error is problem+json (RFC 9457); every POST that creates or moves something takes an `Idempotency-Key`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&BearerKeys),
    security(("api_key" = []))
)]
struct Document;

/// Declares the `Authorization: Bearer pr_…` scheme every `/v1` endpoint uses.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("pr_<prefix>_<secret>")
            .description(Some(
                "A merchant's API key; its role decides what it may do.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("api_key", SecurityScheme::Http(scheme));
    }
}

/// The document every endpoint's description is added to.
pub fn base() -> OpenApi {
    Document::openapi()
}

/// The whole document, once every route's operation is in it: each filter gets the names
/// it takes, each created object its links, and each operation the refusals it may answer.
pub fn complete(mut document: OpenApi) -> OpenApi {
    filters::enumerate(&mut document);
    bodies::describe_csv(&mut document);
    links::link(&mut document);
    refusals::Refusals.modify(&mut document);
    document
}

/// `/openapi.json` and `/docs`.
pub fn router(document: OpenApi) -> Router<AppState> {
    SwaggerUi::new("/docs")
        .url("/openapi.json", document)
        .into()
}
