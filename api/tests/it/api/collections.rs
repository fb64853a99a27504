//! Collections over HTTP: our shape paid and credited less its fee, the LTGS shape paid with
//! its one LTGS callback in the outbox, refused and lapsed requests, bad requests refused
//! with their reason and nothing stored, Idempotency-Key, roles, and merchants kept apart.
//! The node routes MTN's sandbox numbers (`46733…`) to `mtn-rw`, so the simulator's
//! sandbox behaviours can be asked for, and lets callbacks go to loopback.

use std::time::Duration;

use payrail_api::AppState;
use payrail_engine::api_key::Role;
use payrail_engine::app::AppSettings;
use payrail_engine::ledger;
use payrail_engine::route::{RouteName, RoutePrefix, RouteTable};
use payrail_engine::url_policy::UrlPolicy;
use reqwest::Method;
use serde_json::{Value, json};

use super::harness::{Answer, Node, NodeOptions, TestMerchant};

/// Where LTGS callbacks go in these tests: loopback, allow-listed below. Nothing listens;
/// the tests read the outbox, not the delivery.
const CALLBACK_URL: &str = "http://127.0.0.1:9/ltgs/payment-status";

/// Rwanda's routes plus MTN's sandbox numbers on `mtn-rw`, and loopback callbacks allowed.
fn sandbox_and_loopback(mut state: AppState) -> AppState {
    let mut prefixes: Vec<RoutePrefix> = RouteTable::rwanda().into();
    prefixes.push(RoutePrefix {
        prefix: "46733".into(),
        route: RouteName::new("mtn-rw").expect("a route"),
    });
    let settings = AppSettings {
        routes: RouteTable::new(prefixes).expect("a route table"),
        urls: UrlPolicy::allowing(&["127.0.0.0/8".into()]).expect("a network"),
        ..AppSettings::rwanda()
    };
    state.app = state.app.with_settings(settings);
    state
}

async fn node() -> Node {
    Node::with(NodeOptions {
        state: sandbox_and_loopback,
        ..NodeOptions::default()
    })
    .await
}

fn own(msisdn: &str, amount: &str) -> Value {
    json!({ "msisdn": msisdn, "amount": amount, "currency": "RWF" })
}

fn ltgs(sale: &str, phone: &str, amount: Value) -> Value {
    json!({
        "Sale_Reference_ID": sale,
        "Customer_KYC_ID": "1199880012345678",
        "Phone_Number": phone,
        "Email_Address": "payer@example.rw",
        "Services_Name": "Land lease fee 2025",
        "Total_Amount_to_Pay": amount,
        "Callback_URL": CALLBACK_URL,
    })
}

/// Waits until the collection is no longer pending; returns its final body.
async fn final_state(node: &Node, merchant: &TestMerchant, id: &str) -> Value {
    node.wait_for(
        &format!("/v1/collections/{id}"),
        merchant.key(Role::Viewer),
        Duration::from_secs(15),
        |body| body["state"].is_string() && body["state"] != "pending",
    )
    .await
}

fn id_of(answer: &Answer) -> String {
    answer.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id in {}", answer.text))
        .to_owned()
}

async fn stored_collections(node: &Node) -> i64 {
    node.db
        .client()
        .await
        .query_one("SELECT count(*) FROM collections", &[])
        .await
        .expect("a count")
        .get(0)
}

