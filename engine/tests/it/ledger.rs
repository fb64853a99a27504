//! The ledger's operations against a real database, and the database's own refusals.

use payrail_engine::ids::{BatchId, CollectionId, PayoutId};
use payrail_engine::ledger::{self, CollectionCredit, LedgerError, Release, Settlement};
use payrail_engine::route::RouteName;
use payrail_engine::testing::TestDb;

use crate::support::{amount, merchant};

fn mtn() -> RouteName {
    RouteName::new("mtn-rw").expect("a valid route name")
}

#[tokio::test]
async fn reserve_settle_and_release_move_money_as_documented() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 100, 100_000).await;
    let payouts = [PayoutId::new(), PayoutId::new(), PayoutId::new()];
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    ledger::reserve(&tx, merchant, BatchId::new(), amount(30_300))
        .await
        .expect("reserve");
    let settlements: Vec<Settlement> = payouts[..2]
        .iter()
        .map(|payout| Settlement {
            payout: *payout,
            route: mtn(),
            amount: amount(10_000),
            fee: amount(100),
        })
        .collect();
    ledger::settle(&tx, merchant, &settlements)
        .await
        .expect("settle");
    let release = Release {
        payout: payouts[2],
        amount_with_fee: amount(10_100),
    };
    ledger::release(&tx, merchant, &[release])
        .await
        .expect("release");
    tx.commit().await.expect("commit");

    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(balances.available, amount(79_800));
    assert_eq!(balances.reserved, amount(0));
    assert_eq!(balances.fee_revenue, amount(200));
    assert_eq!(balances.clearing.get("mtn-rw"), Some(&amount(20_000)));
    assert_eq!(balances.received, amount(100_000));
    assert!(ledger::audit(&client).await.expect("audit").is_sound());
}

#[tokio::test]
async fn a_reservation_beyond_the_available_balance_posts_nothing() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 1_000).await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let refused = ledger::reserve(&tx, merchant, BatchId::new(), amount(1_001)).await;
    assert!(
        matches!(refused, Err(LedgerError::InsufficientFunds { available, needed })
            if available == amount(1_000) && needed == amount(1_001)),
        "{refused:?}"
    );
    tx.commit().await.expect("commit");
    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(
        (balances.available, balances.reserved),
        (amount(1_000), amount(0))
    );
    let entries: i64 = client
        .query_one(
            "SELECT count(*) FROM journal_entries WHERE kind = 'reservation'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(entries, 0);
}

#[tokio::test]
async fn a_batch_reserves_once_and_a_payout_settles_or_releases_once() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 50_000).await;
    let (batch, payout) = (BatchId::new(), PayoutId::new());
    let mut client = db.client().await;

    let tx = client.transaction().await.expect("begin");
    ledger::reserve(&tx, merchant, batch, amount(20_000))
        .await
        .expect("reserve");
    let settlement = Settlement {
        payout,
        route: mtn(),
        amount: amount(10_000),
        fee: amount(0),
    };
    ledger::settle(&tx, merchant, std::slice::from_ref(&settlement))
        .await
        .expect("settle");
    tx.commit().await.expect("commit");

    let tx = client.transaction().await.expect("begin");
    let again = ledger::reserve(&tx, merchant, batch, amount(20_000)).await;
    assert!(
        matches!(again, Err(LedgerError::AlreadyPosted { .. })),
        "{again:?}"
    );
    drop(tx);
    let tx = client.transaction().await.expect("begin");
    let twice = ledger::settle(&tx, merchant, &[settlement]).await;
    assert!(
        matches!(twice, Err(LedgerError::AlreadyPosted { .. })),
        "{twice:?}"
    );
    drop(tx);
    let tx = client.transaction().await.expect("begin");
    let released = ledger::release(
        &tx,
        merchant,
        &[Release {
            payout,
            amount_with_fee: amount(10_000),
        }],
    )
    .await;
    assert!(
        matches!(released, Err(LedgerError::AlreadyPosted { .. })),
        "{released:?}"
    );
    drop(tx);

    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(
        (balances.available, balances.reserved),
        (amount(30_000), amount(10_000))
    );
}

#[tokio::test]
async fn settling_more_than_is_reserved_is_refused_by_the_database() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 50_000).await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let settlement = Settlement {
        payout: PayoutId::new(),
        route: mtn(),
        amount: amount(1),
        fee: amount(0),
    };
    let refused = ledger::settle(&tx, merchant, &[settlement]).await;
    assert!(
        matches!(&refused, Err(LedgerError::Refused { constraint }) if constraint == "ledger_accounts_balance_non_negative"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_paid_collection_credits_the_merchant_less_its_fee_once() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 0).await;
    let credit = CollectionCredit {
        collection: CollectionId::new(),
        amount: amount(10_000),
        fee: amount(150),
    };
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    ledger::credit_collection(&tx, merchant, &credit)
        .await
        .expect("credit");
    tx.commit().await.expect("commit");
    let tx = client.transaction().await.expect("begin");
    let again = ledger::credit_collection(&tx, merchant, &credit).await;
    assert!(
        matches!(again, Err(LedgerError::AlreadyPosted { .. })),
        "{again:?}"
    );
    drop(tx);
    let balances = ledger::balances(&client, merchant).await.expect("balances");
    assert_eq!(
        (balances.available, balances.fee_revenue),
        (amount(9_850), amount(150))
    );
    assert_eq!(balances.received, amount(10_000));
}

