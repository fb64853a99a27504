//! What the document cannot derive from a Rust type: a payroll CSV is text without NUL
//! bytes (a NUL is how a UTF-16 file shows itself, and such a file is refused as a whole).

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr};

/// A string without NUL, as JSON Schema writes it.
const WITHOUT_NUL: &str = "^[^\\u0000]*$";

/// Sets the schema of the CSV body of `POST /v1/batches`.
pub fn describe_csv(document: &mut OpenApi) {
    let body = document
        .paths
        .paths
        .get_mut("/v1/batches")
        .and_then(|item| item.post.as_mut())
        .and_then(|operation| operation.request_body.as_mut());
    let Some(RefOr::T(body)) = body else {
        return;
    };
    if let Some(RefOr::T(csv)) = body.content.get_mut("text/csv") {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(WITHOUT_NUL))
            .build();
        csv.schema = Some(RefOr::T(schema.into()));
    }
}
