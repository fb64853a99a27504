//! Turns what a run offered and how it ended into its report: throughput, accept and
//! accept-to-final latency (from each request's intended send time), accept latency by
//! kind of request, outcomes, errors by kind, and a per-second timeline.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use hdrhistogram::Histogram;
use jiff::Timestamp;
use uuid::Uuid;

use super::Scenario;
use super::finals::Ended;
use super::traffic::{Offered, Work};
use crate::report::{AuditSummary, RunReport, Second};

/// Everything a report is made of.
#[derive(Debug)]
pub struct Run<'a> {
    pub scenario: Scenario,
    pub database: String,
    pub started_at: Timestamp,
    pub offered: &'a [Offered],
    pub ended: &'a [Ended],
    /// Payouts an authenticated callback ended: the run's mode shows in the outcomes.
    pub ended_by_callback: u64,
    pub audit: AuditSummary,
}

/// Payout lines and collections the accepted requests created.
pub fn expected(offered: &[Offered]) -> u64 {
    offered
        .iter()
        .filter(|o| o.created.is_some())
        .map(|o| match o.work {
            Work::Payroll { lines } => lines,
            Work::Single | Work::Collection => 1,
        })
        .sum()
}

pub fn report(run: Run<'_>) -> anyhow::Result<RunReport> {
    let mut accept = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut accept_by_kind: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    let mut to_final = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    // What each created id was meant to leave at: a batch, a payout or a collection.
    let mut intended: HashMap<Uuid, Duration> = HashMap::new();
    let mut offered_at: Vec<(Duration, u64)> = Vec::new();
    // The accept latency of single payouts and collections, by the second they were meant
    // to leave in.
    let mut accept_by_second: BTreeMap<u64, Histogram<u64>> = BTreeMap::new();
    for request in run.offered {
        accept.saturating_record(micros(request.accept));
        accept_by_kind
            .entry(kind(request.work).to_owned())
            .or_insert_with(|| Histogram::new_from(&accept))
            .saturating_record(micros(request.accept));
        if let Some(error) = &request.error {
            *errors.entry(error.clone()).or_default() += 1;
        }
        if let Some(id) = request.created {
            intended.insert(id, request.intended);
        }
        let count = match request.work {
            Work::Payroll { lines } => lines,
            Work::Single | Work::Collection => {
                accept_by_second
                    .entry(request.intended.as_secs())
                    .or_insert_with(|| Histogram::new_from(&accept))
                    .saturating_record(micros(request.accept));
                1
            }
        };
        offered_at.push((request.intended, count));
    }
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut finished_at: Vec<Duration> = Vec::new();
    for end in run.ended {
        let Some(sent) = intended
            .get(&end.id)
            .or_else(|| end.batch.and_then(|batch| intended.get(&batch)))
        else {
            continue;
        };
        let kind = if end.batch.is_some() {
            "payout"
        } else {
            "collection"
        };
        *outcomes.entry(format!("{kind} {}", end.state)).or_default() += 1;
        let since_start = end.at.duration_since(run.started_at).unsigned_abs();
        finished_at.push(since_start);
        to_final.saturating_record(micros(since_start.saturating_sub(*sent)));
    }
    let payouts_ended: u64 = outcomes
        .iter()
        .filter(|(outcome, _)| outcome.starts_with("payout "))
        .map(|(_, count)| count)
        .sum();
    outcomes.insert(
        "mode: payouts ended on an authenticated callback".into(),
        run.ended_by_callback,
    );
    outcomes.insert(
        "mode: payouts ended on the operator's answer (send or status query)".into(),
        payouts_ended.saturating_sub(run.ended_by_callback),
    );
    let offered: u64 = offered_at.iter().map(|(_, count)| count).sum();
    let finished = u64::try_from(finished_at.len())?;
    let last = finished_at
        .iter()
        .chain(offered_at.iter().map(|(at, _)| at))
        .max()
        .copied()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    // Offering lasts until the last request was answered (a payroll's upload and approval).
    let offering = run
        .offered
        .iter()
        .map(|o| o.intended + o.accept)
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    Ok(RunReport {
        scenario: format!("{:?}", run.scenario).to_lowercase(),
        command: command_line(),
        machine: crate::machine::describe(),
        database: run.database,
        started_at: run.started_at,
        duration: last,
        offered,
        offered_per_second: offered as f64 / offering.as_secs_f64(),
        finished,
        payouts_per_second: finished as f64 / last.as_secs_f64(),
        outcomes,
        errors,
        accept,
        accept_by_kind,
        accept_to_final: to_final,
        timeline: timeline(last, &offered_at, &accept_by_second, &finished_at),
        audit: run.audit,
    })
}

/// The report's name for a request's kind.
fn kind(work: Work) -> &'static str {
    match work {
        Work::Payroll { .. } => "payroll",
        Work::Single => "single",
        Work::Collection => "collection",
    }
}

