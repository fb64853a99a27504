//! Bad input that once changed money silently: payroll files read some way their writer
//! did not mean (extra or missing fields, a quote left open, a repeated column, CR line
//! ends), amounts written as JSON numbers, huge fields, a cut report, and refusals that were
//! not problem+json. Each is refused with its reason, or read exactly, and moves nothing.

use payrail_engine::api_key::Role;
use payrail_engine::ids::MerchantId;
use reqwest::Method;
use serde_json::Value;

use super::harness::{Answer, Node, NodeOptions, TestMerchant};

async fn upload(node: &Node, key: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let idempotency = uuid::Uuid::new_v4().to_string();
    node.call(
        Method::POST,
        "/v1/batches",
        Some(key),
        &[
            ("content-type", content_type),
            ("idempotency-key", idempotency.as_str()),
        ],
        Some(body.into()),
    )
    .await
}

/// POSTs `body` exactly as written, so that a JSON number keeps its digits.
async fn post_raw(node: &Node, path: &str, key: &str, body: &str) -> Answer {
    let idempotency = uuid::Uuid::new_v4().to_string();
    node.call(
        Method::POST,
        path,
        Some(key),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", idempotency.as_str()),
        ],
        Some(body.to_owned().into()),
    )
    .await
}

/// What the merchant has stored: batches by state, payout lines, and its available and
/// reserved balance.
async fn stored(node: &Node, merchant: MerchantId) -> (Vec<String>, i64, i64, i64) {
    let client = node.db.client().await;
    let states = client
        .query(
            "SELECT state FROM batches WHERE merchant_id = $1 ORDER BY id",
            &[&merchant],
        )
        .await
        .expect("batches")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let lines: i64 = client
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE merchant_id = $1",
            &[&merchant],
        )
        .await
        .expect("lines")
        .get(0);
    let balance = |kind: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT balance FROM ledger_accounts WHERE merchant_id = $1 AND kind = $2",
                    &[&merchant, &kind],
                )
                .await
                .expect("a balance")
                .get::<_, i64>(0)
        }
    };
    (
        states,
        lines,
        balance("merchant_available").await,
        balance("merchant_reserved").await,
    )
}

