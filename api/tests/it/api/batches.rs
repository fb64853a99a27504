//! `POST /v1/batches` with CSV and JSON, the per-line report of a bad file, files that are
//! not UTF-8, the same file twice, one batch for fifty parallel retries, four-eyes
//! approval, cancellation, and another merchant's batch as a 404 everywhere.

use std::time::Duration;

use payrail_engine::api_key::Role;
use payrail_engine::ids::{BatchId, MerchantId, NodeId};
use payrail_engine::ledger;
use payrail_engine::store::{batches, cluster, migrations};
use reqwest::Method;
use serde_json::{Value, json};

use super::harness::{Answer, Node, NodeOptions, TestMerchant};

async fn upload_csv(
    node: &Node,
    key: &str,
    idempotency: &str,
    csv: Vec<u8>,
    query: &str,
) -> Answer {
    node.call(
        Method::POST,
        &format!("/v1/batches{query}"),
        Some(key),
        &[
            ("content-type", "text/csv"),
            ("idempotency-key", idempotency),
        ],
        Some(csv.into()),
    )
    .await
}

fn csv_of(lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("msisdn,amount,name,reference\r\n");
    for line in lines {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.into_bytes()
}

async fn batch_count(node: &Node) -> i64 {
    node.db
        .client()
        .await
        .query_one("SELECT count(*) FROM batches", &[])
        .await
        .expect("count")
        .get(0)
}

fn done(body: &Value) -> bool {
    matches!(
        body["state"].as_str(),
        Some("completed" | "completed_with_failures")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_payroll_with_bom_crlf_and_quotes_is_paid_line_by_line() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let mut csv = vec![0xEF, 0xBB, 0xBF];
    csv.extend(csv_of(&[
        "0788123456,1500,\"Uwase, Alice\",jan-1",
        "+250722123456,2500,\"Bob \"\"the builder\"\"\",jan-2",
        "250788123457,1000,Carine,jan-3",
    ]));
    let created = upload_csv(&node, maker, "payroll-jan", csv, "").await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["state"], "scheduled");
    assert_eq!(created.body["line_count"], 3);
    assert_eq!(created.body["total_amount"], "5000");
    assert_eq!(created.body["total_fee"], "300");
    let path = format!(
        "/v1/batches/{}",
        created.body["id"].as_str().expect("an id")
    );
    let finished = node
        .wait_for(&path, maker, Duration::from_secs(15), done)
        .await;
    assert_eq!(finished["state"], "completed", "{finished}");
    assert_eq!(finished["lines"]["succeeded"]["lines"], 3);
    let page = node
        .get(
            &format!("{path}/payouts?limit=2"),
            merchant.key(Role::Viewer),
        )
        .await;
    assert_eq!(page.body["data"][0]["name"], "Uwase, Alice");
    assert_eq!(page.body["data"][1]["name"], "Bob \"the builder\"");
    let cursor = page.body["next_cursor"].as_str().expect("a second page");
    let rest = node
        .get(&format!("{path}/payouts?limit=2&cursor={cursor}"), maker)
        .await;
    assert_eq!(rest.body["data"][0]["line"], 4, "{}", rest.text);
    assert!(rest.body["next_cursor"].is_null());
    let filtered = node
        .get(&format!("{path}/payouts?reference=jan-2"), maker)
        .await;
    assert_eq!(filtered.body["data"].as_array().map(Vec::len), Some(1));
    let report = ledger::audit(&node.db.client().await).await.expect("audit");
    assert!(report.is_sound(), "{report:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_with_bad_lines_pays_nothing_and_reports_each_line_number() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let csv = csv_of(&[
        "0788123456,1500,\"Alice\nUwase\",a",
        "0788123457,12.50,Bob,b",
        "0252123456,100,Carine,c",
        "0788123458,100,Dan,a",
    ]);
    let refused = upload_csv(&node, maker, "bad-file", csv, "").await;
    assert_eq!(
        (refused.status, refused.problem()),
        (422, "batch-invalid"),
        "{}",
        refused.text
    );
    assert_eq!(refused.body["error_count"], 4);
    let lines: Vec<(i64, &str)> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().expect("a line"),
                e["field"].as_str().expect("a field"),
            )
        })
        .collect();
    // A quoted field ends on its own line: the quote opened on line 2 is refused there,
    // and line 3 starts with the rest of it. Line 6 reuses the reference of line 2, which
    // was never read as a payout, so it is not a duplicate.
    assert_eq!(
        lines,
        [(2, "line"), (3, "line"), (4, "amount"), (5, "msisdn")]
    );
    let id = refused.body["batch_id"].as_str().expect("the batch");
    let batch = node.get(&format!("/v1/batches/{id}"), maker).await;
    assert_eq!(batch.body["state"], "invalid");
    let report = node.get(&format!("/v1/batches/{id}/errors"), maker).await;
    assert_eq!(report.body["data"].as_array().map(Vec::len), Some(4));
    let csv_report = node
        .call(
            Method::GET,
            &format!("/v1/batches/{id}/errors?format=csv"),
            Some(maker),
            &[],
            None,
        )
        .await;
    assert!(
        csv_report
            .text
            .starts_with("line,field,reason\n2,line,field 3 opens a quote"),
        "{}",
        csv_report.text
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["available"]["minor"], 1_000_000);
    assert_eq!(balance.body["reserved"]["minor"], 0);
    let simulator = node.simulator.as_ref().expect("a simulator");
    assert_eq!(simulator.executions().payouts, 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_utf8_are_refused_with_a_clear_reason() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let latin1 = b"msisdn,amount,name\n0788123456,1500,Ren\xe9e\n".to_vec();
    let answer = upload_csv(&node, maker, "latin1", latin1, "").await;
    assert_eq!(
        (answer.status, answer.problem()),
        (400, "csv-not-utf8"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("line 2") && answer.text.contains("Latin-1"),
        "{}",
        answer.text
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "msisdn,amount\n0788123456,1500\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let answer = upload_csv(&node, maker, "utf16", utf16, "").await;
    assert_eq!((answer.status, answer.problem()), (400, "csv-not-utf8"));
    assert!(answer.text.contains("UTF-16"), "{}", answer.text);
    let no_header = upload_csv(&node, maker, "no-header", b"0788123456,1500\n".to_vec(), "").await;
    assert_eq!(no_header.status, 422, "{}", no_header.text);
    assert_eq!(batch_count(&node).await, 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_twice_is_refused_unless_intended() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let csv = csv_of(&["0788123456,1500,Alice,a"]);
    let first = upload_csv(&node, maker, "first", csv.clone(), "").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = upload_csv(&node, maker, "second", csv.clone(), "").await;
    assert_eq!(
        (again.status, again.problem()),
        (409, "duplicate-file"),
        "{}",
        again.text
    );
    let link = format!("/v1/batches/{}", first.body["id"].as_str().expect("an id"));
    assert_eq!(again.body["link"], link.as_str());
    let intended = upload_csv(&node, maker, "third", csv, "?allow_duplicate=true").await;
    assert_eq!(intended.status, 201, "{}", intended.text);
    assert_eq!(batch_count(&node).await, 2);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_uploads_with_one_idempotency_key_make_one_batch() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker).to_owned();
    let csv = csv_of(&["0788123456,1500,Alice,a", "0788123457,1500,Bob,b"]);
    let uploads = (0..50).map(|_| upload_csv(&node, &maker, "one-key", csv.clone(), ""));
    let answers = futures_util::future::join_all(uploads).await;
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert!(!created.is_empty());
    assert!(
        answers.iter().all(|a| a.status == 201 || a.status == 409),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        created
            .iter()
            .all(|a| a.body["id"] == created[0].body["id"])
    );
    assert_eq!(batch_count(&node).await, 1);
    let other_body = upload_csv(&node, &maker, "one-key", csv_of(&["0788123456,9,Z,z"]), "").await;
    assert_eq!(other_body.status, 422, "{}", other_body.text);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_batch_is_read_like_a_csv_one() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let body = json!({ "lines": [
        { "msisdn": "0788123456", "amount": "1500", "reference": "x-1" },
        { "msisdn": "0722123456", "amount": 2500, "name": "Bob" },
    ]});
    let created = node.post_json("/v1/batches", maker, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["total_amount"], "4000");
    let bad = json!({ "lines": [{ "msisdn": "0788123456", "amount": "-1" }] });
    let refused = node.post_json("/v1/batches", maker, &bad).await;
    assert_eq!((refused.status, refused.problem()), (422, "batch-invalid"));
    assert_eq!(refused.body["errors"][0]["line"], 1);
    let unknown = node
        .post_json(
            "/v1/batches",
            maker,
            &json!({ "lines": [], "priority": "high" }),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    node.stop().await;
}

async fn awaiting_approval(node: &Node) -> (TestMerchant, String) {
    let merchant = node.merchant_with("1000000", Some("0")).await;
    let csv = csv_of(&["0788123456,1500,Alice,a", "0722123456,500,Bob,b"]);
    let created = upload_csv(node, merchant.key(Role::Maker), "needs-approval", csv, "").await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["state"], "awaiting_approval");
    let id = created.body["id"].as_str().expect("an id").to_owned();
    (merchant, id)
}

async fn post(node: &Node, path: &str, key: &str) -> Answer {
    node.call(Method::POST, path, Some(key), &[], None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_needing_approval_waits_for_a_second_person() {
    let node = Node::start().await;
    let (merchant, id) = awaiting_approval(&node).await;
    let path = format!("/v1/batches/{id}");
    let by_maker = post(&node, &format!("{path}/approve"), merchant.key(Role::Maker)).await;
    assert_eq!(
        (by_maker.status, by_maker.problem()),
        (403, "role-not-allowed")
    );
    let by_checker = post(
        &node,
        &format!("{path}/approve"),
        merchant.key(Role::Checker),
    )
    .await;
    assert_eq!(by_checker.status, 200, "{}", by_checker.text);
    assert_eq!(by_checker.body["state"], "scheduled");
    assert!(by_checker.body["approved_by"].is_string());
    assert_ne!(
        by_checker.body["approved_by"],
        by_checker.body["created_by"]
    );
    let twice = post(
        &node,
        &format!("{path}/approve"),
        merchant.key(Role::Checker),
    )
    .await;
    assert_eq!((twice.status, twice.problem()), (409, "batch-state"));
    let finished = node
        .wait_for(
            &path,
            merchant.key(Role::Viewer),
            Duration::from_secs(15),
            done,
        )
        .await;
    assert_eq!(finished["state"], "completed");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_that_created_a_batch_cannot_approve_it_even_as_admin() {
    let node = Node::start().await;
    let merchant = node.merchant_with("1000000", Some("0")).await;
    let admin = merchant.key(Role::Admin);
    let created = upload_csv(&node, admin, "own", csv_of(&["0788123456,1500,A,a"]), "").await;
    let id = created.body["id"].as_str().expect("an id");
    let own = post(&node, &format!("/v1/batches/{id}/approve"), admin).await;
    assert_eq!(own.status, 403, "{}", own.text);
    assert!(
        own.text.contains("other than the one that created"),
        "{}",
        own.text
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_unsent_lines_and_returns_their_funds() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..Default::default()
    })
    .await;
    let (merchant, id) = awaiting_approval(&node).await;
    let approved = post(
        &node,
        &format!("/v1/batches/{id}/approve"),
        merchant.key(Role::Checker),
    )
    .await;
    assert_eq!(approved.status, 200);
    // No engine runs here: start the batch by hand, as a node would, so its total is
    // reserved.
    let batch: BatchId = id.parse().expect("an id");
    let mut client = node.db.client().await;
    let by_hand = NodeId::new();
    let lease = Duration::from_secs(60);
    cluster::join(
        &mut client,
        by_hand,
        "by-hand",
        migrations::latest_version(),
        lease,
    )
    .await
    .expect("joined");
    let tx = client.transaction().await.expect("a transaction");
    batches::start(&tx, by_hand, merchant.id, batch)
        .await
        .expect("started");
    tx.commit().await.expect("committed");
    let maker = merchant.key(Role::Maker);
    let reserved = node.get("/v1/balance", maker).await;
    assert_eq!(reserved.body["reserved"]["minor"], 2_200);
    let cancelled = post(&node, &format!("/v1/batches/{id}/cancel"), maker).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["state"], "cancelled");
    assert_eq!(cancelled.body["lines"]["cancelled"]["lines"], 2);
    assert!(cancelled.body["cancelled_by"].is_string());
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["available"]["minor"], 1_000_000);
    assert_eq!(balance.body["reserved"]["minor"], 0);
    let again = post(&node, &format!("/v1/batches/{id}/cancel"), maker).await;
    assert_eq!((again.status, again.problem()), (409, "batch-state"));
    let report = ledger::audit(&node.db.client().await).await.expect("audit");
    assert!(report.is_sound(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_merchants_batch_is_not_found_on_every_endpoint_and_action() {
    let node = Node::start().await;
    let (a, id) = awaiting_approval(&node).await;
    let b = node.merchant("1000").await;
    let _: MerchantId = a.id;
    for path in ["", "/errors", "/payouts"] {
        let answer = node
            .get(&format!("/v1/batches/{id}{path}"), b.key(Role::Admin))
            .await;
        assert_eq!(
            (answer.status, answer.problem()),
            (404, "not-found"),
            "{path}"
        );
    }
    for action in ["approve", "cancel"] {
        let answer = post(
            &node,
            &format!("/v1/batches/{id}/{action}"),
            b.key(Role::Admin),
        )
        .await;
        assert_eq!(
            (answer.status, answer.problem()),
            (404, "not-found"),
            "{action}"
        );
    }
    let listed = node.get("/v1/batches", b.key(Role::Viewer)).await;
    assert_eq!(listed.body["data"], json!([]));
    let viewer = upload_csv(
        &node,
        a.key(Role::Viewer),
        "v",
        csv_of(&["0788123456,1,A,a"]),
        "",
    )
    .await;
    assert_eq!(viewer.status, 403);
    let anonymous = node.call(Method::GET, "/v1/batches", None, &[], None).await;
    assert_eq!(anonymous.status, 401);
    node.stop().await;
}
