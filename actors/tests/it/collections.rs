//! The collector: requests to pay sent, polled and finished — paid and credited less their
//! fee, failed, expired — resent with the same reference when not sent, and resumed on
//! start by asking the operator before sending anything again; a killed collector is
//! started again; and a node whose lease does not hold asks nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use payrail_actors::collector::{
    CollectionSettings, CollectorActor, CollectorArgs, CollectorMsg, FirstStep,
};
use payrail_actors::lease::NodeLease;
use payrail_adapters::simulator::FaultRates;
use payrail_engine::app::EnginePort;
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::{CollectionId, MerchantId, NodeId};
use payrail_engine::ledger;
use payrail_engine::money::Currency;
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::operator::{Operator, PaymentRequest, PaymentStatus};
use payrail_engine::route::RouteName;
use payrail_engine::state::collection::CollectionState;
use payrail_engine::store::collections::{self, Collection, NewCollection};
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::testing::TestDb;
use ractor::Actor;

use crate::support::{amount, mtn, start_engine};

/// The collection fee of the test merchant: 2 %.
const COLLECTION_FEE_BPS: u16 = 200;

async fn collecting_merchant(db: &TestDb) -> MerchantId {
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let new = NewMerchant {
        name: "Collecting merchant".into(),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(amount(100), COLLECTION_FEE_BPS).expect("fees"),
        approval_threshold: None,
    };
    let (merchant, _) = merchants::create(&tx, &new).await.expect("merchant");
    tx.commit().await.expect("commit");
    merchant.id
}

/// A pending collection of 10 000 RWF from `number` on `mtn-rw`, expiring in `expires_in`.
async fn pending(
    db: &TestDb,
    merchant: MerchantId,
    number: &str,
    expires_in: SignedDuration,
) -> Collection {
    let new = NewCollection {
        id: CollectionId::new(),
        merchant,
        msisdn: Msisdn::parse(number, Region::RW).expect("a number"),
        amount: amount(10_000),
        currency: Currency::Rwf,
        route: RouteName::new("mtn-rw").expect("a route"),
        payment_channel: "MTN MoMo".into(),
        client_reference: None,
        payer_message: Some("Order 17".into()),
        callback_url: None,
        ltgs: None,
        created_by: None,
        expires_at: Timestamp::now() + expires_in,
    };
    collections::insert(&db.client().await, &new)
        .await
        .expect("inserted")
}

