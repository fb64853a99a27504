//! The analytics' latency histogram is one scale in two places: the SQL functions that count
//! latencies as lines end, and the Rust that reads percentiles from the sums. They must agree
//! bucket for bucket, or every reported percentile is off.

use payrail_engine::store::activity::{self, LATENCY_BOUNDS_MS};
use payrail_engine::testing::TestDb;

#[tokio::test]
async fn the_database_holds_the_same_bounds_as_the_code() {
    let db = TestDb::new().await;
    let stored = activity::stored_bounds(&db.client().await)
        .await
        .expect("the bounds");
    assert_eq!(stored, LATENCY_BOUNDS_MS.to_vec());
}

#[tokio::test]
async fn a_percentile_read_from_the_databases_histogram_bounds_the_value_within_a_bucket() {
    let db = TestDb::new().await;
    let client = db.client().await;
    for value in [
        0_i64,
        9,
        10,
        11,
        99,
        100,
        101,
        1_234,
        59_999,
        60_000,
        99_999_999,
        100_000_000,
    ] {
        let histogram: Vec<i64> = client
            .query_one(
                "SELECT payrail_latency_histogram(ARRAY[$1::bigint])",
                &[&value],
            )
            .await
            .expect("a histogram")
            .get(0);
        assert_eq!(histogram.len(), LATENCY_BOUNDS_MS.len() + 1);
        let estimate = activity::percentile_ms(&histogram, 50).expect("one value");
        if value < 100_000_000 {
            assert!(estimate > value, "{value} ms read as {estimate} ms");
            assert!(
                estimate <= (value * 4 / 3).max(10),
                "{value} ms read as {estimate} ms"
            );
        } else {
            assert_eq!(
                estimate, 100_000_000,
                "the last bucket answers its lower bound"
            );
        }
    }
}