fn timeline(
    last: Duration,
    offered: &[(Duration, u64)],
    accepts: &BTreeMap<u64, Histogram<u64>>,
    finished: &[Duration],
) -> Vec<Second> {
    let seconds = usize::try_from(last.as_secs()).unwrap_or(usize::MAX) + 1;
    let mut timeline = vec![Second::default(); seconds];
    let slot = |at: Duration| {
        usize::try_from(at.as_secs())
            .unwrap_or(usize::MAX)
            .min(seconds - 1)
    };
    for (at, count) in offered {
        timeline[slot(*at)].offered += count;
    }
    for at in finished {
        timeline[slot(*at)].finished += 1;
    }
    for (second, histogram) in accepts {
        let p99 = Duration::from_micros(histogram.value_at_quantile(0.99));
        let at = Duration::from_secs(*second);
        timeline[slot(at)].accept_p99 = Some(p99);
    }
    timeline
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The flags whose values are API keys: a report shows only their public prefix.
const SECRET_FLAGS: [&str; 2] = ["--maker-key", "--checker-key"];

/// The command as typed, under the program's own name, with API keys cut to their prefix.
fn command_line() -> String {
    redact(std::env::args().skip(1))
}

fn redact(args: impl Iterator<Item = String>) -> String {
    let mut words = vec!["payrail-loadtest".to_owned()];
    let mut secret_next = false;
    for word in args {
        let word = match word.split_once('=') {
            Some((flag, key)) if SECRET_FLAGS.contains(&flag) => format!("{flag}={}", prefix(key)),
            _ if secret_next => prefix(&word),
            _ => word,
        };
        secret_next = SECRET_FLAGS.contains(&word.as_str());
        words.push(word);
    }
    words.join(" ")
}

fn prefix(key: &str) -> String {
    match payrail_engine::api_key::prefix_of(key) {
        Some(prefix) => format!("{prefix}_…"),
        None => "…".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request meant to leave at `intended`, answered `accept` later.
    fn request(work: Work, intended: Duration, accept: Duration) -> Offered {
        Offered {
            work,
            intended,
            accept,
            created: None,
            error: None,
        }
    }

    /// The report of a run that offered `offered` and saw nothing end.
    fn report_of(offered: &[Offered]) -> RunReport {
        report(Run {
            scenario: Scenario::Mixed,
            database: "PostgreSQL".to_owned(),
            started_at: Timestamp::UNIX_EPOCH,
            offered,
            ended: &[],
            ended_by_callback: 0,
            audit: AuditSummary {
                ok: true,
                checks: Vec::new(),
            },
        })
        .expect("a report")
    }

    #[test]
    fn accept_latency_is_also_kept_by_kind_of_request() {
        let at_start =
            |work, accept_ms| request(work, Duration::ZERO, Duration::from_millis(accept_ms));
        let offered = [
            at_start(Work::Single, 3),
            at_start(Work::Payroll { lines: 10 }, 2_000),
            at_start(Work::Single, 5),
        ];
        let report = report_of(&offered);
        assert_eq!(report.accept.len(), 3);
        let kinds: Vec<&str> = report.accept_by_kind.keys().map(String::as_str).collect();
        assert_eq!(kinds, ["payroll", "single"]);
        let single = &report.accept_by_kind["single"];
        assert_eq!(single.len(), 2);
        assert!(single.equivalent(single.max(), 5_000), "{}", single.max());
        let payroll = &report.accept_by_kind["payroll"];
        assert_eq!(payroll.len(), 1);
        assert!(payroll.equivalent(payroll.min(), 2_000_000));
    }

    #[test]
    fn each_second_has_the_accept_p99_of_the_singles_and_collections_meant_to_leave_in_it() {
        let ms = Duration::from_millis;
        // Second 0: a payroll and a hundred singles answered in 1..=100 ms; second 2: one
        // collection.
        let mut offered: Vec<Offered> = (1..=100)
            .map(|i| request(Work::Single, ms(i * 9), ms(101 - i)))
            .collect();
        offered.push(request(Work::Payroll { lines: 10 }, ms(0), ms(5_000)));
        offered.push(request(Work::Collection, ms(2_500), ms(7)));
        let report = report_of(&offered);
        let p99_ms = |second: usize| {
            report.timeline[second]
                .accept_p99
                .map(|p99| p99.as_secs_f64() * 1_000.0)
        };
        assert_eq!(report.timeline.len(), 3);
        assert!(
            (p99_ms(0).expect("second 0") - 99.0).abs() < 0.1,
            "{:?}",
            p99_ms(0)
        );
        assert_eq!(report.timeline[0].offered, 110);
        assert_eq!(p99_ms(1), None, "nothing meant to leave then");
        assert!(
            (p99_ms(2).expect("second 2") - 7.0).abs() < 0.01,
            "{:?}",
            p99_ms(2)
        );
    }

    #[test]
    fn api_keys_are_cut_to_their_prefix_in_the_command() {
        let args = [
            "run",
            "--target",
            "http://node:8080",
            "--maker-key",
            "pr_auTmVQdpY4F2_ntTP9F6djpVZP2WoPb7WKnF3Nxjsbve3",
            "--checker-key=pr_Nubs3gWHffzd_b7YdDlti53iP8rTnA3yue2PBIjflyUjA",
        ]
        .map(str::to_owned);
        assert_eq!(
            redact(args.into_iter()),
            "payrail-loadtest run --target http://node:8080 --maker-key pr_auTmVQdpY4F2_… \
             --checker-key=pr_Nubs3gWHffzd_…"
        );
    }
}