#[tokio::test]
async fn a_raw_update_cannot_make_a_balance_negative() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 5_000).await;
    let client = db.client().await;
    let refused = client
        .execute(
            "UPDATE ledger_accounts SET balance = balance - 5001 WHERE merchant_id = $1 AND kind = 'merchant_available'",
            &[&merchant],
        )
        .await
        .expect_err("the database must refuse a negative balance");
    let constraint = refused.as_db_error().and_then(|db| db.constraint());
    assert_eq!(constraint, Some("ledger_accounts_balance_non_negative"));
}

#[tokio::test]
async fn an_unbalanced_entry_is_refused_and_entries_are_immutable() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 5_000).await;
    let client = db.client().await;
    let unbalanced = client
        .execute(
            "WITH entry AS (INSERT INTO journal_entries (merchant_id, kind, movement_id) VALUES ($1, 'funding', gen_random_uuid()) RETURNING id)
             INSERT INTO postings (entry_id, merchant_id, account_id, amount)
             SELECT entry.id, $1, a.id, 7 FROM entry, ledger_accounts a
              WHERE a.merchant_id = $1 AND a.kind = 'merchant_available'",
            &[&merchant],
        )
        .await
        .expect_err("an entry that does not sum to zero must be refused");
    assert_eq!(
        unbalanced.as_db_error().and_then(|db| db.constraint()),
        Some("journal_entries_balanced")
    );

    for change in [
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM journal_entries",
        "TRUNCATE postings CASCADE",
    ] {
        let refused = client.batch_execute(change).await;
        assert!(refused.is_err(), "{change} must be refused");
    }
    assert!(ledger::audit(&client).await.expect("audit").is_sound());
}

#[tokio::test]
async fn the_audit_sees_payout_outcomes_that_do_not_match_their_entry_or_are_missing() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 10_000).await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    ledger::reserve(&tx, merchant, BatchId::new(), amount(5_000))
        .await
        .expect("reserve");
    let lines = [PayoutId::new(), PayoutId::new()].map(|payout| Settlement {
        payout,
        route: mtn(),
        amount: amount(2_000),
        fee: amount(500),
    });
    ledger::settle(&tx, merchant, &lines).await.expect("settle");
    tx.commit().await.expect("commit");
    assert!(ledger::audit(&client).await.expect("audit").is_sound());

    client
        .execute(
            "INSERT INTO payout_outcomes (payout_id, merchant_id, entry_id, kind, amount, fee)
             SELECT $1, $2, id, 'settlement', 1, 0 FROM journal_entries WHERE kind = 'settlement'",
            &[&PayoutId::new(), &merchant],
        )
        .await
        .expect("a stray outcome row");
    let report = ledger::audit(&client).await.expect("audit");
    assert_eq!(report.outcomes_off_entries, 1, "{report:?}");

    // A settlement with no payout behind it, paid from the available balance: balanced,
    // nothing negative, but money left for no payout.
    client
        .execute(
            "WITH entry AS (INSERT INTO journal_entries (merchant_id, kind)
                            VALUES ($1, 'settlement') RETURNING id)
             INSERT INTO postings (entry_id, merchant_id, account_id, amount)
             SELECT entry.id, $1, a.id,
                    CASE a.kind WHEN 'merchant_available' THEN -100 ELSE 100 END
               FROM entry, ledger_accounts a
              WHERE a.merchant_id = $1
                AND (a.kind = 'merchant_available' OR a.kind = 'route_clearing')",
            &[&merchant],
        )
        .await
        .expect("a settlement without outcomes");
    let report = ledger::audit(&client).await.expect("audit");
    assert_eq!(report.outcomes_off_entries, 2, "{report:?}");

    // An outcome naming an entry that does not exist: no key refuses it, the audit sees it.
    client
        .execute(
            "INSERT INTO payout_outcomes (payout_id, merchant_id, entry_id, kind, amount, fee)
             VALUES ($1, $2, 999999, 'release', 1, 0)",
            &[&PayoutId::new(), &merchant],
        )
        .await
        .expect("an outcome without its entry");
    let report = ledger::audit(&client).await.expect("audit");
    assert_eq!(report.outcomes_without_entry, 1, "{report:?}");
}
