//! Sales analytics: per day, week or month of a period (in the merchant's time zone), what
//! was collected and paid out, the success ratio of each route, the most frequent failure
//! reasons, and how long payouts took from sending to their end (median and 95th
//! percentile). Read from the activity counts the writers of each end keep, so a month
//! costs a few thousand rows whatever the history holds.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, ToSpan};

use super::period::Period;
use crate::app::caller::Reader;
use crate::app::{App, AppError};
use crate::store::activity::{self, ActivityRow, Granularity};
use crate::store::merchants::{self, Merchant};

/// Failure reasons listed per period, the most frequent first.
pub const TOP_FAILURE_REASONS: usize = 5;

/// Count, amount and fees of what succeeded, in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Flow {
    pub count: i64,
    pub amount: i64,
    pub fee: i64,
}

/// How one route did in a period.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RouteOutcomes {
    /// `payout` or `collection`.
    pub kind: String,
    pub route: String,
    pub succeeded: i64,
    pub failed: i64,
}

impl RouteOutcomes {
    /// Succeeded over ended, in thousandths (987 for 98.7 %).
    pub fn success_permille(&self) -> i64 {
        let ended = self.succeeded + self.failed;
        if ended == 0 {
            0
        } else {
            self.succeeded * 1000 / ended
        }
    }
}

/// One period of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsPeriod {
    pub start: Timestamp,
    /// "2026-11-03", "2026-W45" or "2026-11".
    pub label: String,
    pub collections: Flow,
    pub payouts: Flow,
    pub routes: Vec<RouteOutcomes>,
    /// (kind, failure code, count), most frequent first.
    pub failure_reasons: Vec<(String, String, i64)>,
    /// Payouts' time from sending to their end, in ms (upper estimates, see
    /// `activity::percentile_ms`).
    pub payout_median_ms: Option<i64>,
    pub payout_p95_ms: Option<i64>,
}

/// The report.
#[derive(Clone, Debug)]
pub struct Analytics {
    pub merchant: Merchant,
    pub period: Period,
    pub granularity: Granularity,
    pub periods: Vec<AnalyticsPeriod>,
}

impl App {
    /// The merchant's analytics for `from`..`to` by `granularity` (`day`, `week`, `month`).
    pub async fn analytics(
        &self,
        reader: Reader,
        from: &str,
        to: &str,
        granularity: &str,
    ) -> Result<Analytics, AppError> {
        let client = self.pool.get().await?;
        self.analytics_on(&client, reader, from, to, granularity)
            .await
    }

    /// The same, read on `client`.
    pub(super) async fn analytics_on(
        &self,
        client: &impl GenericClient,
        reader: Reader,
        from: &str,
        to: &str,
        granularity: &str,
    ) -> Result<Analytics, AppError> {
        let granularity = match granularity {
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            other => {
                return Err(AppError::invalid_field(
                    "granularity",
                    format!("{other:?} is not one of day, week, month"),
                ));
            }
        };
        let merchant = merchants::get(client, reader.merchant()?).await?;
        let period = Period::parse(from, to, &merchant.time_zone)?;
        let rows = activity::periods(
            client,
            merchant.id,
            period.from,
            period.to,
            &merchant.time_zone,
            granularity,
        )
        .await?;
        let periods = summarise(&period, granularity, rows)?;
        Ok(Analytics {
            merchant,
            period,
            granularity,
            periods,
        })
    }
}

/// Every period from the one holding `from` to the one holding the period's end, with
/// what the rows say of each (nothing, for a quiet one).
fn summarise(
    period: &Period,
    granularity: Granularity,
    rows: Vec<ActivityRow>,
) -> Result<Vec<AnalyticsPeriod>, AppError> {
    let mut by_start: BTreeMap<Timestamp, Vec<ActivityRow>> = BTreeMap::new();
    for row in rows {
        by_start.entry(row.period).or_default().push(row);
    }
    let mut periods = Vec::new();
    let mut start = first_day(period.local(period.from).date(), granularity);
    loop {
        let at = period
            .local(period.from)
            .with()
            .date(start)
            .time(jiff::civil::Time::midnight())
            .build()
            .map_err(AppError::internal)?
            .timestamp();
        if at >= period.to {
            break;
        }
        let rows = by_start.remove(&at).unwrap_or_default();
        periods.push(one_period(at, label(start, granularity), &rows));
        start = next(start, granularity).map_err(AppError::internal)?;
    }
    Ok(periods)
}

fn one_period(start: Timestamp, label: String, rows: &[ActivityRow]) -> AnalyticsPeriod {
    let mut collections = Flow::default();
    let mut payouts = Flow::default();
    let mut routes: BTreeMap<(String, String), RouteOutcomes> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut latency = vec![0; activity::LATENCY_BUCKETS];
    for row in rows {
        let outcomes = routes
            .entry((row.kind.clone(), row.route.clone()))
            .or_insert_with(|| RouteOutcomes {
                kind: row.kind.clone(),
                route: row.route.clone(),
                succeeded: 0,
                failed: 0,
            });
        if row.succeeded {
            outcomes.succeeded += row.count;
            let flow = if row.kind == "payout" {
                &mut payouts
            } else {
                &mut collections
            };
            flow.count += row.count;
            flow.amount += row.amount;
            flow.fee += row.fee;
        } else {
            outcomes.failed += row.count;
            *reasons
                .entry((row.kind.clone(), row.failure_code.clone()))
                .or_default() += row.count;
        }
        if row.kind == "payout" {
            for (sum, count) in latency.iter_mut().zip(&row.latency) {
                *sum += count;
            }
        }
    }
    let mut failure_reasons: Vec<(String, String, i64)> = reasons
        .into_iter()
        .map(|((kind, code), count)| (kind, code, count))
        .collect();
    failure_reasons.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    failure_reasons.truncate(TOP_FAILURE_REASONS);
    AnalyticsPeriod {
        start,
        label,
        collections,
        payouts,
        routes: routes.into_values().collect(),
        failure_reasons,
        payout_median_ms: activity::percentile_ms(&latency, 50),
        payout_p95_ms: activity::percentile_ms(&latency, 95),
    }
}

/// The first day of the period holding `date` (weeks start on Monday, as in ISO 8601 and
/// PostgreSQL's `date_trunc`).
fn first_day(date: Date, granularity: Granularity) -> Date {
    match granularity {
        Granularity::Day => date,
        Granularity::Week => {
            let back = i64::from(date.weekday().since(Weekday::Monday));
            date.checked_sub(back.days()).unwrap_or(date)
        }
        Granularity::Month => date.first_of_month(),
    }
}

fn next(date: Date, granularity: Granularity) -> Result<Date, jiff::Error> {
    match granularity {
        Granularity::Day => date.checked_add(1.day()),
        Granularity::Week => date.checked_add(1.week()),
        Granularity::Month => date.checked_add(1.month()),
    }
}

fn label(date: Date, granularity: Granularity) -> String {
    match granularity {
        Granularity::Day => date.to_string(),
        Granularity::Week => {
            let week = date.iso_week_date();
            format!("{}-W{:02}", week.year(), week.week())
        }
        Granularity::Month => date.strftime("%Y-%m").to_string(),
    }
}
