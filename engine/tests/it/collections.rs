//! Collections in the store: created pending with the agreement's fee, read only by their
//! merchant, listed by keyset, and finished once — a paid one credited to the ledger in the
//! same transaction, with its LTGS callback row in the outbox.

use jiff::{SignedDuration, Timestamp};
use payrail_engine::ids::{CollectionId, MerchantId};
use payrail_engine::ledger;
use payrail_engine::money::Currency;
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::route::RouteName;
use payrail_engine::state::collection::CollectionState;
use payrail_engine::store::StoreError;
use payrail_engine::store::collections::{
    self, CollectionOutcome, CreateCollectionError, NewCollection,
};
use payrail_engine::testing::TestDb;

use crate::support::{amount, merchant, node};

fn new_collection(merchant: MerchantId, reference: Option<&str>) -> NewCollection {
    NewCollection {
        id: CollectionId::new(),
        merchant,
        msisdn: Msisdn::parse("0788123456", Region::RW).expect("a number"),
        amount: amount(10_000),
        currency: Currency::Rwf,
        route: RouteName::new("mtn-rw").expect("a route"),
        payment_channel: "MTN MoMo".into(),
        client_reference: reference.map(str::to_owned),
        payer_message: Some("Invoice 42".into()),
        callback_url: Some("https://shop.example/ltgs".into()),
        ltgs: None,
        created_by: None,
        expires_at: Timestamp::now() + SignedDuration::from_mins(5),
    }
}

#[tokio::test]
async fn a_new_collection_is_pending_with_the_agreed_fee_and_only_its_merchant_sees_it() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let other = merchant(&db, 0, 0).await;
    let client = db.client().await;

    let created = collections::insert(&client, &new_collection(owner, Some("INV-1")))
        .await
        .expect("created");

    assert_eq!(created.state, CollectionState::Pending);
    assert_eq!(created.fee, amount(150), "150 bps of 10 000");
    assert_eq!(created.payment_channel.as_deref(), Some("MTN MoMo"));
    let read = collections::get(&client, owner, created.id)
        .await
        .expect("read");
    assert_eq!(read, created);
    let hidden = collections::get(&client, other, created.id).await;
    assert!(
        matches!(hidden, Err(StoreError::NotFound { .. })),
        "{hidden:?}"
    );
}

#[tokio::test]
async fn a_wrong_currency_or_a_reused_reference_is_refused() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let client = db.client().await;
    let mut in_euros = new_collection(owner, None);
    in_euros.currency = Currency::Eur;
    let refused = collections::insert(&client, &in_euros).await;
    assert!(
        matches!(refused, Err(CreateCollectionError::WrongCurrency { .. })),
        "{refused:?}"
    );

    collections::insert(&client, &new_collection(owner, Some("INV-1")))
        .await
        .expect("first");
    let again = collections::insert(&client, &new_collection(owner, Some("INV-1"))).await;
    assert!(
        matches!(again, Err(CreateCollectionError::DuplicateReference(ref r)) if r == "INV-1"),
        "{again:?}"
    );
}

#[tokio::test]
async fn collections_are_listed_by_keyset_in_creation_order() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let client = db.client().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = collections::insert(&client, &new_collection(owner, None))
            .await
            .expect("created");
        ids.push(created.id);
    }
    let first = collections::list(&client, owner, None, 2)
        .await
        .expect("page");
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..2]);
    let rest = collections::list(&client, owner, Some(ids[1]), 2)
        .await
        .expect("page");
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), ids[2..]);
}

#[tokio::test]
async fn a_paid_collection_is_credited_once_and_its_ltgs_callback_written_once() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let mut client = db.client().await;
    let created = collections::insert(&client, &new_collection(owner, Some("INV-7")))
        .await
        .expect("created");
    let paid = CollectionOutcome::Paid {
        operator_transaction_id: Some("op-123".into()),
    };

    let tx = client.transaction().await.expect("begin");
    let state = collections::finish(&tx, owner, created.id, &paid)
        .await
        .expect("finished");
    tx.commit().await.expect("commit");
    assert_eq!(state, CollectionState::Paid);
    let tx = client.transaction().await.expect("begin");
    let twice = collections::finish(&tx, owner, created.id, &paid).await;
    assert!(
        matches!(twice, Err(StoreError::StaleState { .. })),
        "{twice:?}"
    );
    drop(tx);

    let balances = ledger::balances(&client, owner).await.expect("balances");
    assert_eq!(balances.available, amount(9_850));
    assert_eq!(balances.fee_revenue, amount(150));
    assert_eq!(balances.received, amount(10_000));
    assert!(ledger::audit(&client).await.expect("audit").is_sound());
    let callbacks = client
        .query(
            "SELECT payload FROM webhook_events WHERE url = 'https://shop.example/ltgs'",
            &[],
        )
        .await
        .expect("outbox");
    assert_eq!(callbacks.len(), 1);
    let payload: serde_json::Value = callbacks[0].get(0);
    assert_eq!(payload["Sale_Reference_ID"], "INV-7");
    assert_eq!(payload["Payment_Status"], "PAID");
    assert_eq!(payload["Payment_Ref_ID"], "op-123");
    assert_eq!(payload["Total_Amount_Paid"], "10000");
}

#[tokio::test]
async fn failed_and_expired_collections_credit_nothing_and_leave_the_pending_list() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let mut client = db.client().await;
    let failed = collections::insert(&client, &new_collection(owner, None))
        .await
        .expect("created");
    let expired = collections::insert(&client, &new_collection(owner, None))
        .await
        .expect("created");
    let waiting = collections::insert(&client, &new_collection(owner, None))
        .await
        .expect("created");

    let tx = client.transaction().await.expect("begin");
    let code = CollectionOutcome::Failed {
        code: "APPROVAL_REJECTED".into(),
    };
    collections::finish(&tx, owner, failed.id, &code)
        .await
        .expect("failed");
    collections::finish(&tx, owner, expired.id, &CollectionOutcome::Expired)
        .await
        .expect("expired");
    tx.commit().await.expect("commit");

    let failed = collections::get(&client, owner, failed.id)
        .await
        .expect("read");
    assert_eq!(failed.state, CollectionState::Failed);
    assert_eq!(failed.failure_code.as_deref(), Some("APPROVAL_REJECTED"));
    let node = node(&db).await;
    let pending: Vec<CollectionId> = collections::to_follow(&client, node)
        .await
        .expect("pending")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(pending, vec![waiting.id]);
    let balances = ledger::balances(&client, owner).await.expect("balances");
    assert_eq!(balances, ledger::Balances::default());
}