fn errors(answer: &Answer) -> Vec<(i64, String, String)> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["line"].as_i64().unwrap_or(0),
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["reason"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A refused file: 422 problem+json, the batch `invalid` with no line kept, the balance
/// untouched.
async fn assert_refused_invalid(node: &Node, merchant: &TestMerchant, answer: &Answer) {
    assert_eq!(
        (answer.status, answer.problem()),
        (422, "batch-invalid"),
        "{}",
        answer.text
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let (states, lines, available, reserved) = stored(node, merchant.id).await;
    assert_eq!(states, ["invalid"]);
    assert_eq!((lines, available, reserved), (0, 1_000_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_and_missing_fields_are_errors_of_their_lines() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let file = "msisdn,amount,name,reference\n0788123456,1,000,Alice,ref-1\n0788123457,500,Bob\n0788123458,700,Carine,ref-3\n";
    let answer = upload(&node, merchant.key(Role::Maker), "text/csv", file.into()).await;
    assert_refused_invalid(&node, &merchant, &answer).await;
    assert_eq!(answer.body["error_count"], 2);
    assert_eq!(
        errors(&answer),
        [
            (2, "line".into(), "5 fields where the header has 4".into()),
            (3, "line".into(), "3 fields where the header has 4".into()),
        ]
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_left_open_is_refused_at_its_line_and_swallows_no_other_line() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let file = "msisdn,amount,name,reference\n0788123456,100,\"Alice,u-1\n0722123456,250000,Bob,u-2\n0788123457,300,Carol,u-3\n";
    let answer = upload(&node, merchant.key(Role::Maker), "text/csv", file.into()).await;
    assert_refused_invalid(&node, &merchant, &answer).await;
    assert_eq!(answer.body["error_count"], 1);
    assert_eq!(
        errors(&answer),
        [(
            2,
            "line".into(),
            "field 3 opens a quote that is not closed on this line".into()
        )]
    );
    // Bob's and Carol's lines were read as lines of their own.
    let id = answer.body["batch_id"].as_str().expect("a batch");
    let batch = node
        .get(&format!("/v1/batches/{id}"), merchant.key(Role::Maker))
        .await;
    assert_eq!(batch.body["line_count"], 3, "{}", batch.text);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_column_refuses_the_header_and_stores_nothing() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let file = "msisdn,amount,amount,reference\n0788123456,100,999999,x\n";
    let answer = upload(&node, merchant.key(Role::Maker), "text/csv", file.into()).await;
    assert_eq!(
        (answer.status, answer.problem()),
        (422, "invalid-request"),
        "{}",
        answer.text
    );
    assert_eq!(answer.body["errors"][0]["field"], "header");
    assert_eq!(
        answer.body["errors"][0]["reason"],
        "the header (line 1): the column \"amount\" appears more than once"
    );
    let (states, lines, available, _) = stored(&node, merchant.id).await;
    assert_eq!((states.len(), lines, available), (0, 0, 1_000_000));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cr_only_line_ends_are_read_as_lines_with_their_numbers() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let file = "msisdn,amount,reference\r0788123456,100,a\r0788123457,100,b\r";
    let answer = upload(&node, merchant.key(Role::Maker), "text/csv", file.into()).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["line_count"], 2);
    let id = answer.body["id"].as_str().expect("a batch");
    let lines = node
        .get(
            &format!("/v1/batches/{id}/payouts"),
            merchant.key(Role::Maker),
        )
        .await;
    let numbers: Vec<i64> = lines.body["data"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|line| line["line"].as_i64())
        .collect();
    assert_eq!(numbers, [2, 3]);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlong_field_is_an_error_of_its_line_and_the_rest_is_read() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let mut file = b"msisdn,amount,name\n0788123456,100,".to_vec();
    file.extend(vec![b'x'; 4 * 1024 * 1024]);
    file.extend_from_slice(b"\n0788123457,100,Bob\n0788123458,abc,Carol\n");
    let answer = upload(&node, merchant.key(Role::Maker), "text/csv", file).await;
    assert_refused_invalid(&node, &merchant, &answer).await;
    assert_eq!(
        errors(&answer),
        [
            (
                2,
                "line".into(),
                "the line is longer than 8192 bytes".into()
            ),
            (
                4,
                "amount".into(),
                "the amount contains 'a' at position 0: only digits and one '.' are allowed".into()
            ),
        ]
    );
    let mut json = br#"{"lines": [{"msisdn": "0788123456", "amount": "100", "name": ""#.to_vec();
    json.extend(vec![b'y'; 4 * 1024 * 1024]);
    json.extend_from_slice(br#""}]}"#);
    let answer = upload(&node, merchant.key(Role::Maker), "application/json", json).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(
        answer.body["errors"][0]["reason"],
        "line 1 is longer than 16384 bytes of JSON"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_number_amounts_are_read_from_their_exact_digits() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let payout = |amount: &str| {
        format!(r#"{{"msisdn": "0788123456", "amount": {amount}, "currency": "RWF"}}"#)
    };
    for refused in [
        "0.99999999999999999",
        "99.9999999999999999",
        "1e3",
        "99999999999999999999",
        "-5",
    ] {
        let answer = post_raw(&node, "/v1/payouts", maker, &payout(refused)).await;
        assert_eq!(
            (answer.status, answer.problem()),
            (422, "invalid-request"),
            "{refused}: {}",
            answer.text
        );
        assert_eq!(answer.body["errors"][0]["field"], "amount", "{refused}");
    }
    let paid = post_raw(&node, "/v1/payouts?wait=5", maker, &payout("1500.00")).await;
    assert_eq!(paid.body["amount"], "1500", "{}", paid.text);
    let collection = |amount: &str| {
        format!(r#"{{"msisdn": "0788123456", "amount": {amount}, "currency": "RWF"}}"#)
    };
    let answer = post_raw(
        &node,
        "/v1/collections",
        maker,
        &collection("0.99999999999999999"),
    )
    .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let ltgs =
        r#"{"Sale_Reference_ID": "s-1", "Phone_Number": "0788123456", "Total_Amount_to_Pay": 1e3}"#;
    let answer = post_raw(&node, "/v1/collections", maker, ltgs).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let batch = r#"{"lines": [{"msisdn": "0788123456", "amount": 99.9999999999999999}]}"#;
    let answer = upload(&node, maker, "application/json", batch.into()).await;
    assert_eq!(answer.problem(), "batch-invalid", "{}", answer.text);
    assert_eq!(answer.body["errors"][0]["field"], "amount");
    let (_, lines, available, reserved) = stored(&node, merchant.id).await;
    assert_eq!(lines, 1, "only the one good payout is stored");
    assert_eq!(available + reserved, 1_000_000 - 1_600);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_report_is_kept_and_paged_line_by_line_and_field_by_field() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let bad = 10_050;
    let mut file = String::from("msisdn,amount\n");
    for _ in 0..bad {
        file.push_str("0252123456,abc\n");
    }
    let answer = upload(&node, maker, "text/csv", file.into_bytes()).await;
    assert_eq!(answer.body["error_count"], bad, "{}", answer.text);
    let id = answer.body["batch_id"].as_str().expect("a batch");
    let csv = node
        .call(
            Method::GET,
            &format!("/v1/batches/{id}/errors?format=csv"),
            Some(maker),
            &[],
            None,
        )
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    // Two errors a line (msisdn and amount), and the header.
    assert_eq!(csv.text.lines().count(), 2 * bad + 1);
    assert!(
        csv.text.ends_with(&format!("{},msisdn,", bad + 1))
            || csv.text.contains(&format!("\n{},msisdn,", bad + 1))
    );
    // One error a page still reaches both errors of a line.
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut path = format!("/v1/batches/{id}/errors?limit=1");
    while seen.len() < 4 {
        let page = node.get(&path, maker).await;
        let error = &page.body["data"][0];
        seen.push((
            error["line"].as_i64().expect("a line"),
            error["field"].as_str().expect("a field").to_owned(),
        ));
        let cursor = page.body["next_cursor"].as_str().expect("more pages");
        path = format!("/v1/batches/{id}/errors?limit=1&cursor={cursor}");
    }
    assert_eq!(
        seen,
        [
            (2, "amount".to_owned()),
            (2, "msisdn".to_owned()),
            (3, "amount".to_owned()),
            (3, "msisdn".to_owned())
        ]
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_problem_json_with_a_type_and_a_detail() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let bad_file = "msisdn,amount\n0788123456,-1\n";
    let answers = [
        upload(&node, maker, "text/csv", bad_file.into()).await,
        node.get("/v1/transactions?limit=abc", maker).await,
        post_raw(&node, "/v1/payouts?wait=-1", maker, "{}").await,
        node.call(Method::DELETE, "/v1/balance", Some(maker), &[], None)
            .await,
        node.call(Method::GET, "/v1/nothing-here", Some(maker), &[], None)
            .await,
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [422, 400, 400, 405, 404]);
    for answer in &answers {
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json"),
            "{}",
            answer.text
        );
        assert!(answer.body["type"].is_string(), "{}", answer.text);
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|detail| !detail.is_empty()),
            "{}",
            answer.text
        );
    }
    assert_eq!(answers[1].problem(), "invalid-query");
    assert!(
        answers[1].body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("limit")),
        "{}",
        answers[1].text
    );
    assert_eq!(answers[3].problem(), "method-not-allowed");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_ones_scheme_case_empty_urls_request_ids_and_headers() {
    let node = Node::with(NodeOptions {
        state: super::webhooks::allow_loopback,
        ..NodeOptions::default()
    })
    .await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let lower = node
        .call(
            Method::GET,
            "/v1/balance",
            None,
            &[("authorization", &format!("bearer {maker}"))],
            None,
        )
        .await;
    assert_eq!(lower.status, 200, "{}", lower.text);
    assert_eq!(lower.header("x-content-type-options"), Some("nosniff"));
    let empty_url =
        r#"{"msisdn": "0788123456", "amount": "100", "currency": "RWF", "callback_url": ""}"#;
    let answer = post_raw(&node, "/v1/collections", maker, empty_url).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(answer.body["errors"][0]["field"], "callback_url");
    let long_id = "r".repeat(500);
    for sent in [long_id.as_str(), "bad id/with spaces", "fine-id_1.2"] {
        let answer = node
            .call(
                Method::GET,
                "/healthz",
                None,
                &[("x-request-id", sent)],
                None,
            )
            .await;
        let echoed = answer.header("x-request-id").expect("a request id");
        if sent == "fine-id_1.2" {
            assert_eq!(echoed, sent);
        } else {
            assert_ne!(echoed, sent);
            assert!(echoed.len() <= 64, "{echoed}");
        }
    }
    let endpoint = node
        .call(
            Method::PUT,
            "/v1/webhook-endpoint",
            Some(merchant.key(Role::Admin)),
            &[("content-type", "application/json")],
            Some(r#"{"url": "http://127.0.0.1:9/hooks"}"#.into()),
        )
        .await;
    assert_eq!(
        endpoint.header("cache-control"),
        Some("no-store"),
        "{}",
        endpoint.text
    );
    let docs = node.call(Method::GET, "/docs/", None, &[], None).await;
    assert!(docs.header("content-security-policy").is_some());
    assert_eq!(docs.header("x-frame-options"), Some("DENY"));
    node.stop().await;
}

/// The server log's length now, to read what a test adds to it.
fn log_mark() -> usize {
    payrail_engine::testing::server_log().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_leaves_no_aborted_copy_in_the_server_log() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let mark = log_mark();
    let bad_late = "msisdn,amount\n0788123456,100\n0788123457,100\n0788123458,x\n";
    let answer = upload(&node, maker, "text/csv", bad_late.into()).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let not_utf8 = b"msisdn,amount,name\n0788123456,100,Al\n0788123457,100,Ren\xE9\n".to_vec();
    let answer = upload(&node, maker, "text/csv", not_utf8).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let log = payrail_engine::testing::server_log();
    let added = &log[mark.min(log.len())..];
    assert!(!added.contains("COPY from stdin failed"), "{added}");
    let value: Value = serde_json::from_str(&answer.text).expect("problem+json");
    assert_eq!(value["type"], "https://payrail.dev/problems/csv-not-utf8");
    node.stop().await;
}
