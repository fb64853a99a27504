//! What ended, counted for analytics: per merchant, quarter of an hour, route and outcome,
//! the count, amounts and fees, and a histogram of the times from sending to the end. The
//! statements that end payouts and collections add to it in the same statement
//! (`count_ended!`), so the counts commit with the ends; analytics then read a few
//! thousand rows a month, however many payouts there were.

use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::StoreError;
use crate::ids::MerchantId;

/// The histogram's bucket bounds in milliseconds: ten a decade from 10 ms to 28 hours.
/// Bucket 0 is below the first bound, bucket `i` below bound `i`, the last at or above the
/// last bound. The migration's `payrail_latency_bounds()` is the same list.
pub const LATENCY_BOUNDS_MS: [i64; 71] = [
    10,
    12,
    15,
    20,
    25,
    30,
    40,
    50,
    60,
    80,
    100,
    120,
    150,
    200,
    250,
    300,
    400,
    500,
    600,
    800,
    1_000,
    1_200,
    1_500,
    2_000,
    2_500,
    3_000,
    4_000,
    5_000,
    6_000,
    8_000,
    10_000,
    12_000,
    15_000,
    20_000,
    25_000,
    30_000,
    40_000,
    50_000,
    60_000,
    80_000,
    100_000,
    120_000,
    150_000,
    200_000,
    250_000,
    300_000,
    400_000,
    500_000,
    600_000,
    800_000,
    1_000_000,
    1_200_000,
    1_500_000,
    2_000_000,
    2_500_000,
    3_000_000,
    4_000_000,
    5_000_000,
    6_000_000,
    8_000_000,
    10_000_000,
    12_000_000,
    15_000_000,
    20_000_000,
    25_000_000,
    30_000_000,
    40_000_000,
    50_000_000,
    60_000_000,
    80_000_000,
    100_000_000,
];

/// Buckets in a histogram.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The statement that adds the rows of `$source` (a CTE with `merchant_id`, `route`,
/// `outcome` ('succeeded' or 'failed'), `failure_code` ('' when none), `amount`, `fee` and
/// `latency_ms`) to the quarter-hour of `now()`. Amounts and fees count what succeeded.
macro_rules! count_ended {
    ($source:literal, $kind:literal) => {
        concat!(
            "INSERT INTO activity_stats AS s (merchant_id, bucket, kind, route, outcome,
                                              failure_code, count, amount, fee, latency)
             SELECT merchant_id, date_bin('15 minutes', now(), timestamptz 'epoch'), '",
            $kind,
            "', route, outcome, failure_code, count(*),
                    coalesce(sum(amount) FILTER (WHERE outcome = 'succeeded'), 0),
                    coalesce(sum(fee) FILTER (WHERE outcome = 'succeeded'), 0),
                    payrail_latency_histogram(array_agg(latency_ms))
               FROM ",
            $source,
            " GROUP BY merchant_id, route, outcome, failure_code
             ON CONFLICT (merchant_id, bucket, kind, route, outcome, failure_code) DO UPDATE
                SET count = s.count + excluded.count, amount = s.amount + excluded.amount,
                    fee = s.fee + excluded.fee,
                    latency = payrail_latency_add(s.latency, excluded.latency)"
        )
    };
}
pub(crate) use count_ended;

/// One period's counts for one kind, route and outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRow {
    /// The period's start (a day, week or month in the report's time zone).
    pub period: Timestamp,
    /// "payout" or "collection".
    pub kind: String,
    pub route: String,
    pub succeeded: bool,
    /// Empty for successes.
    pub failure_code: String,
    pub count: i64,
    pub amount: i64,
    pub fee: i64,
    /// Counts per bucket of `LATENCY_BOUNDS_MS`.
    pub latency: Vec<i64>,
}

/// How long an analytics period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// PostgreSQL's `date_trunc` field (a week starts on Monday, as ISO 8601 has it).
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// `sum(latency[1]), …, sum(latency[72])`: a fixed list of sums runs in one pass, where
/// unnesting the arrays would make seventy rows of each.
fn latency_sums() -> String {
    (1..=LATENCY_BUCKETS)
        .map(|i| format!("sum(latency[{i}])::bigint"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A merchant's activity in `[from, to)`, summed per period (starting at midnight in
/// `time_zone`, an IANA name), kind, route and outcome, periods in order.
pub async fn periods(
    client: &impl GenericClient,
    merchant: MerchantId,
    from: Timestamp,
    to: Timestamp,
    time_zone: &str,
    granularity: Granularity,
) -> Result<Vec<ActivityRow>, StoreError> {
    let sql = format!(
        "SELECT date_trunc($4, bucket, $5) AS period, kind, route, outcome, failure_code,
                sum(count)::bigint, sum(amount)::bigint, sum(fee)::bigint, {}
           FROM activity_stats
          WHERE merchant_id = $1 AND bucket >= $2 AND bucket < $3
          GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        latency_sums()
    );
    let rows = client
        .query(
            &sql,
            &[&merchant, &from, &to, &granularity.as_str(), &time_zone],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let outcome: &str = row.try_get(3)?;
            let latency = (0..LATENCY_BUCKETS)
                .map(|i| row.try_get::<_, i64>(8 + i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ActivityRow {
                period: row.try_get(0)?,
                kind: row.try_get(1)?,
                route: row.try_get(2)?,
                succeeded: outcome == "succeeded",
                failure_code: row.try_get(4)?,
                count: row.try_get(5)?,
                amount: row.try_get(6)?,
                fee: row.try_get(7)?,
                latency,
            })
        })
        .collect()
}

/// The time (ms) below which `percent` % of a histogram's counts fall, given as the upper
/// bound of the bucket that holds that rank (the last bucket answers its lower bound): an
/// upper estimate within one bucket, a third above at most. `None` for an empty histogram.
pub fn percentile_ms(histogram: &[i64], percent: i64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the value, 1-based, rounded up: the median of 4 is the 2nd.
    let rank = ((total * percent + 99) / 100).max(1);
    let mut seen = 0;
    for (bucket, count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return Some(
                LATENCY_BOUNDS_MS
                    .get(bucket)
                    .copied()
                    .unwrap_or(LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.len() - 1]),
            );
        }
    }
    None
}

/// The histogram's bounds as the database holds them, to check they are ours.
pub async fn stored_bounds(client: &impl GenericClient) -> Result<Vec<i64>, StoreError> {
    Ok(client
        .query_one("SELECT payrail_latency_bounds()", &[])
        .await?
        .try_get(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(counts: &[(usize, i64)]) -> Vec<i64> {
        let mut histogram = vec![0; LATENCY_BUCKETS];
        for (bucket, count) in counts {
            histogram[*bucket] = *count;
        }
        histogram
    }

    #[test]
    fn a_percentile_is_the_upper_bound_of_the_bucket_holding_its_rank() {
        // 10 values below 10 ms (bucket 0), 10 between 100 and 120 ms (bucket 11).
        let histogram = with(&[(0, 10), (11, 10)]);
        assert_eq!(percentile_ms(&histogram, 50), Some(10));
        assert_eq!(percentile_ms(&histogram, 51), Some(120));
        assert_eq!(percentile_ms(&histogram, 95), Some(120));
        assert_eq!(percentile_ms(&with(&[]), 50), None);
        assert_eq!(
            percentile_ms(&with(&[(LATENCY_BUCKETS - 1, 1)]), 50),
            Some(100_000_000)
        );
    }

    #[test]
    fn the_bounds_grow() {
        assert!(LATENCY_BOUNDS_MS.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
