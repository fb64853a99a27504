//! The MTN adapter's requests checked against MTN's own Swagger files
//! (`adapters/specs/mtn-momo/`): each request matches a documented path and method,
//! carries every required header and the subscription key, and its body validates against
//! the documented schema with no property MTN does not define.

use std::collections::BTreeSet;

use payrail_adapters::mtn::MtnMomo;
use payrail_engine::operator::Operator;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{config, mount_tokens, payment, payout, status_body};

/// MTN documents `basicuserinfo` on its portal, not in these Swagger exports.
const OUTSIDE_THE_FILES: [&str; 1] = ["/basicuserinfo"];

struct Spec {
    base_path: String,
    document: Value,
}

fn specs() -> Vec<Spec> {
    ["disbursements.json", "collection.json"]
        .into_iter()
        .map(|file| {
            let path = format!("{}/specs/mtn-momo/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("the spec file is in the repository");
            let document: Value = serde_json::from_str(&text).expect("the spec is JSON");
            Spec {
                base_path: document["basePath"]
                    .as_str()
                    .expect("a basePath")
                    .to_owned(),
                document,
            }
        })
        .collect()
}

/// A schema for one definition in which every object refuses properties MTN did not define.
fn strict_schema(document: &Value, reference: &str) -> Value {
    let mut definitions = document["definitions"].clone();
    for definition in definitions
        .as_object_mut()
        .expect("definitions")
        .values_mut()
    {
        if definition["type"] == "object" {
            definition["additionalProperties"] = json!(false);
        }
    }
    json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$ref": reference,
        "definitions": definitions,
    })
}

fn template_matches(template: &str, actual: &str) -> bool {
    let (template, actual): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), actual.split('/').collect());
    template.len() == actual.len()
        && template
            .iter()
            .zip(&actual)
            .all(|(t, a)| (t.starts_with('{') && !a.is_empty()) || t == a)
}

/// Checks one request; returns the documented operation it matched ("POST /disbursement/…").
fn check(specs: &[Spec], request: &wiremock::Request) -> Result<Option<String>, String> {
    let actual = request.url.path();
    if OUTSIDE_THE_FILES
        .iter()
        .any(|suffix| actual.ends_with(suffix))
    {
        return Ok(None);
    }
    let verb = request.method.as_str().to_lowercase();
    let (spec, template, operation) = specs
        .iter()
        .filter_map(|spec| Some((spec, actual.strip_prefix(&spec.base_path)?)))
        .flat_map(|(spec, rest)| {
            let verb = verb.as_str();
            let paths = spec.document["paths"].as_object().expect("paths");
            paths.iter().filter_map(move |(template, operations)| {
                let operation = operations.get(verb)?;
                template_matches(template, rest).then_some((spec, template, operation))
            })
        })
        .next()
        .ok_or_else(|| format!("{verb} {actual} is not in MTN's Swagger files"))?;
    let name = format!("{} {}{template}", verb.to_uppercase(), spec.base_path);
    if !request.headers.contains_key("Ocp-Apim-Subscription-Key") {
        return Err(format!("{name}: no Ocp-Apim-Subscription-Key"));
    }
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let header = parameter["name"].as_str().unwrap_or_default();
        match parameter["in"].as_str() {
            Some("header")
                if (parameter["required"] == true || header == "Authorization")
                    && !request.headers.contains_key(header) =>
            {
                return Err(format!("{name}: missing header {header}"));
            }
            Some("body") => {
                let reference = parameter["schema"]["$ref"].as_str().expect("a body schema");
                let body: Value = serde_json::from_slice(&request.body)
                    .map_err(|error| format!("{name}: the body is not JSON: {error}"))?;
                let schema = strict_schema(&spec.document, reference);
                let validator = jsonschema::draft4::new(&schema).expect("a valid schema");
                let errors: Vec<String> = validator
                    .iter_errors(&body)
                    .map(|error| error.to_string())
                    .collect();
                if !errors.is_empty() {
                    return Err(format!(
                        "{name}: {body} does not match {reference}: {errors:?}"
                    ));
                }
            }
            _ => {}
        }
    }
    // The live API refuses an X-Reference-Id (or a referenceId in the path) that is not a
    // UUIDv4, although the files do not say so.
    if let Some(reference) = request.headers.get("X-Reference-Id") {
        let uuid = uuid::Uuid::parse_str(reference.to_str().unwrap_or_default())
            .map_err(|_| format!("{name}: X-Reference-Id is not a UUID"))?;
        if uuid.get_version_num() != 4 {
            return Err(format!("{name}: X-Reference-Id is not a UUIDv4"));
        }
    }
    Ok(Some(name))
}

