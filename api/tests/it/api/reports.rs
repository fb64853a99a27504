//! The reports over HTTP, and every format read back against the JSON of the same report:
//! the account statement, the transaction report with its filters and totals, a batch's
//! reconciliation, analytics; a payee's name written as a formula comes out inert.

use calamine::Data;
use payrail_engine::api_key::Role;
use serde_json::{Value, json};

use super::harness::{Node, TestMerchant};
use super::readback::{csv_records, download, number, pdf_text, xlsx_rows};

/// A payee's name that a spreadsheet would run, were it not neutralised.
pub const FORMULA: &str = "=HYPERLINK(\"http://x\",\"y\")";

/// Yesterday and today in Kigali: a period that holds everything a test just did.
pub fn days() -> (String, String) {
    let today = jiff::Zoned::now()
        .in_tz("Africa/Kigali")
        .expect("Kigali")
        .date();
    let yesterday = today.yesterday().expect("a day before");
    (yesterday.to_string(), today.to_string())
}

/// A merchant funded with 100,000 RWF that paid three people (one with a formula for a
/// name) and was refused a fourth payout for want of funds.
pub async fn history(node: &Node) -> TestMerchant {
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    for (number, amount, name) in [
        ("0788123456", "1500", FORMULA),
        ("0788123457", "2500", "Uwase"),
        ("0722123458", "3000", "Mugisha"),
        ("0788123459", "900000", "Too much"),
    ] {
        let body = json!({ "msisdn": number, "amount": amount, "currency": "RWF", "name": name, "reference": format!("inv-{amount}") });
        let answer = node.post_json("/v1/payouts?wait=5", maker, &body).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    merchant
}

fn minor(text: &Value) -> i64 {
    text.as_str()
        .expect("an amount as text")
        .parse()
        .expect("RWF amounts are whole")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_adds_up_and_reads_the_same_in_every_format() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let viewer = merchant.key(Role::Viewer);
    let (from, to) = days();
    let path = format!("/v1/statements?from={from}&to={to}");
    let statement = node.get(&path, viewer).await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    let body = &statement.body;
    let lines = body["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 4, "a funding and three payouts: {body}");
    for payout in lines.iter().filter(|line| line["type"] == "payout") {
        // Copied from the line into the ledger when the payout settled.
        assert!(
            payout["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with("inv-")),
            "{payout}"
        );
        assert!(
            payout["msisdn"]
                .as_str()
                .is_some_and(|n| n.starts_with("250")),
            "{payout}"
        );
        assert!(payout["operator_transaction_id"].is_string(), "{payout}");
    }
    assert_eq!(minor(&body["opening_balance"]), 0);
    assert_eq!(minor(&body["credits"]["sum"]), 100_000);
    assert_eq!(minor(&body["debits"]["sum"]), 7_000);
    assert_eq!(minor(&body["fees"]["sum"]), 300);
    assert_eq!(minor(&body["closing_balance"]), 92_700);
    assert_eq!(minor(&lines[3]["balance"]), 92_700);
    let balance = node.get("/v1/balance", viewer).await;
    assert_eq!(
        balance.body["available"]["minor"].as_i64().expect("minor")
            + balance.body["reserved"]["minor"].as_i64().expect("minor"),
        92_700,
        "the closing balance is the ledger's"
    );

    let (status, kind, csv) = download(&node, &format!("{path}&format=csv"), viewer, None).await;
    assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
    let records = csv_records(&csv);
    assert_eq!(records[0][0], "Time");
    assert_eq!(
        records.len(),
        1 + 1 + lines.len() + 1,
        "header, opening, lines, closing"
    );
    assert_eq!(records[1][1], "Opening balance");
    assert_eq!(records.last().expect("a closing row")[10], "92700");
    for (record, line) in records[2..].iter().zip(lines) {
        assert_eq!(record[1], line["type"].as_str().expect("a type"));
        assert_eq!(record[5], line["id"].as_str().expect("an id"));
        let cell = |i: usize| {
            if record[i].is_empty() {
                "0"
            } else {
                record[i].as_str()
            }
        };
        assert_eq!(cell(7), line["debit"]);
        assert_eq!(cell(8), line["credit"]);
        assert_eq!(cell(9), line["fee"]);
        assert_eq!(cell(10), line["balance"]);
    }
    let formula_row = records
        .iter()
        .find(|record| record[2].contains("HYPERLINK"))
        .expect("the payee with a formula for a name");
    assert_eq!(formula_row[2], format!("'{FORMULA}"), "inert in CSV");

    let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, kind, xlsx) = download(&node, &path, viewer, Some(xlsx_type)).await;
    assert_eq!(
        (status, kind.as_str()),
        (200, xlsx_type),
        "chosen by Accept"
    );
    let (rows, formulas) = xlsx_rows(xlsx);
    assert_eq!(formulas, 0, "no cell is a formula");
    let header = rows
        .iter()
        .position(|row| row.first() == Some(&Data::String("Time".into())))
        .expect("the table's header row");
    let table = &rows[header + 1..header + 1 + 1 + lines.len() + 1];
    assert!(
        matches!(table[1][0], Data::DateTime(_)),
        "{:?}",
        table[1][0]
    );
    for (row, line) in table[1..].iter().zip(lines) {
        assert_eq!(number(&row[10]), minor(&line["balance"]) as f64);
        assert_eq!(
            row[5],
            Data::String(line["id"].as_str().expect("id").to_owned())
        );
    }
    assert!(
        rows.iter()
            .flatten()
            .any(|cell| *cell == Data::String(format!("'{FORMULA}"))),
        "inert in XLSX"
    );

    let (status, kind, pdf) = download(&node, &format!("{path}&format=pdf"), viewer, None).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf);
    for expected in [
        body["statement_number"].as_str().expect("a number"),
        "Opening balance",
        "Closing balance",
        "92,700",
        "Credits",
        "Debits",
        "Fees",
        "End of statement",
        "'=HYPERLINK",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transaction_report_filters_totals_and_exports_what_it_lists() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let viewer = merchant.key(Role::Viewer);
    let all = node.get("/v1/transactions?limit=2", viewer).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["totals"]["count"], 5, "a funding and four payouts");
    assert_eq!(all.body["data"].as_array().map(Vec::len), Some(2));
    let cursor = all.body["next_cursor"].as_str().expect("more pages");
    let rest = node
        .get(
            &format!("/v1/transactions?limit=10&cursor={cursor}"),
            viewer,
        )
        .await;
    assert_eq!(rest.body["data"].as_array().map(Vec::len), Some(3));

    let fees = node.get("/v1/transactions?type=fee", viewer).await;
    assert_eq!(fees.body["totals"]["count"], 3, "{}", fees.text);
    assert_eq!(fees.body["totals"]["amount"], "300");
    let by_number = node.get("/v1/transactions?msisdn=3457", viewer).await;
    assert_eq!(by_number.body["totals"]["count"], 1, "{}", by_number.text);
    assert_eq!(by_number.body["data"][0]["msisdn"], "250788123457");
    let airtel = node
        .get("/v1/transactions?operator=airtel&type=payout", viewer)
        .await;
    assert_eq!(airtel.body["totals"]["count"], 1, "{}", airtel.text);
    let ranged = node
        .get(
            "/v1/transactions?type=payout&amount_min=2000&amount_max=3000",
            viewer,
        )
        .await;
    assert_eq!(ranged.body["totals"]["count"], 2, "{}", ranged.text);
    assert_eq!(ranged.body["totals"]["amount"], "5500");
    let failed = node.get("/v1/transactions?state=failed", viewer).await;
    assert_eq!(
        failed.body["data"][0]["failure_reason"],
        "insufficient_balance"
    );

    let (status, _, csv) = download(&node, "/v1/transactions?format=csv", viewer, None).await;
    assert_eq!(status, 200);
    let records = csv_records(&csv);
    assert_eq!(records.len(), 1 + 5);
    let ids: Vec<&str> = records[1..].iter().map(|r| r[6].as_str()).collect();
    let listed: Vec<String> = all.body["data"]
        .as_array()
        .into_iter()
        .chain(rest.body["data"].as_array())
        .flatten()
        .map(|row| row["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids, listed, "the file lists what the pages list, in order");
    let (_, _, pdf) = download(&node, "/v1/transactions?format=pdf&type=fee", viewer, None).await;
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Transaction report") && text.contains("End of report"),
        "{text}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_report_requests_are_refused_with_their_reason() {
    let node = Node::start().await;
    let merchant = node.merchant("1000").await;
    let other = node.merchant("1000").await;
    let viewer = merchant.key(Role::Viewer);
    let batch = node
        .post_json(
            "/v1/batches",
            other.key(Role::Maker),
            &json!({ "lines": [{ "msisdn": "0788123456", "amount": "100" }] }),
        )
        .await;
    let foreign = batch.body["id"].as_str().expect("a batch");
    for (path, status, field) in [
        ("/v1/statements?from=2026-12-01&to=2026-11-01", 422, "to"),
        ("/v1/statements?from=2025-01-01&to=2026-06-30", 422, "to"),
        ("/v1/statements?from=yesterday&to=2026-11-01", 422, "from"),
        (
            "/v1/statements?from=2026-11-01&to=2026-11-30&format=docx",
            422,
            "format",
        ),
        (
            "/v1/analytics?from=2026-11-01&to=2026-11-30&granularity=hour",
            422,
            "granularity",
        ),
        ("/v1/transactions?msisdn=12", 422, "msisdn"),
        ("/v1/transactions?type=refund", 422, "type"),
        ("/v1/transactions?operator=mpesa", 422, "operator"),
        ("/v1/transactions?amount_min=-5", 422, "amount_min"),
    ] {
        let answer = node.get(path, viewer).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        assert_eq!(
            answer.body["errors"][0]["field"], field,
            "{path}: {}",
            answer.text
        );
    }
    let not_ours = node
        .get(&format!("/v1/transactions?batch={foreign}"), viewer)
        .await;
    assert_eq!(not_ours.status, 404, "{}", not_ours.text);
    let statement = node
        .get(&format!("/v1/batches/{foreign}/statement"), viewer)
        .await;
    assert_eq!(statement.status, 404);
    let (status, _, _) = download(
        &node,
        "/v1/statements?from=2026-11-01&to=2026-11-30",
        viewer,
        Some("image/png"),
    )
    .await;
    assert_eq!(status, 406);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reconciliation_ties_every_line_to_the_operator() {
    let node = Node::start().await;
    let merchant = node.merchant("1000000").await;
    let maker = merchant.key(Role::Maker);
    let body = json!({ "lines": [
        { "msisdn": "0788123456", "amount": "1500", "reference": "a-1", "name": FORMULA },
        { "msisdn": "0722123456", "amount": "2500", "reference": "a-2" },
    ]});
    let created = node.post_json("/v1/batches", maker, &body).await;
    let id = created.body["id"].as_str().expect("a batch").to_owned();
    node.wait_for(
        &format!("/v1/batches/{id}"),
        maker,
        std::time::Duration::from_secs(20),
        |batch| batch["state"] == "completed",
    )
    .await;
    let path = format!("/v1/batches/{id}/statement");
    let statement = node.get(&path, maker).await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    let lines = statement.body["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    for line in lines {
        assert_eq!(line["state"], "succeeded");
        assert!(line["operator_transaction_id"].is_string(), "{line}");
        assert!(
            line["sent_at"].is_string() && line["final_at"].is_string(),
            "{line}"
        );
        assert_eq!(line["fee"], "100");
    }
    assert_eq!(statement.body["totals"][0]["state"], "succeeded");
    assert_eq!(statement.body["totals"][0]["lines"], 2);
    let (_, _, csv) = download(&node, &format!("{path}?format=csv"), maker, None).await;
    let records = csv_records(&csv);
    assert_eq!(records.len(), 3);
    for (record, line) in records[1..].iter().zip(lines) {
        assert_eq!(record[8], line["payout_id"].as_str().expect("id"));
        assert_eq!(
            record[9],
            line["operator_reference"].as_str().expect("reference")
        );
        assert_eq!(
            record[10],
            line["operator_transaction_id"].as_str().expect("tx")
        );
    }
    assert_eq!(records[1][3], format!("'{FORMULA}"));
    let (_, _, xlsx) = download(&node, &format!("{path}?format=xlsx"), maker, None).await;
    let (rows, formulas) = xlsx_rows(xlsx);
    assert_eq!(formulas, 0);
    assert!(
        rows.iter()
            .flatten()
            .any(|c| *c == Data::String(format!("'{FORMULA}")))
    );
    let (_, _, pdf) = download(&node, &format!("{path}?format=pdf"), maker, None).await;
    let text = pdf_text(&pdf);
    assert!(text.contains("Batch reconciliation statement"), "{text}");
    assert!(
        text.contains("'=HYPERLINK") && text.contains("End of statement"),
        "{text}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_count_what_ended_per_day() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let (from, to) = days();
    let answer = node
        .get(
            &format!("/v1/analytics?from={from}&to={to}&granularity=day"),
            merchant.key(Role::Viewer),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let periods = answer.body["periods"].as_array().expect("periods");
    assert_eq!(periods.len(), 2, "yesterday and today");
    let today = &periods[1];
    assert_eq!(today["period"], to);
    assert_eq!(today["payouts"]["count"], 3);
    assert_eq!(today["payouts"]["amount"], "7000");
    assert_eq!(today["payouts"]["fees"], "300");
    assert_eq!(
        today["top_failure_reasons"][0]["reason"],
        "insufficient_balance"
    );
    let routes = today["routes"].as_array().expect("routes");
    let succeeded: i64 = routes
        .iter()
        .map(|r| r["succeeded"].as_i64().unwrap_or(0))
        .sum();
    let failed: i64 = routes
        .iter()
        .map(|r| r["failed"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!((succeeded, failed), (3, 1));
    assert!(today["payout_median_ms"].is_i64(), "{today}");
    assert_eq!(periods[0]["payouts"]["count"], 0);
    let (_, _, csv) = download(
        &node,
        &format!("/v1/analytics?from={from}&to={to}&format=csv"),
        merchant.key(Role::Viewer),
        None,
    )
    .await;
    let records = csv_records(&csv);
    assert_eq!(records.len(), 3);
    assert_eq!(records[2][0], to);
    assert_eq!(records[2][4], "3");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_posted_before_migration_8_get_their_particulars_from_their_lines() {
    let node = Node::start().await;
    let merchant = history(&node).await;
    let viewer = merchant.key(Role::Viewer);
    let (from, to) = days();
    let path = format!("/v1/statements?from={from}&to={to}");
    let payouts = |body: &Value| -> Vec<Value> {
        body["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .filter(|line| line["type"] == "payout")
            .cloned()
            .collect()
    };
    let before = payouts(&node.get(&path, viewer).await.body);
    assert_eq!(before.len(), 3);

    // The schema as it was before V8 (and so before V9 to V14, which refinery applies
    // after it), with these settlements in it: then migrate.
    let (mut client, connection) = tokio_postgres::connect(&node.db.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(
            "ALTER TABLE merchants DROP COLUMN webhook_secret_created_at,
                 DROP COLUMN webhook_previous_secret, DROP COLUMN webhook_previous_until;
             DROP TABLE payroll_drafts, portal_sessions, user_setup_tokens, users;
             DROP TABLE callback_secrets, callback_settlements, callback_disagreements;
             ALTER TABLE api_keys DROP COLUMN kind;
             ALTER TABLE batches DROP COLUMN decision_note;
             ALTER TABLE payout_outcomes DROP COLUMN description, DROP COLUMN reference,
                 DROP COLUMN msisdn, DROP COLUMN operator_transaction_id;
             DROP TABLE payout_line_numbers;
             ALTER TABLE batches DROP COLUMN numbers_indexed;
             CREATE INDEX payout_lines_msisdn_suffix
                 ON payout_lines (merchant_id, reverse(msisdn) text_pattern_ops);
             DROP FUNCTION payrail_holds_batches(uuid, uuid[]), payrail_lease_holds(uuid),
                 payrail_live_nodes();
             DROP TABLE cluster_roles, cluster_nodes;
             ALTER TABLE batches DROP COLUMN owner_node;
             ALTER TABLE collections DROP COLUMN owner_node;
             DELETE FROM refinery_schema_history WHERE version IN (8, 9, 10, 11, 12, 13, 14);",
        )
        .await
        .expect("back to V7");
    let applied = payrail_engine::store::migrations::run(&mut client)
        .await
        .expect("migrate");
    assert_eq!(applied, vec![8, 9, 10, 11, 12, 13, 14]);
    drop(client);
    let _ = connection.await;

    let after = payouts(&node.get(&path, viewer).await.body);
    assert_eq!(after, before, "the same particulars, now from the ledger");
    assert!(after.iter().all(|line| line["msisdn"].is_string()));
    node.stop().await;
}
