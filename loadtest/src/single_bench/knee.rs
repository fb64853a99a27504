//! `single --knee`: rising rates offered to one node and database, each drained before the
//! next, until a rate's accept p99 passes the limit or a payout is not accepted; the knee
//! is the highest rate that kept the p99 within the limit.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{bail, ensure};

use super::step::{self, Load, Step};
use super::{Args, Bench, knee_page};
use crate::machine;
use crate::report::AuditSummary;

/// Rates one sweep may offer: each takes its duration and a drain.
const SWEEP_RATES_MAX: usize = 100;

/// What the sweep measured, and its audit; printed and drawn.
#[derive(Debug)]
pub struct Sweep {
    pub steps: Vec<Step>,
    pub limit_ms: u32,
    pub audit: AuditSummary,
    pub command: String,
    pub machine: String,
    pub database: String,
}

impl Sweep {
    /// The highest rate that kept every payout accepted and the accept p99 within the
    /// limit; `None` when none did.
    pub fn knee(&self) -> Option<u32> {
        self.steps
            .iter()
            .filter(|step| step.within(self.limit_ms))
            .map(|step| step.load.rate)
            .max()
    }

    /// The first rate that did not keep within the limit, where the sweep stopped; `None`
    /// when every rate up to the highest did.
    pub fn first_over(&self) -> Option<&Step> {
        self.steps.iter().find(|step| !step.within(self.limit_ms))
    }

    /// "knee: 1250 /s (...)", saying why the sweep stopped.
    pub fn verdict(&self) -> String {
        let limit = self.limit_ms;
        match (self.knee(), self.first_over()) {
            (Some(knee), None) => format!(
                "knee: at least {knee} /s (every rate up to {knee} /s kept accept p99 ≤ {limit} ms)"
            ),
            (Some(knee), Some(over)) => format!(
                "knee: {knee} /s (the highest rate that kept accept p99 ≤ {limit} ms; at {} /s {})",
                over.load.rate,
                why_over(over, limit)
            ),
            (None, Some(over)) => format!(
                "knee: none (at {} /s, the first rate, {})",
                over.load.rate,
                why_over(over, limit)
            ),
            (None, None) => "knee: none (nothing was offered)".to_owned(),
        }
    }
}

/// Why a step did not keep within the limit.
fn why_over(step: &Step, limit_ms: u32) -> String {
    if step.all_accepted() {
        format!("p99 was {:.1} ms > {limit_ms} ms", ms(step, 0.99))
    } else {
        format!(
            "only {} of {} payouts were accepted: {:?}",
            step.accepted,
            step.load.payouts(),
            step.statuses
        )
    }
}

/// The rates from `from` by `step` up to `up_to`.
fn rates(from: u32, step: u32, up_to: u32) -> anyhow::Result<Vec<u32>> {
    ensure!(from > 0 && step > 0, "--from and --step must be at least 1");
    ensure!(from <= up_to, "--from {from} is above --up-to {up_to}");
    let rates: Vec<u32> = (from..=up_to).step_by(usize::try_from(step)?).collect();
    if rates.len() > SWEEP_RATES_MAX {
        bail!(
            "{} rates from {from} to {up_to} by {step}; a sweep offers at most {SWEEP_RATES_MAX}",
            rates.len()
        );
    }
    Ok(rates)
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(args.duration > 0, "--duration must be at least 1 s");
    let planned = rates(args.from, args.step, args.up_to)?;
    let payouts: u64 = planned
        .iter()
        .map(|&rate| u64::from(rate) * u64::from(args.duration))
        .sum();
    let bench = Bench::start(args, payouts).await?;
    // Each rate's line as it ends, so that a long sweep shows its progress.
    std::io::stderr().write_all(HEADER.as_bytes())?;
    let mut steps: Vec<Step> = Vec::new();
    let mut first = 0;
    for &rate in &planned {
        let load = Load {
            rate,
            duration: args.duration,
            first,
        };
        first += load.payouts();
        let step = step::run(&bench, load).await?;
        let within = step.within(args.p99_limit_ms);
        writeln!(std::io::stderr(), "{}", row(&step, args.p99_limit_ms))?;
        steps.push(step);
        if !within {
            break;
        }
    }
    let audit = bench.audit().await?;
    let database = bench.stop().await?;
    let sweep = Sweep {
        steps,
        limit_ms: args.p99_limit_ms,
        audit,
        command: command(args),
        machine: machine::describe(),
        database,
    };
    std::io::stdout().write_all(text(&sweep, args).as_bytes())?;
    if let Some(path) = &args.html {
        knee_page::write(&sweep, path)?;
    }
    ensure!(sweep.audit.passed(), "the audit failed");
    Ok(())
}

/// The command that reproduces the sweep, every setting spelled out.
fn command(args: &Args) -> String {
    let mut command = format!(
        "payrail-loadtest single --knee --from {} --step {} --up-to {} --duration {} --p99-limit-ms {} --merchants {}",
        args.from, args.step, args.up_to, args.duration, args.p99_limit_ms, args.merchants
    );
    if let Some(path) = &args.html {
        command.push_str(&format!(" --html {}", path.display()));
    }
    command
}

