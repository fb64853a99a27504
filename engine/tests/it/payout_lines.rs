//! Bulk insert of a batch's lines, claiming chunks, and guarded state moves.

use std::time::Duration;

use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::money::Currency;
use payrail_engine::msisdn::Msisdn;
use payrail_engine::route::RouteName;
use payrail_engine::state::batch::{BatchEvent, BatchState};
use payrail_engine::state::payout::{PayoutEvent, PayoutState};
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use payrail_engine::store::{StoreError, cluster};
use payrail_engine::testing::TestDb;

use crate::support::{amount, merchant, node, node_holding};

fn lines(count: i32) -> Vec<NewPayoutLine> {
    (0..count)
        .map(|i| NewPayoutLine {
            line_no: i + 2,
            msisdn: Msisdn::parse(
                &format!("25078{:07}", 1_000_000 + i),
                phonenumber::country::Id::RW,
            )
            .expect("valid number"),
            amount: amount(1_000 + i64::from(i)),
            fee: amount(50),
            route: RouteName::new("mtn-rw").expect("route"),
            client_reference: Some(format!("salary-{i}")),
            name: None,
            note: (i % 2 == 0).then(|| "November salary".to_owned()),
        })
        .collect()
}

async fn batch_with_lines(db: &TestDb, merchant: MerchantId, count: i32) -> BatchId {
    let mut client = db.client().await;
    let new = NewBatch::new(merchant, Currency::Rwf);
    let batch = new.id;
    let tx = client.transaction().await.expect("begin");
    batches::insert(&tx, &new).await.expect("insert batch");
    let inserted =
        payout_lines::insert_lines(&tx, merchant, batch, PayoutState::Queued, &lines(count))
            .await
            .expect("insert lines");
    tx.commit().await.expect("commit");
    assert_eq!(inserted, u64::try_from(count).expect("positive"));
    let tx = client.transaction().await.expect("begin");
    batches::finish_upload(&tx, merchant, batch)
        .await
        .expect("finish the upload");
    tx.commit().await.expect("commit");
    batch
}

#[tokio::test]
async fn inserted_lines_add_to_the_batch_totals_and_get_distinct_references() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let batch = batch_with_lines(&db, merchant, 500).await;
    let client = db.client().await;
    let stored = batches::get(&client, merchant, batch)
        .await
        .expect("get batch");
    assert_eq!(stored.line_count, 500);
    assert_eq!(
        stored.total_amount,
        amount((0..500).map(|i| 1_000 + i).sum())
    );
    assert_eq!(stored.total_fee, amount(500 * 50));
    let distinct: i64 = client
        .query_one(
            "SELECT count(DISTINCT reference) FROM payout_lines WHERE batch_id = $1",
            &[&batch],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(distinct, 500);
}

#[tokio::test]
async fn chunks_are_claimed_in_line_order_once_each() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let batch = batch_with_lines(&db, merchant, 25).await;
    let node = node_holding(&db, batch).await;
    let client = db.client().await;
    let mut seen: Vec<i32> = Vec::new();
    loop {
        let after = seen.last().copied().unwrap_or(0);
        let chunk = payout_lines::claim_chunk(&client, node, merchant, batch, after, 10)
            .await
            .expect("claim");
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.iter().all(|line| line.attempts == 1));
        seen.extend(chunk.iter().map(|line| line.line_no));
    }
    assert_eq!(seen, (2..27).collect::<Vec<_>>());
    let counts = payout_lines::count_by_state(&client, merchant, batch)
        .await
        .expect("counts");
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].state, counts[0].lines),
        (PayoutState::Sending, 25)
    );
}

