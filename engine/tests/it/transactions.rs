//! A merchant's transactions are read through its own rows: the plan of a page walks the
//! merchant's index, never another merchant's lines.

use payrail_engine::ids::BatchId;
use payrail_engine::testing::TestDb;

use crate::support::merchant;

/// `count` succeeded payout lines for `merchant` in one batch, written in SQL.
async fn lines_for(db: &TestDb, merchant: payrail_engine::ids::MerchantId, count: i32) {
    let client = db.client().await;
    let batch = BatchId::new();
    client
        .execute(
            "INSERT INTO batches (id, merchant_id, state, currency) VALUES ($1, $2, 'completed', 'RWF')",
            &[&batch, &merchant],
        )
        .await
        .expect("a batch");
    client
        .execute(
            "INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route, state)
             SELECT gen_random_uuid(), $1, $2, g, '250788123456', 100, 10, 'mtn-rw', 'succeeded'
               FROM generate_series(1, $3) AS g",
            &[&merchant, &batch, &count],
        )
        .await
        .expect("lines");
}

#[tokio::test]
async fn a_page_of_transactions_reads_the_merchant_s_own_index() {
    let db = TestDb::new().await;
    let small = merchant(&db, 50, 0).await;
    for _ in 0..4 {
        let other = merchant(&db, 50, 0).await;
        lines_for(&db, other, 5_000).await;
    }
    lines_for(&db, small, 20).await;
    let client = db.client().await;
    client.batch_execute("ANALYZE").await.expect("statistics");
    let filter = payrail_engine::store::transactions::TransactionFilter::default();
    let plan = payrail_engine::store::transactions::explain_page(&client, small, &filter, false)
        .await
        .expect("a plan");
    let plan = plan.join("\n");
    assert!(plan.contains("payout_lines_merchant"), "{plan}");
    assert!(!plan.contains("Seq Scan on payout_lines"), "{plan}");
}