/// Waits until the collection is no longer pending, or fails the test after `limit`.
async fn wait_final(db: &TestDb, collection: &Collection, limit: Duration) -> Collection {
    let deadline = Instant::now() + limit;
    loop {
        let now = collections::get(&db.client().await, collection.merchant, collection.id)
            .await
            .expect("collection");
        if now.state.is_final() {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "still {} after {limit:?}",
            now.state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const MINUTE: SignedDuration = SignedDuration::from_mins(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_collection_is_paid_and_credited_less_its_fee() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let engine = start_engine(&db, &simulator).await;
    let merchant = collecting_merchant(&db).await;
    let collection = pending(&db, merchant, "250788123456", MINUTE).await;

    engine.handle().collect(merchant, collection.id);
    let paid = wait_final(&db, &collection, Duration::from_secs(10)).await;
    engine.stop().await;

    assert_eq!(paid.state, CollectionState::Paid);
    let expected_id = format!("sim-{}", collection.reference.as_uuid().simple());
    assert_eq!(paid.operator_transaction_id, Some(expected_id));
    let client = db.client().await;
    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(balances.available, amount(9_800));
    assert_eq!(balances.fee_revenue, amount(200));
    assert!(ledger::audit(&client).await.expect("audit").is_sound());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_unanswered_requests_end_failed_or_expired_and_credit_nothing() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let engine = start_engine(&db, &simulator).await;
    let merchant = collecting_merchant(&db).await;
    // MTN's sandbox: …451 is rejected by the payer, …452 expires at the operator, and …453
    // stays pending for ever, so our own deadline expires it.
    let rejected = pending(&db, merchant, "46733123451", MINUTE).await;
    let expired_there = pending(&db, merchant, "46733123452", MINUTE).await;
    let short = SignedDuration::from_millis(300);
    let expired_here = pending(&db, merchant, "46733123453", short).await;

    for collection in [&rejected, &expired_there, &expired_here] {
        engine.handle().collect(merchant, collection.id);
    }
    let rejected = wait_final(&db, &rejected, Duration::from_secs(10)).await;
    let expired_there = wait_final(&db, &expired_there, Duration::from_secs(10)).await;
    let expired_here = wait_final(&db, &expired_here, Duration::from_secs(10)).await;
    engine.stop().await;

    assert_eq!(rejected.state, CollectionState::Failed);
    assert_eq!(rejected.failure_code.as_deref(), Some("APPROVAL_REJECTED"));
    assert_eq!(expired_there.state, CollectionState::Expired);
    assert_eq!(expired_here.state, CollectionState::Expired);
    let balances = ledger::balances(&db.client().await, merchant)
        .await
        .expect("balances");
    assert_eq!(balances, ledger::Balances::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_not_sent_are_resent_with_the_same_reference_until_paid() {
    const COLLECTIONS: usize = 8;
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates {
        not_sent: 600_000,
        ..FaultRates::default()
    });
    let engine = start_engine(&db, &simulator).await;
    let merchant = collecting_merchant(&db).await;
    let mut created = Vec::new();
    for i in 0..COLLECTIONS {
        let collection = pending(&db, merchant, &format!("25078800000{i}"), MINUTE).await;
        engine.handle().collect(merchant, collection.id);
        created.push(collection);
    }
    for collection in &created {
        let ended = wait_final(&db, collection, Duration::from_secs(20)).await;
        assert_eq!(ended.state, CollectionState::Paid);
    }
    engine.stop().await;

    let attempts: u32 = created
        .iter()
        .map(|collection| simulator.attempts(collection.reference))
        .sum();
    assert!(
        attempts > u32::try_from(COLLECTIONS).expect("small"),
        "some requests were not sent at first and were sent again ({attempts} attempts)"
    );
    let balances = ledger::balances(&db.client().await, merchant)
        .await
        .expect("balances");
    assert_eq!(balances.available, amount(9_800 * 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_collections_are_resumed_on_start_and_asked_about_before_any_resend() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let merchant = collecting_merchant(&db).await;
    // An earlier run sent this one and stopped; nobody ever sent the other.
    let sent = pending(&db, merchant, "250788111111", MINUTE).await;
    let request = PaymentRequest {
        reference: sent.reference,
        msisdn: sent.msisdn.clone(),
        amount: sent.amount,
        currency: sent.currency,
        message: None,
    };
    let answer = simulator.request_payment(&request).await;
    assert_eq!(answer, Ok(PaymentStatus::Pending));
    let never_sent = pending(&db, merchant, "250788222222", MINUTE).await;

    let engine = start_engine(&db, &simulator).await;
    let sent = wait_final(&db, &sent, Duration::from_secs(10)).await;
    let never_sent = wait_final(&db, &never_sent, Duration::from_secs(10)).await;
    engine.stop().await;

    assert_eq!(sent.state, CollectionState::Paid);
    assert_eq!(never_sent.state, CollectionState::Paid);
    assert_eq!(
        simulator.attempts(sent.reference),
        1,
        "the request sent before was not sent again"
    );
    assert_eq!(simulator.attempts(never_sent.reference), 1);
}

fn collector_actor(tree: &ractor::ActorCell) -> Option<ractor::ActorCell> {
    tree.get_children().into_iter().find(|child| {
        child
            .get_name()
            .is_some_and(|name| name.starts_with("collector:"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_collector_is_restarted_and_collections_still_end() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let engine = start_engine(&db, &simulator).await;
    let merchant = collecting_merchant(&db).await;
    let first = collector_actor(&engine.supervision_tree()).expect("the collector");

    first.kill();
    let deadline = Instant::now() + Duration::from_secs(5);
    let second = loop {
        if let Some(actor) = collector_actor(&engine.supervision_tree())
            && actor.get_id() != first.get_id()
        {
            break actor;
        }
        assert!(Instant::now() < deadline, "no new collector");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let collection = pending(&db, merchant, "250788123456", MINUTE).await;
    engine.handle().collect(merchant, collection.id);
    let paid = wait_final(&db, &collection, Duration::from_secs(10)).await;
    engine.stop().await;

    assert_ne!(first.get_id(), second.get_id());
    assert_eq!(paid.state, CollectionState::Paid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_whose_lease_does_not_hold_asks_nothing_until_it_is_renewed() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let merchant = collecting_merchant(&db).await;
    let collection = pending(&db, merchant, "250788123456", MINUTE).await;
    // A lease never renewed, as on a node paused or cut off from PostgreSQL.
    let lease = Arc::new(NodeLease::new(
        NodeId::new(),
        "paused".into(),
        Duration::from_secs(2),
        tokio::time::Instant::now(),
    ));
    let operator: Arc<dyn Operator> = simulator.clone();
    let args = CollectorArgs {
        pool: db.pool.clone(),
        operators: Arc::new(HashMap::from([(collection.route.clone(), operator)])),
        settings: CollectionSettings::default(),
        lease: Arc::clone(&lease),
    };
    let (collector, handle) = Actor::spawn(None, CollectorActor, args)
        .await
        .expect("the collector starts");

    let follow = CollectorMsg::Follow(Box::new(collection.clone()), FirstStep::Request);
    collector.send_message(follow).expect("sent");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held_back = simulator.attempts(collection.reference);
    lease.renewed(tokio::time::Instant::now());
    let paid = wait_final(&db, &collection, Duration::from_secs(10)).await;
    collector.stop(None);
    handle.await.expect("the collector stops");

    assert_eq!(
        held_back, 0,
        "no request to pay left while the lease did not hold"
    );
    assert_eq!(paid.state, CollectionState::Paid);
    assert_eq!(simulator.attempts(collection.reference), 1);
}
