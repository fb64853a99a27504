//! Links from what an operation creates to the operations that read or act on it, so that a
//! client (and a fuzzer following them) knows where a new object's `id` goes next.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

/// (creating operation, its success status, the operations that take the new `id`).
const LINKS: [(&str, &str, &str, &[&str]); 3] = [
    ("/v1/payouts", "202", "post", &["get_payout"]),
    (
        "/v1/batches",
        "201",
        "post",
        &[
            "get_batch",
            "list_batch_payouts",
            "list_batch_errors",
            "approve_batch",
            "cancel_batch",
        ],
    ),
    ("/v1/collections", "202", "post", &["get_collection"]),
];

/// Adds every link to its creating operation's success response.
pub fn link(document: &mut OpenApi) {
    for (path, status, method, targets) in LINKS {
        let operation = document
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| match method {
                "post" => item.post.as_mut(),
                _ => None,
            });
        let response =
            operation.and_then(|operation| operation.responses.responses.get_mut(status));
        let Some(RefOr::T(response)) = response else {
            continue;
        };
        for target in targets {
            let link = LinkBuilder::new()
                .operation_id(*target)
                .parameter("id", "$response.body#/id")
                .build();
            response.links.insert((*target).to_owned(), RefOr::T(link));
        }
    }
}