async fn answer_everything(server: &MockServer) {
    mount_tokens(server, 3_600).await;
    let routes: [(&str, &str, ResponseTemplate); 5] = [
        (
            "POST",
            r"/v1_0/(transfer|requesttopay)$",
            ResponseTemplate::new(202),
        ),
        (
            "GET",
            r"/v1_0/(transfer|requesttopay)/",
            ResponseTemplate::new(200).set_body_json(status_body("SUCCESSFUL")),
        ),
        (
            "GET",
            r"/active$",
            ResponseTemplate::new(200).set_body_json(json!({"result": true})),
        ),
        (
            "GET",
            r"/basicuserinfo$",
            ResponseTemplate::new(200).set_body_json(json!({"name": "A"})),
        ),
        (
            "GET",
            r"/account/balance$",
            ResponseTemplate::new(200)
                .set_body_json(json!({"availableBalance": "10", "currency": "RWF"})),
        ),
    ];
    for (verb, pattern, template) in routes {
        Mock::given(method(verb))
            .and(path_regex(pattern))
            .respond_with(template)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn every_request_the_adapter_makes_conforms_to_mtns_swagger_files() {
    let server = MockServer::start().await;
    answer_everything(&server).await;
    let adapter = MtnMomo::new(config(&server.uri())).expect("an adapter");
    let (transfer, request) = (payout(), payment());
    adapter.send_payout(&transfer).await.expect("sent");
    adapter
        .query_payout(transfer.reference)
        .await
        .expect("queried");
    adapter.request_payment(&request).await.expect("requested");
    adapter
        .query_payment(request.reference)
        .await
        .expect("queried");
    adapter
        .account_holder(&transfer.msisdn)
        .await
        .expect("looked up");
    adapter.balance().await.expect("read");

    let specs = specs();
    let mut covered = BTreeSet::new();
    for received in server.received_requests().await.expect("recorded") {
        match check(&specs, &received) {
            Ok(name) => covered.extend(name),
            Err(problem) => panic!("{problem}"),
        }
    }
    let expected: BTreeSet<String> = [
        "POST /disbursement/token/",
        "POST /disbursement/v1_0/transfer",
        "GET /disbursement/v1_0/transfer/{referenceId}",
        "GET /disbursement/v1_0/accountholder/{accountHolderIdType}/{accountHolderId}/active",
        "GET /disbursement/v1_0/account/balance",
        "POST /collection/token/",
        "POST /collection/v1_0/requesttopay",
        "GET /collection/v1_0/requesttopay/{referenceId}",
    ]
    .map(String::from)
    .into();
    assert_eq!(covered, expected);
}

#[tokio::test]
async fn the_check_refuses_a_body_with_a_property_mtn_does_not_define() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let client = reqwest::Client::new();
    let mut body = json!({
        "amount": "1500", "currency": "RWF", "externalId": "x",
        "payee": {"partyIdType": "MSISDN", "partyId": "250788123456"},
        "payerMessage": "", "payeeNote": "",
    });
    let send = |body: Value| {
        client
            .post(format!("{}/disbursement/v1_0/transfer", server.uri()))
            .header("Authorization", "Bearer t")
            .header("Ocp-Apim-Subscription-Key", "k")
            .header("X-Target-Environment", "mtnrwanda")
            .header("X-Reference-Id", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
    };
    send(body.clone()).await.expect("sent");
    body["payee"]["msisdn"] = json!("250788123456");
    send(body.clone()).await.expect("sent");
    body["payee"] = json!({"partyIdType": "MSISDN", "partyId": "250788123456"});
    body["amount"] = json!(1500);
    send(body).await.expect("sent");

    let specs = specs();
    let results: Vec<bool> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|received| check(&specs, received).is_ok())
        .collect();
    assert_eq!(results, [true, false, false]);
}
