//! `POST /v1/payouts/{id}/cancel`: one single payout not yet sent is cancelled on its own,
//! its reservation returned, and the payouts written in the same group commit keep going;
//! the group's batch cannot be cancelled as a whole, and a payroll line only with its batch.

use payrail_engine::api_key::Role;
use payrail_engine::ids::{ApiKeyId, MerchantId};
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::route::RouteName;
use payrail_engine::store::payout_lines::NewPayoutLine;
use payrail_engine::store::single_payouts::{Funding, Group};
use serde_json::json;

use super::harness::{Node, NodeOptions};

/// Writes three single payouts as one group, the way the engine's intake writes payouts
/// asked for at the same moment; returns the group's batch and the payouts' ids.
async fn group_of_three(node: &Node, merchant: MerchantId) -> (String, Vec<String>) {
    let mut client = node.db.client().await;
    let maker: uuid::Uuid = client
        .query_one(
            "SELECT id FROM api_keys WHERE merchant_id = $1 AND role = 'maker'",
            &[&merchant.as_uuid()],
        )
        .await
        .expect("the maker key")
        .get(0);
    let lines = ["0788123456", "0788123457", "0788123458"]
        .iter()
        .enumerate()
        .map(|(i, number)| NewPayoutLine {
            line_no: i32::try_from(i + 1).expect("small"),
            msisdn: Msisdn::parse(number, Region::RW).expect("a number"),
            amount: Amount::parse("1000", Currency::Rwf).expect("an amount"),
            fee: Amount::parse("100", Currency::Rwf).expect("a fee"),
            route: RouteName::new("mtn-rw").expect("a route"),
            client_reference: Some(format!("salary-{i}")),
            name: None,
            note: None,
        })
        .collect();
    let group = Group::new(
        None,
        merchant,
        Currency::Rwf,
        ApiKeyId::from_uuid(maker),
        lines,
    )
    .expect("a group");
    let tx = client.transaction().await.expect("a transaction");
    let funded = group.all_funded();
    let payouts = group.write(&tx, &funded).await.expect("written");
    assert!(matches!(
        group.fund(&tx, &funded).await.expect("funded"),
        Funding::Reserved
    ));
    tx.commit().await.expect("committed");
    let ids = payouts.iter().map(|payout| payout.id.to_string()).collect();
    (group.batch().to_string(), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unsent_single_payout_is_cancelled_and_the_others_of_its_group_are_untouched() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..NodeOptions::default()
    })
    .await;
    let merchant = node.merchant("10000").await;
    let maker = merchant.key(Role::Maker);
    let (group, payouts) = group_of_three(&node, merchant.id).await;
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["reserved"]["minor"], 3_300, "{}", balance.text);

    let cancelled = node
        .post_json(
            &format!("/v1/payouts/{}/cancel", payouts[1]),
            maker,
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["state"], "cancelled");
    for id in [&payouts[0], &payouts[2]] {
        let other = node.get(&format!("/v1/payouts/{id}"), maker).await;
        assert_eq!(other.body["state"], "validated", "{}", other.text);
    }
    let balance = node.get("/v1/balance", maker).await;
    assert_eq!(balance.body["reserved"]["minor"], 2_200, "{}", balance.text);
    assert_eq!(
        balance.body["available"]["minor"], 7_800,
        "{}",
        balance.text
    );

    let again = node
        .post_json(
            &format!("/v1/payouts/{}/cancel", payouts[1]),
            maker,
            &json!({}),
        )
        .await;
    assert_eq!((again.status, again.problem()), (409, "payout-state"));
    let through_group = node
        .post_json(&format!("/v1/batches/{group}/cancel"), maker, &json!({}))
        .await;
    assert_eq!(through_group.status, 409, "{}", through_group.text);
    for id in [&payouts[0], &payouts[2]] {
        let other = node.get(&format!("/v1/payouts/{id}"), maker).await;
        assert_eq!(other.body["state"], "validated", "{}", other.text);
    }
    let report = ledger::audit(&node.db.client().await).await.expect("audit");
    assert!(report.is_sound(), "{report:?}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payroll_line_is_cancelled_only_with_its_batch() {
    let node = Node::with(NodeOptions {
        engine: false,
        ..NodeOptions::default()
    })
    .await;
    let merchant = node.merchant("100000").await;
    let maker = merchant.key(Role::Maker);
    let batch = node
        .post_json(
            "/v1/batches",
            maker,
            &json!({ "lines": [{ "msisdn": "0788123456", "amount": "1000", "reference": "a" }] }),
        )
        .await;
    assert_eq!(batch.status, 201, "{}", batch.text);
    let id = batch.body["id"].as_str().expect("an id");
    let lines = node.get(&format!("/v1/batches/{id}/payouts"), maker).await;
    let line = lines.body["data"][0]["id"].as_str().expect("a line");
    let refused = node
        .post_json(&format!("/v1/payouts/{line}/cancel"), maker, &json!({}))
        .await;
    assert_eq!((refused.status, refused.problem()), (409, "payout-state"));
    node.stop().await;
}