#[tokio::test]
async fn a_guarded_move_skips_lines_that_moved_already() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let batch = batch_with_lines(&db, merchant, 4).await;
    let node = node_holding(&db, batch).await;
    let client = db.client().await;
    let chunk = payout_lines::claim_chunk(&client, node, merchant, batch, 0, 4)
        .await
        .expect("claim");
    let ids: Vec<_> = chunk.iter().map(|line| line.id).collect();
    let accepted = payout_lines::transition_lines(
        &client,
        merchant,
        &ids[..2],
        PayoutState::Sending,
        PayoutEvent::Accept,
    )
    .await
    .expect("accept");
    assert_eq!(accepted.len(), 2);
    let expired = payout_lines::transition_lines(
        &client,
        merchant,
        &ids,
        PayoutState::Sending,
        PayoutEvent::Expire,
    )
    .await
    .expect("expire");
    assert_eq!(expired.len(), 2, "only the two lines still sending move");
    let invalid = payout_lines::transition_lines(
        &client,
        merchant,
        &ids,
        PayoutState::Sending,
        PayoutEvent::Reserve,
    )
    .await;
    assert!(
        matches!(invalid, Err(StoreError::Transition(_))),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn lines_are_claimed_counted_and_moved_only_under_their_own_merchant() {
    // Every statement that reaches lines by batch or id also names the merchant (the
    // sharding plan in docs/cluster.md): under another merchant, nothing is found.
    let db = TestDb::new().await;
    let owner = merchant(&db, 50, 0).await;
    let other = merchant(&db, 50, 0).await;
    let batch = batch_with_lines(&db, owner, 4).await;
    let node = node_holding(&db, batch).await;
    let client = db.client().await;
    let stolen = payout_lines::claim_chunk(&client, node, other, batch, 0, 4)
        .await
        .expect("claim");
    assert!(stolen.is_empty(), "{stolen:?}");
    let counted = payout_lines::count_by_state(&client, other, batch)
        .await
        .expect("counts");
    assert!(counted.is_empty(), "{counted:?}");
    let chunk = payout_lines::claim_chunk(&client, node, owner, batch, 0, 4)
        .await
        .expect("claim");
    assert_eq!(chunk.len(), 4);
    let ids: Vec<_> = chunk.iter().map(|line| line.id).collect();
    let in_flight = payout_lines::in_flight(&client, other, batch)
        .await
        .expect("in flight");
    assert!(in_flight.is_empty(), "{in_flight:?}");
    let moved = payout_lines::transition_lines(
        &client,
        other,
        &ids,
        PayoutState::Sending,
        PayoutEvent::Accept,
    )
    .await
    .expect("accept");
    assert!(moved.is_empty(), "{moved:?}");
    let marked = payout_lines::mark_submitted(&client, other, &ids)
        .await
        .expect("mark");
    assert_eq!(marked, 0);
    let finish = payout_lines::FinishedLine {
        id: ids[0],
        event: PayoutEvent::Succeed,
        failure_code: None,
        operator_transaction_id: None,
    };
    let finished = payout_lines::finish_lines(&client, other, &[finish])
        .await
        .expect("finish");
    assert!(finished.is_empty(), "{finished:?}");
    let totals = payout_lines::route_totals(&client, other, batch)
        .await
        .expect("totals");
    assert!(totals.is_empty(), "{totals:?}");
    let counts = payout_lines::count_by_state(&client, owner, batch)
        .await
        .expect("counts");
    assert_eq!(
        counts
            .iter()
            .map(|c| (c.state, c.lines))
            .collect::<Vec<_>>(),
        vec![(PayoutState::Sending, 4)]
    );
}

#[tokio::test]
async fn only_the_node_holding_a_batch_under_a_live_lease_claims_its_lines() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let batch = batch_with_lines(&db, merchant, 4).await;
    let owner = node_holding(&db, batch).await;
    let other = node(&db).await;
    let client = db.client().await;
    let refused = payout_lines::claim_chunk(&client, other, merchant, batch, 0, 4).await;
    assert!(
        matches!(refused, Err(StoreError::NotOwner)),
        "another live node claims nothing: {refused:?}"
    );
    client
        .execute(
            "UPDATE cluster_nodes SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&owner],
        )
        .await
        .expect("the owner's lease runs out");
    let lapsed = payout_lines::claim_chunk(&client, owner, merchant, batch, 0, 4).await;
    assert!(
        matches!(lapsed, Err(StoreError::NotOwner)),
        "a lapsed lease claims nothing, on the database's clock: {lapsed:?}"
    );
    let counts = payout_lines::count_by_state(&client, merchant, batch)
        .await
        .expect("counts");
    assert_eq!(
        counts
            .iter()
            .map(|count| (count.state, count.lines))
            .collect::<Vec<_>>(),
        vec![(PayoutState::Queued, 4)],
        "no line moved"
    );
    cluster::renew(
        &client,
        owner,
        Duration::from_secs(60),
        &serde_json::json!({}),
    )
    .await
    .expect("an expired lease nobody reaped is renewed");
    let chunk = payout_lines::claim_chunk(&client, owner, merchant, batch, 0, 4)
        .await
        .expect("the owner claims again");
    assert_eq!(chunk.len(), 4);
}

#[tokio::test]
async fn a_batch_moves_only_from_the_state_it_is_in() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 0, 0).await;
    let batch = batch_with_lines(&db, merchant, 1).await;
    let client = db.client().await;
    let state = batches::transition(
        &client,
        merchant,
        batch,
        BatchState::Validating,
        BatchEvent::Schedule,
    )
    .await
    .expect("schedule");
    assert_eq!(state, BatchState::Scheduled);
    let stale = batches::transition(
        &client,
        merchant,
        batch,
        BatchState::Validating,
        BatchEvent::Schedule,
    )
    .await;
    assert!(
        matches!(stale, Err(StoreError::StaleState { .. })),
        "{stale:?}"
    );
    let other = MerchantId::new();
    let foreign = batches::get(&client, other, batch).await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound { .. })),
        "another merchant's batch is not found"
    );
}

