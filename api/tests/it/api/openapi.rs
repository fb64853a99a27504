//! `/openapi.json` is an OpenAPI 3.1 document that validates against the OpenAPI
//! Initiative's schema and lists every `/v1` endpoint; `/docs` serves Swagger UI from
//! files inside the binary, and a headless Chromium renders the document with it.

use serde_json::Value;
use std::process::Command;

use super::harness::{Node, NodeOptions};

/// Every operation the API serves, as `METHOD path`.
const OPERATIONS: &[&str] = &[
    "get /v1/balance",
    "post /v1/payouts",
    "get /v1/payouts/{id}",
    "post /v1/payouts/{id}/cancel",
    "post /v1/batches",
    "get /v1/batches",
    "get /v1/batches/{id}",
    "get /v1/batches/{id}/errors",
    "get /v1/batches/{id}/payouts",
    "post /v1/batches/{id}/approve",
    "post /v1/batches/{id}/cancel",
    "get /v1/settings",
    "put /v1/settings/approval",
    "get /v1/transactions",
    "post /v1/collections",
    "get /v1/collections",
    "get /v1/collections/{id}",
    "get /v1/webhooks",
    "get /v1/webhooks/{id}",
    "post /v1/webhooks/{id}/resend",
    "put /v1/webhook-endpoint",
    "get /v1/webhook-endpoint",
    "delete /v1/webhook-endpoint",
    "post /v1/webhook-endpoint/rotate-secret",
    "put /v1/settings/time-zone",
    "get /v1/statements",
    "get /v1/analytics",
    "get /v1/batches/{id}/statement",
    "post /v1/exports",
    "get /v1/exports",
    "get /v1/exports/{id}",
    "get /v1/exports/{id}/file",
];

async fn node() -> Node {
    Node::with(NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1_and_lists_every_operation() {
    let node = node().await;
    let answer = node
        .call(reqwest::Method::GET, "/openapi.json", None, &[], None)
        .await;
    assert_eq!(answer.status, 200);
    let document = answer.body;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        document["openapi"]
    );
    let schema: Value = serde_json::from_str(include_str!("../../openapi/oas-3.1-schema.json"))
        .expect("the OpenAPI schema");
    let validator = jsonschema::validator_for(&schema).expect("a validator");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the document is not valid OpenAPI 3.1: {errors:#?}"
    );
    for operation in OPERATIONS {
        let (method, path) = operation.split_once(' ').expect("method and path");
        assert!(
            document["paths"][path][method].is_object(),
            "{operation} is not documented"
        );
    }
    assert!(document["components"]["securitySchemes"]["api_key"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_the_api_that_runs() {
    let node = node().await;
    let document = node
        .call(reqwest::Method::GET, "/openapi.json", None, &[], None)
        .await
        .body;
    let mut ids = std::collections::HashSet::new();
    for operation in OPERATIONS {
        let (method, path) = operation.split_once(' ').expect("method and path");
        let described = &document["paths"][path][method];
        let id = described["operationId"].as_str().expect("an operationId");
        assert!(ids.insert(id.to_owned()), "{id} is used twice");
        let responses = described["responses"].as_object().expect("responses");
        for status in ["401", "403", "429"] {
            assert!(responses.contains_key(status), "{operation}: no {status}");
        }
        for (status, response) in responses {
            if status.starts_with('4') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{operation} {status} is not problem+json"
                );
            }
        }
        let parameters = described["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for parameter in &parameters {
            let name = parameter["name"].as_str().expect("a name");
            let place = parameter["in"].as_str().expect("a place");
            let expected = match name {
                "id" => "path",
                "Idempotency-Key" => "header",
                _ => "query",
            };
            assert_eq!(place, expected, "{operation} {name}");
            if name == "limit" {
                assert_eq!(parameter["schema"]["minimum"], 1, "{operation}");
                assert_eq!(parameter["schema"]["maximum"], 500, "{operation}");
            }
            if name == "state" {
                assert!(parameter["schema"]["enum"].is_array(), "{operation}: state");
            }
        }
        let key = parameters.iter().find(|p| p["name"] == "Idempotency-Key");
        if [
            "post /v1/payouts",
            "post /v1/batches",
            "post /v1/collections",
        ]
        .contains(operation)
        {
            assert_eq!(
                key.map(|k| &k["required"]),
                Some(&Value::Bool(true)),
                "{operation} must declare its Idempotency-Key"
            );
        }
        if described.get("requestBody").is_some() {
            assert!(responses.contains_key("415"), "{operation}: no 415");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_refuses_a_broken_document() {
    let schema: Value = serde_json::from_str(include_str!("../../openapi/oas-3.1-schema.json"))
        .expect("the OpenAPI schema");
    let validator = jsonschema::validator_for(&schema).expect("a validator");
    let broken = serde_json::json!({ "openapi": "3.1.0", "paths": { "/v1/x": { "get": { "responses": "none" } } } });
    assert!(
        !validator.is_valid(&broken),
        "no info, responses not an object"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_served_from_the_binary_and_renders_in_a_headless_browser() {
    let node = node().await;
    let page = node
        .call(reqwest::Method::GET, "/docs/", None, &[], None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(page.text.contains(asset), "{asset} is not on the page");
        let served = node
            .call(
                reqwest::Method::GET,
                &format!("/docs/{asset}"),
                None,
                &[],
                None,
            )
            .await;
        assert_eq!(served.status, 200, "{asset}");
    }
    assert!(
        !page.text.contains("https://"),
        "the page loads nothing from the internet"
    );
    let base = node.base.clone();
    let dom = tokio::task::spawn_blocking(move || rendered(&format!("{base}/docs/")))
        .await
        .expect("chromium ran");
    assert!(dom.contains("Payrail"), "the title is not rendered:\n{dom}");
    assert!(
        dom.contains("/v1/batches/{id}/approve"),
        "operations are not rendered"
    );
}

/// The page's DOM after its scripts ran, from headless Chromium (installed by `.ci/run`).
fn rendered(url: &str) -> String {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok())
        .expect("Chromium is installed (bash .ci/run installs it)");
    let profile = tempfile::tempdir().expect("a profile directory");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=10000",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
