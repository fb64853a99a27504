//! The refusals every operation may answer, written into the document once rather than on
//! every handler: each 4xx is problem+json (`Problem`), and the statuses that the shared
//! extractors give are listed wherever they apply: 401 (no key), 403 (the key's role),
//! 429 (the key's rate), 400 (a malformed query, header or body), 404 (an id that is not
//! the merchant's), 413 and 415 (a body too large or of another type), 422 (a value not
//! acceptable).

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr};

use crate::problem::PROBLEM_JSON;

/// Adds the refusals to every `/v1` operation.
#[derive(Debug)]
pub struct Refusals;

impl Modify for Refusals {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            for operation in operations(item) {
                add_refusals(operation, path.contains('{'));
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn add_refusals(operation: &mut Operation, names_an_object: bool) {
    let takes = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|parameter| match parameter {
                RefOr::T(parameter) => parameter.parameter_in == place,
                RefOr::Ref(_) => false,
            })
    };
    let (query, header, body) = (
        takes(ParameterIn::Query),
        takes(ParameterIn::Header),
        operation.request_body.is_some(),
    );
    let mut refusals = vec![
        ("401", "No API key, or one that is unknown or revoked"),
        ("403", "This key's role may not do this"),
        (
            "429",
            "Too many requests for this key: retry after `Retry-After` seconds",
        ),
    ];
    if query || header || body {
        refusals.push(("400", "A malformed query string, header or body"));
        refusals.push(("422", "A value is not acceptable; `errors` lists each"));
    }
    if names_an_object {
        refusals.push(("404", "Not found: no such object for this merchant"));
    }
    if body {
        refusals.push(("413", "The body is larger than this endpoint takes"));
        refusals.push((
            "415",
            "The body's Content-Type is not one this endpoint reads",
        ));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in refusals {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && (status.starts_with('4') || status.starts_with('5'))
        {
            as_problem(response, status == "429");
        }
    }
}

/// The refusal's body is a `Problem`, and a 429 says when to retry.
fn as_problem(response: &mut Response, rate_limited: bool) {
    if response.content.is_empty() || response.content.contains_key("application/json") {
        response.content.clear();
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        response
            .content
            .insert(PROBLEM_JSON.to_owned(), RefOr::T(problem));
    }
    if rate_limited {
        let retry_after = HeaderBuilder::new()
            .description(Some("Seconds to wait before the next request"))
            .build();
        response
            .headers
            .insert("Retry-After".to_owned(), RefOr::T(retry_after));
    }
}