#[tokio::test]
async fn lines_are_not_inserted_into_another_merchants_batch() {
    let db = TestDb::new().await;
    let owner = merchant(&db, 0, 0).await;
    let intruder = merchant(&db, 0, 0).await;
    let batch = batch_with_lines(&db, owner, 3).await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let refused =
        payout_lines::insert_lines(&tx, intruder, batch, PayoutState::Queued, &lines(2)).await;
    drop(tx);
    assert!(
        matches!(refused, Err(StoreError::NotFound { .. })),
        "{refused:?}"
    );
    let stored: i64 = client
        .query_one(
            "SELECT count(*) FROM payout_lines WHERE batch_id = $1",
            &[&batch],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 3, "nothing was added to the owner's batch");
}

#[tokio::test]
async fn parts_written_at_once_are_all_counted_and_none_after_the_upload_ends() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let new = NewBatch::new(merchant, Currency::Rwf);
    let batch = new.id;
    batches::insert(&db.client().await, &new)
        .await
        .expect("insert batch");
    let all = lines(300);
    let mut first = db.client().await;
    let mut second = db.client().await;
    let first_tx = first.transaction().await.expect("begin");
    let second_tx = second.transaction().await.expect("begin");
    let (a, b) = tokio::join!(
        payout_lines::insert_lines(
            &first_tx,
            merchant,
            batch,
            PayoutState::Validated,
            &all[..100]
        ),
        payout_lines::insert_lines(
            &second_tx,
            merchant,
            batch,
            PayoutState::Validated,
            &all[100..]
        ),
    );
    assert_eq!(
        (a.expect("first part"), b.expect("second part")),
        (100, 200)
    );
    let mut finisher = db.client().await;
    let finishing = tokio::spawn(async move {
        let finish_tx = finisher.transaction().await.expect("begin");
        let batch = batches::finish_upload(&finish_tx, merchant, batch).await;
        finish_tx.commit().await.expect("commit");
        batch
    });
    first_tx.commit().await.expect("commit first part");
    second_tx.commit().await.expect("commit second part");
    let finished = finishing.await.expect("join").expect("finish the upload");
    assert_eq!(finished.state, BatchState::Validating);
    assert_eq!(
        finished.line_count, 300,
        "parts committed while finishing are counted"
    );
    assert_eq!(finished.total_fee, amount(300 * 50));

    let tx = first.transaction().await.expect("begin");
    let late =
        payout_lines::insert_lines(&tx, merchant, batch, PayoutState::Validated, &all[..1]).await;
    assert!(
        matches!(late, Err(StoreError::StaleState { .. })),
        "{late:?}"
    );
}

/// Events written for the merchant's payouts, by type.
async fn payout_events(db: &TestDb, merchant: MerchantId) -> Vec<String> {
    db.client()
        .await
        .query(
            "SELECT event_type FROM webhook_events WHERE merchant_id = $1 AND event_type LIKE 'payout.%' ORDER BY created_at",
            &[&merchant],
        )
        .await
        .expect("events")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn only_single_payouts_write_payout_events_and_no_statement_keeps_its_lines() {
    let db = TestDb::new().await;
    let merchant = merchant(&db, 50, 0).await;
    let client = db.client().await;
    client
        .execute(
            "UPDATE merchants SET webhook_url = 'https://example.com/hooks' WHERE id = $1",
            &[&merchant],
        )
        .await
        .expect("a webhook URL");
    let payroll = batch_with_lines(&db, merchant, 300).await;
    client
        .execute(
            "UPDATE payout_lines SET state = 'cancelled' WHERE batch_id = $1",
            &[&payroll],
        )
        .await
        .expect("cancel the payroll's lines");
    assert_eq!(payout_events(&db, merchant).await, Vec::<String>::new());
    let single = batch_with_lines(&db, merchant, 2).await;
    client
        .execute(
            "UPDATE payout_lines SET single = true WHERE batch_id = $1",
            &[&single],
        )
        .await
        .expect("mark them single");
    client
        .execute(
            "UPDATE payout_lines SET state = CASE line_no WHEN 2 THEN 'succeeded' ELSE 'failed' END WHERE batch_id = $1",
            &[&single],
        )
        .await
        .expect("finish them");
    assert_eq!(
        payout_events(&db, merchant).await,
        ["payout.succeeded", "payout.failed"]
    );
    // A statement-level trigger with transition tables keeps every line a statement
    // changes; one planned once for a small statement made cancelling quadratic.
    let kept: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'payout_lines'::regclass
                AND (tgoldtable IS NOT NULL OR tgnewtable IS NOT NULL)",
            &[],
        )
        .await
        .expect("triggers")
        .get(0);
    assert_eq!(kept, 0);
}