/// The LTGS callbacks written for `url`.
async fn callbacks_to(node: &Node, url: &str) -> Vec<Value> {
    node.db
        .client()
        .await
        .query(
            "SELECT payload FROM webhook_events WHERE url = $1 AND event_type = 'ltgs.payment_status'",
            &[&url],
        )
        .await
        .expect("the outbox")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_shape_is_paid_and_credits_the_amount_less_the_fee_booked_as_revenue() {
    let node = node().await;
    let merchant = node.merchant("0").await;
    let mut body = own("0788123456", "1500");
    body["reference"] = json!("order-1");
    body["payer_message"] = json!("Order 1 at Kigali Books");

    let answer = node
        .post_json("/v1/collections", merchant.key(Role::Maker), &body)
        .await;

    assert_eq!(answer.status, 202, "{}", answer.text);
    assert_eq!(answer.body["state"], "pending");
    assert_eq!(answer.body["msisdn"], "250788123456");
    assert_eq!(answer.body["amount"], "1500");
    assert_eq!(answer.body["fee"], "30", "2 % of 1500");
    assert_eq!(answer.body["net_amount"], "1470");
    assert_eq!(answer.body["currency"], "RWF");
    assert_eq!(answer.body["reference"], "order-1");
    assert_eq!(answer.body["payment_channel"], "MTN MoMo");
    assert!(
        answer.body.get("Sale_Reference_ID").is_none(),
        "{}",
        answer.text
    );
    let id = id_of(&answer);
    let paid = final_state(&node, &merchant, &id).await;
    assert_eq!(paid["state"], "paid", "{paid}");
    assert!(paid["operator_transaction_id"].is_string(), "{paid}");

    let balance = node.get("/v1/balance", merchant.key(Role::Viewer)).await;
    assert_eq!(
        balance.body["available"]["minor"], 1_470,
        "{}",
        balance.text
    );
    let client = node.db.client().await;
    let balances = ledger::balances(&client, merchant.id)
        .await
        .expect("balances");
    assert_eq!(i64::from(balances.fee_revenue), 30);
    assert_eq!(i64::from(balances.received), 1_500);
    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
    let listed = node
        .get("/v1/collections", merchant.key(Role::Viewer))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ltgs_shape_ends_paid_with_exactly_one_ltgs_callback_in_the_outbox() {
    let node = node().await;
    let merchant = node.merchant("0").await;
    let maker = merchant.key(Role::Maker);

    let answer = node
        .post_json(
            "/v1/collections",
            maker,
            &ltgs("SALE-1", "0788123457", json!(2500)),
        )
        .await;

    assert_eq!(answer.status, 202, "{}", answer.text);
    assert_eq!(answer.body["Sale_Reference_ID"], "SALE-1");
    assert_eq!(answer.body["Payment_Status"], "PENDING");
    assert_eq!(answer.body["Payment_Channel"], "MTN MoMo");
    assert_eq!(answer.body["Total_Amount_to_Pay"], "2500");
    assert_eq!(answer.body["Phone_Number"], "250788123457");
    assert_eq!(answer.body["Customer_KYC_ID"], "1199880012345678");
    assert_eq!(answer.body["Callback_URL"], CALLBACK_URL);
    assert_eq!(answer.body["reference"], "SALE-1");
    assert_eq!(answer.body["payer_message"], "Land lease fee 2025");
    let id = id_of(&answer);
    let paid = final_state(&node, &merchant, &id).await;
    assert_eq!(paid["state"], "paid", "{paid}");
    assert_eq!(paid["Payment_Status"], "PAID");
    let transaction = paid["operator_transaction_id"].clone();
    assert!(transaction.is_string(), "{paid}");

    let callbacks = callbacks_to(&node, CALLBACK_URL).await;
    assert_eq!(callbacks.len(), 1, "{callbacks:?}");
    let callback = &callbacks[0];
    assert_eq!(callback["Sale_Reference_ID"], "SALE-1");
    assert_eq!(callback["Payment_Status"], "PAID");
    assert_eq!(callback["Payment_Channel"], "MTN MoMo");
    assert_eq!(callback["Payment_Ref_ID"], transaction);
    assert_eq!(callback["Total_Amount_Paid"], "2500");
    let paid_on = callback["Paid_On"].as_str().expect("Paid_On");
    assert!(paid_on.parse::<jiff::Timestamp>().is_ok(), "{paid_on}");

    let as_text = node
        .post_json(
            "/v1/collections",
            maker,
            &ltgs("SALE-2", "0788123458", json!("1000")),
        )
        .await;
    assert_eq!(
        as_text.status, 202,
        "an amount as a string: {}",
        as_text.text
    );
    assert_eq!(as_text.body["Total_Amount_to_Pay"], "1000");
    let reused = node
        .post_json(
            "/v1/collections",
            maker,
            &ltgs("SALE-1", "0788123459", json!(700)),
        )
        .await;
    assert_eq!(reused.status, 409, "{}", reused.text);
    assert_eq!(reused.problem(), "reference-in-use");
    assert_eq!(reused.body["link"], format!("/v1/collections/{id}"));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_lapsed_requests_end_failed_and_expired_and_credit_nothing() {
    let node = node().await;
    let merchant = node.merchant("0").await;
    let maker = merchant.key(Role::Maker);
    // MTN's sandbox: the payer of …451 refuses; nobody answers …452 in time.
    let mut refused = own("46733123451", "1500");
    refused["callback_url"] = json!(CALLBACK_URL);
    let refused = node.post_json("/v1/collections", maker, &refused).await;
    assert_eq!(refused.status, 202, "{}", refused.text);
    let lapsed = node
        .post_json("/v1/collections", maker, &own("46733123452", "1500"))
        .await;
    assert_eq!(lapsed.status, 202, "{}", lapsed.text);

    let failed = final_state(&node, &merchant, &id_of(&refused)).await;
    let expired = final_state(&node, &merchant, &id_of(&lapsed)).await;

    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["failure_reason"], "APPROVAL_REJECTED");
    assert_eq!(expired["state"], "expired", "{expired}");
    let callbacks = callbacks_to(&node, CALLBACK_URL).await;
    assert_eq!(callbacks.len(), 1, "{callbacks:?}");
    assert_eq!(callbacks[0]["Payment_Status"], "FAILED");
    assert_eq!(callbacks[0]["Total_Amount_Paid"], "0");
    let balances = ledger::balances(&node.db.client().await, merchant.id)
        .await
        .expect("balances");
    assert_eq!(balances, ledger::Balances::default());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_their_reason_and_nothing_is_stored() {
    let node = node().await;
    let merchant = node.merchant("0").await;
    let maker = merchant.key(Role::Maker);
    let mut unknown_field = own("0788123456", "1500");
    unknown_field["tip"] = json!("100");
    let mut private_callback = own("0788123456", "1500");
    private_callback["callback_url"] = json!("http://10.0.0.7/ltgs");
    let mut no_callback = ltgs("SALE-9", "0788123456", json!(100));
    no_callback
        .as_object_mut()
        .expect("an object")
        .remove("Callback_URL");
    let cases = [
        (own("12345", "1500"), "msisdn"),
        (own("0788123456", "0"), "amount"),
        (own("0788123456", "12.5"), "amount"),
        (
            json!({ "msisdn": "0788123456", "amount": "1500", "currency": "EUR" }),
            "currency",
        ),
        (
            ltgs("SALE-9", "0788123456", json!(-5)),
            "Total_Amount_to_Pay",
        ),
        (private_callback, "callback_url"),
    ];
    for (body, field) in cases {
        let answer = node.post_json("/v1/collections", maker, &body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(answer.body["errors"][0]["field"], field, "{}", answer.text);
        assert!(answer.body["errors"][0]["reason"].is_string());
    }
    for (body, mentioned) in [(unknown_field, "tip"), (no_callback, "Callback_URL")] {
        let answer = node.post_json("/v1/collections", maker, &body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
        let detail = answer.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(mentioned), "{detail}");
    }
    let malformed = node
        .call(
            Method::POST,
            "/v1/collections",
            Some(maker),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "malformed-1"),
            ],
            Some("{\"msisdn\": ".into()),
        )
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    assert_eq!(malformed.problem(), "malformed-json");
    assert_eq!(stored_collections(&node).await, 0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_required_and_a_replay_answers_the_same_with_one_collection() {
    let node = node().await;
    let merchant = node.merchant("0").await;
    let maker = merchant.key(Role::Maker);
    let body = own("0788123456", "1500");
    let without_key = node
        .call(
            Method::POST,
            "/v1/collections",
            Some(maker),
            &[("content-type", "application/json")],
            Some(body.to_string().into()),
        )
        .await;
    assert_eq!(without_key.status, 400, "{}", without_key.text);
    assert_eq!(without_key.problem(), "idempotency-key-missing");

    let first = node
        .post_json_with("/v1/collections", maker, "collect-1", &body)
        .await;
    let replay = node
        .post_json_with("/v1/collections", maker, "collect-1", &body)
        .await;

    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(replay.status, 202, "{}", replay.text);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(stored_collections(&node).await, 1);
    let other_body = node
        .post_json_with(
            "/v1/collections",
            maker,
            "collect-1",
            &own("0788123456", "900"),
        )
        .await;
    assert_eq!(other_body.status, 422, "{}", other_body.text);
    assert_eq!(stored_collections(&node).await, 1);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_and_each_merchant_sees_only_its_own_collections() {
    let node = node().await;
    let owner = node.merchant("0").await;
    let stranger = node.merchant("0").await;
    let body = own("0788123456", "1500");

    let by_viewer = node
        .post_json("/v1/collections", owner.key(Role::Viewer), &body)
        .await;
    assert_eq!(by_viewer.status, 403, "{}", by_viewer.text);
    let anonymous = node
        .call(Method::GET, "/v1/collections", None, &[], None)
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_eq!(stored_collections(&node).await, 0);

    let created = node
        .post_json("/v1/collections", owner.key(Role::Admin), &body)
        .await;
    assert_eq!(created.status, 202, "{}", created.text);
    let path = format!("/v1/collections/{}", id_of(&created));
    let seen = node.get(&path, owner.key(Role::Viewer)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let hidden = node.get(&path, stranger.key(Role::Admin)).await;
    assert_eq!(hidden.status, 404, "{}", hidden.text);
    assert_eq!(hidden.problem(), "not-found");
    let listed = node
        .get("/v1/collections", stranger.key(Role::Viewer))
        .await;
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
    let not_an_id = node
        .get("/v1/collections/not-an-id", owner.key(Role::Viewer))
        .await;
    assert_eq!(not_an_id.status, 404);
    node.stop().await;
}
