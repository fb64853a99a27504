//! A merchant's transactions are read through its own rows: the plan of a page walks the
//! merchant's index, never another merchant's lines; a number is found by its last digits
//! whether or not its batch's numbers are indexed yet.

use payrail_engine::testing::TestDb;

use crate::support::merchant;

/// `count` succeeded lines numbered 250788100001, 250788100002, … in one batch, in SQL:
/// a batch stored and not yet indexed.
async fn numbered_lines(db: &TestDb, merchant: payrail_engine::ids::MerchantId, count: i32) {
    let client = db.client().await;
    client
        .execute(
            "WITH batch AS (
                 INSERT INTO batches (id, merchant_id, state, currency)
                 VALUES (gen_random_uuid(), $1, 'completed', 'RWF') RETURNING id)
             INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route, state)
             SELECT gen_random_uuid(), $1, batch.id, g, '2507881' || lpad(g::text, 5, '0'), 100, 10,
                    'mtn-rw', 'succeeded'
               FROM batch, generate_series(1, $2) AS g",
            &[&merchant, &count],
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
        numbered_lines(&db, other, 5_000).await;
    }
    numbered_lines(&db, small, 20).await;
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

#[tokio::test]
async fn a_number_is_found_by_its_last_digits_before_and_after_its_batch_is_indexed() {
    use payrail_engine::store::{payout_numbers, transactions};
    let db = TestDb::new().await;
    let owner = merchant(&db, 50, 0).await;
    let other = merchant(&db, 50, 0).await;
    numbered_lines(&db, owner, 100).await;
    numbered_lines(&db, other, 20_000).await;
    let client = db.client().await;
    let search = |digits: &str| transactions::TransactionFilter {
        msisdn_suffix: Some(digits.to_owned()),
        ..transactions::TransactionFilter::default()
    };
    let found = async |digits: &str| {
        let page = transactions::list(&client, owner, &search(digits), None, 500)
            .await
            .expect("a page");
        let totals = transactions::totals(&client, owner, &search(digits))
            .await
            .expect("totals");
        assert_eq!(i64::try_from(page.len()).expect("small"), totals.count);
        let mut numbers: Vec<String> = page
            .into_iter()
            .map(|row| row.msisdn.expect("a payout's number"))
            .collect();
        numbers.sort();
        numbers
    };
    let ending_in_7: Vec<String> = (0..10)
        .map(|t| format!("2507881{:05}", t * 10 + 7))
        .collect();
    // Not yet indexed: the batch's own lines are read.
    assert_eq!(found("7").await, ending_in_7);
    assert_eq!(found("00042").await, ["250788100042"]);
    assert!(found("9999").await.is_empty());

    assert_eq!(
        payout_numbers::index_pending(&mut db.client().await)
            .await
            .expect("indexed"),
        2
    );
    assert_eq!(
        payout_numbers::index_pending(&mut db.client().await)
            .await
            .expect("none left"),
        0
    );
    let indexed: i64 = client
        .query_one("SELECT count(*) FROM payout_line_numbers", &[])
        .await
        .expect("a count")
        .get(0);
    assert_eq!(indexed, 20_100);
    assert_eq!(found("7").await, ending_in_7);
    assert_eq!(found("00042").await, ["250788100042"]);
    assert!(found("9999").await.is_empty());

    client.batch_execute("ANALYZE").await.expect("statistics");
    let plan = transactions::explain_page(&client, owner, &search("7"), false)
        .await
        .expect("a plan")
        .join("\n");
    assert!(plan.contains("payout_line_numbers_pkey"), "{plan}");
}
