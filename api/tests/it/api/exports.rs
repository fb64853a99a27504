//! Background exports: asked for, made by the runner (as a node's runner would), listed,
//! downloaded by their merchant only, announced by an `export.ready` webhook, retried after
//! a node died holding one, given up after three attempts, and removed when they expire;
//! a report too large to answer at once points to them.

use payrail_engine::api_key::Role;
use serde_json::json;
use sha2::Digest;

use super::harness::Node;
use super::readback::{csv_records, download};
use super::reports::{days, history};

async fn count(node: &Node, sql: &str) -> i64 {
    node.db
        .client()
        .await
        .query_one(sql, &[])
        .await
        .expect("count")
        .get(0)
}

/// Makes the oldest waiting export, as a node's runner would; it must end `ready`.
async fn make_next_export(node: &Node) -> payrail_engine::app::exports::Export {
    let made = node
        .app
        .run_next_export()
        .await
        .expect("made")
        .expect("one");
    assert_eq!(made.state, "ready", "{:?}", made.failure);
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_made_in_the_background_and_downloaded_by_its_merchant_only() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let other = node.merchant("1000").await;
    let viewer = merchant.key(Role::Viewer);
    node.db
        .client()
        .await
        .execute(
            "UPDATE merchants SET webhook_url = 'https://example.com/hooks' WHERE id = $1",
            &[&merchant.id],
        )
        .await
        .expect("an endpoint");
    let (from, to) = days();
    let request = json!({
        "report": { "report": "statement", "from": from, "to": to },
        "format": "csv",
    });
    let asked = node.post_json("/v1/exports", viewer, &request).await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    assert_eq!(asked.body["state"], "queued");
    let id = asked.body["id"].as_str().expect("an id").to_owned();
    let path = format!("/v1/exports/{id}");
    let early = node.get(&format!("{path}/file"), viewer).await;
    assert_eq!((early.status, early.problem()), (409, "export-state"));

    make_next_export(&node).await;
    let ready = node.get(&path, viewer).await;
    assert_eq!(ready.body["state"], "ready", "{}", ready.text);
    assert_eq!(
        ready.body["rows"], 6,
        "opening, funding, three payouts, closing"
    );
    let link = ready.body["download_url"]
        .as_str()
        .expect("a link")
        .to_owned();
    let (status, _, file) = download(&node, &link, viewer, None).await;
    assert_eq!(status, 200);
    let (_, _, direct) = download(
        &node,
        &format!("/v1/statements?from={from}&to={to}&format=csv"),
        viewer,
        None,
    )
    .await;
    assert_eq!(
        csv_records(&file),
        csv_records(&direct),
        "the same statement"
    );
    assert_eq!(
        count(
            &node,
            "SELECT count(*) FROM webhook_events WHERE event_type = 'export.ready'"
        )
        .await,
        1
    );
    let listed = node.get("/v1/exports", viewer).await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    let stranger = other.key(Role::Admin);
    assert_eq!(node.get(&path, stranger).await.status, 404);
    assert_eq!(node.get(&link, stranger).await.status, 404);
    assert_eq!(
        node.get("/v1/exports", stranger).await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    node.db
        .client()
        .await
        .execute(
            "UPDATE exports SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .expect("age it");
    assert_eq!(node.app.expire_exports().await.expect("expired"), 1);
    assert_eq!(node.get(&path, viewer).await.body["state"], "expired");
    assert_eq!(node.get(&link, viewer).await.status, 409);
    assert_eq!(count(&node, "SELECT count(*) FROM export_chunks").await, 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_left_by_a_dead_node_is_made_again_and_one_that_keeps_failing_is_given_up() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let viewer = merchant.key(Role::Viewer);
    let (from, to) = days();
    let request = json!({
        "report": { "report": "transactions", "filters": { "from": from, "to": to } },
        "format": "xlsx",
    });
    let first = node.post_json("/v1/exports", viewer, &request).await;
    let second = node.post_json("/v1/exports", viewer, &request).await;
    let client = node.db.client().await;
    // A node claimed the first and died: its lease ran out with no file written.
    client
        .execute(
            "UPDATE exports SET state = 'running', attempts = 1,
                    lease_until = now() - interval '1 second' WHERE id = $1::text::uuid",
            &[&first.body["id"].as_str()],
        )
        .await
        .expect("a dead node's claim");
    // The second broke three times already.
    client
        .execute(
            "UPDATE exports SET state = 'running', attempts = 3,
                    lease_until = now() - interval '1 second' WHERE id = $1::text::uuid",
            &[&second.body["id"].as_str()],
        )
        .await
        .expect("three attempts");
    let mut ended = Vec::new();
    while let Some(export) = node.app.run_next_export().await.expect("a run") {
        ended.push((
            export.id.to_string(),
            export.state,
            export.attempts,
            export.failure,
        ));
    }
    ended.sort();
    let mut expected = vec![
        (
            first.body["id"].as_str().expect("id").to_owned(),
            "ready".to_owned(),
            2,
            None,
        ),
        (
            second.body["id"].as_str().expect("id").to_owned(),
            "failed".to_owned(),
            4,
            Some("given up after 3 attempts".to_owned()),
        ),
    ];
    expected.sort();
    assert_eq!(ended, expected);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_too_large_to_answer_at_once_points_to_an_export() {
    let node = Node::start().await;
    let merchant = node.merchant("1000").await;
    let client = node.db.client().await;
    client
        .execute(
            "INSERT INTO batches (id, merchant_id, state, currency) VALUES ($2, $1, 'completed', 'RWF')",
            &[&merchant.id, &uuid::Uuid::now_v7()],
        )
        .await
        .expect("a batch");
    client
        .execute(
            "INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route, state)
             SELECT gen_random_uuid(), $1, (SELECT id FROM batches WHERE merchant_id = $1), g,
                    '250788123456', 100, 10, 'mtn-rw', 'succeeded'
               FROM generate_series(1, 10001) AS g",
            &[&merchant.id],
        )
        .await
        .expect("lines");
    let viewer = merchant.key(Role::Viewer);
    let refused = node.get("/v1/transactions?format=csv", viewer).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["field"], "format");
    assert!(
        refused.text.contains("POST /v1/exports"),
        "{}",
        refused.text
    );
    let bad = node
        .post_json(
            "/v1/exports",
            viewer,
            &json!({ "report": { "report": "statement", "from": "2026-12-01", "to": "2026-11-01" }, "format": "pdf" }),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["field"].as_str()),
        (422, Some("to"))
    );
    let unknown = node
        .post_json(
            "/v1/exports",
            viewer,
            &json!({ "report": { "report": "statement", "from": "2026-11-01", "to": "2026-11-02" }, "format": "docx" }),
        )
        .await;
    assert_eq!(unknown.status, 422);

    // The export it points to: a file of more than one chunk, whole and in order.
    let asked = node
        .post_json(
            "/v1/exports",
            viewer,
            &json!({ "report": { "report": "transactions", "filters": {} }, "format": "csv" }),
        )
        .await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    let made = make_next_export(&node).await;
    let link = format!("/v1/exports/{}/file", made.id);
    let (status, _, file) = download(&node, &link, viewer, None).await;
    assert_eq!(status, 200);
    assert!(
        count(&node, "SELECT count(*) FROM export_chunks").await >= 2,
        "{} bytes are more than one chunk",
        file.len()
    );
    let records = csv_records(&file);
    assert_eq!(
        records.len(),
        1 + 1 + 10_001,
        "the header, the funding and every line"
    );
    let stored: Vec<u8> = client
        .query_one("SELECT sha256 FROM exports WHERE id = $1", &[&made.id])
        .await
        .expect("the job")
        .get(0);
    assert_eq!(stored, sha2::Sha256::digest(&file).to_vec());
    assert_eq!(made.bytes, i64::try_from(file.len()).ok());
    node.stop().await;
}