/// The sweep as the terminal shows it: the table, the knee, the audit and the setting.
fn text(sweep: &Sweep, args: &Args) -> String {
    let mut text = format!(
        "single --knee: rates {} to {} /s by {} /s, {} s each, on one node and {} merchant(s); accept p99 limit {} ms\n",
        args.from, args.up_to, args.step, args.duration, args.merchants, sweep.limit_ms
    );
    text.push_str(HEADER);
    for step in &sweep.steps {
        let _ = writeln!(text, "{}", row(step, sweep.limit_ms));
    }
    let _ = writeln!(text, "{}", sweep.verdict());
    text.push_str(&sweep.audit.text());
    let _ = writeln!(text, "command: {}", sweep.command);
    let _ = writeln!(text, "machine: {}", sweep.machine);
    let _ = writeln!(text, "database: {}", sweep.database);
    text
}

/// The table's header, each column as wide as `row` makes it.
const HEADER: &str = "  rate /s  achieved /s     accepted  accept p50  accept p99  accept p99.9  to final p99  (ms)\n";

/// One step's line of the table.
fn row(step: &Step, limit_ms: u32) -> String {
    format!(
        "{:>9} {:>12.1} {:>12} {:>11.1} {:>11.1} {:>13.1} {:>13.1}  {}",
        step.load.rate,
        step.achieved_per_second(),
        format!("{}/{}", step.accepted, step.load.payouts()),
        ms(step, 0.5),
        ms(step, 0.99),
        ms(step, 0.999),
        step.to_final.value_at_quantile(0.99) as f64 / 1_000.0,
        if step.within(limit_ms) { "ok" } else { "over" }
    )
}

/// The step's accept latency at `quantile`, in milliseconds.
pub fn ms(step: &Step, quantile: f64) -> f64 {
    step.accept.value_at_quantile(quantile) as f64 / 1_000.0
}

#[cfg(test)]
pub mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use hdrhistogram::Histogram;

    use super::*;

    /// A step at `rate` for 10 s whose accept latencies are all `accept_ms`.
    pub fn step_at(rate: u32, accept_ms: u64, accepted: u64) -> Step {
        let mut accept = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
        let mut to_final = accept.clone();
        accept.record_n(accept_ms * 1_000, 100).expect("in bounds");
        to_final
            .record_n(accept_ms * 3_000, 100)
            .expect("in bounds");
        Step {
            load: Load {
                rate,
                duration: 10,
                first: 0,
            },
            statuses: BTreeMap::from([(202, accepted)]),
            accepted,
            offered_for: Duration::from_secs(10),
            answered_within: Duration::from_secs(10),
            accept,
            to_final,
        }
    }

    /// A sweep of 250, 500 and 750 /s whose p99s are 5, 40 and 300 ms.
    pub fn sample_sweep() -> Sweep {
        Sweep {
            steps: vec![
                step_at(250, 5, 2_500),
                step_at(500, 40, 5_000),
                step_at(750, 300, 7_500),
            ],
            limit_ms: 100,
            audit: AuditSummary {
                ok: true,
                checks: Vec::new(),
            },
            command: "payrail-loadtest single --knee --html <a&b>".to_owned(),
            machine: "2 cores".to_owned(),
            database: "PostgreSQL 15".to_owned(),
        }
    }

    #[test]
    fn rates_rise_by_the_step_and_stop_at_or_below_the_ceiling() {
        assert_eq!(
            rates(250, 250, 1_000).expect("rates"),
            [250, 500, 750, 1_000]
        );
        assert_eq!(
            rates(100, 300, 1_000).expect("rates"),
            [100, 400, 700, 1_000]
        );
        assert_eq!(rates(100, 400, 1_000).expect("rates"), [100, 500, 900]);
        assert!(rates(0, 250, 1_000).is_err());
        assert!(rates(250, 0, 1_000).is_err());
        assert!(rates(2_000, 250, 1_000).is_err());
        assert!(rates(1, 1, 1_000).is_err(), "a thousand rates are too many");
    }

    #[test]
    fn the_knee_is_the_highest_rate_within_the_limit() {
        let sweep = sample_sweep();
        assert_eq!(sweep.knee(), Some(500));
        let verdict = sweep.verdict();
        assert!(verdict.starts_with("knee: 500 /s"), "{verdict}");
        let over = format!(
            "at 750 /s p99 was {:.1} ms > 100 ms",
            ms(&sweep.steps[2], 0.99)
        );
        assert!(verdict.contains(&over), "{verdict}");
    }

    #[test]
    fn a_rate_with_unaccepted_payouts_is_over_the_limit_whatever_its_p99() {
        let mut sweep = sample_sweep();
        sweep.steps[2] = step_at(750, 5, 7_000);
        assert_eq!(sweep.knee(), Some(500));
        assert!(
            sweep
                .verdict()
                .contains("only 7000 of 7500 payouts were accepted")
        );
    }

    #[test]
    fn no_knee_when_the_first_rate_is_over_and_a_floor_when_none_is() {
        let mut sweep = sample_sweep();
        sweep.steps = vec![step_at(250, 200, 2_500)];
        assert_eq!(sweep.knee(), None);
        assert!(
            sweep
                .verdict()
                .starts_with("knee: none (at 250 /s, the first rate, p99 was ")
        );
        sweep.steps = vec![step_at(250, 5, 2_500), step_at(500, 100, 5_000)];
        assert_eq!(
            sweep.knee(),
            Some(500),
            "a p99 at the limit keeps within it"
        );
        assert!(sweep.verdict().starts_with("knee: at least 500 /s"));
    }
}
