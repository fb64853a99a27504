//! The pace of a route's status queries: the configured quota, lowered when the operator
//! answers 429 (halved, and no query at all until its `Retry-After`), and raised back
//! step by step once it has stopped complaining.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::DefaultDirectRateLimiter;
use governor::clock::Clock;
use tokio::time::Instant;

use super::policy;

/// How long without a 429 before the pace is raised one step.
const CALM_BEFORE_RAISING: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(super) struct QueryPace {
    configured: NonZeroU32,
    current: NonZeroU32,
    limiter: DefaultDirectRateLimiter,
    /// No query leaves before this (the operator's `Retry-After`).
    held_until: Option<Instant>,
    /// The node holds no share of the query quota: nothing leaves until it does.
    withheld: bool,
    /// The last 429, or the last raise: the pace rises again `CALM_BEFORE_RAISING` later.
    last_change: Option<Instant>,
}

impl QueryPace {
    pub(super) fn new(per_second: NonZeroU32) -> QueryPace {
        QueryPace {
            configured: per_second,
            current: per_second,
            limiter: policy::limiter(per_second),
            held_until: None,
            withheld: false,
            last_change: None,
        }
    }

    /// Takes one query's cell of the quota, or records how long until one may leave.
    pub(super) fn allow(&mut self, wait: &mut Option<Duration>) -> bool {
        if self.withheld {
            // A new share comes as a message, which pumps again.
            return false;
        }
        let now = Instant::now();
        if let Some(until) = self.held_until {
            if now < until {
                *wait = Some(wait.map_or(until - now, |w| w.min(until - now)));
                return false;
            }
            self.held_until = None;
        }
        self.raise_when_calm(now);
        match self.limiter.check() {
            Ok(()) => true,
            Err(not_until) => {
                let until = not_until.wait_time_from(self.limiter.clock().now());
                *wait = Some(wait.map_or(until, |w| w.min(until)));
                false
            }
        }
    }

    /// The operator refused a query as over its quota: hold every query for `hold`, and
    /// halve the pace once for each hold (the queries already in flight come back refused
    /// too, and count as the same push-back).
    pub(super) fn refused(&mut self, hold: Duration) -> NonZeroU32 {
        let now = Instant::now();
        if self.held_until.is_none_or(|until| until <= now) {
            let halved = (self.current.get() / 2).max(1);
            self.set(NonZeroU32::new(halved).expect("at least one"), now);
        }
        let until = now + hold;
        self.held_until = Some(self.held_until.map_or(until, |held| held.max(until)));
        self.current
    }

    fn raise_when_calm(&mut self, now: Instant) {
        let calm = self
            .last_change
            .is_none_or(|change| now.duration_since(change) >= CALM_BEFORE_RAISING);
        if calm && self.current < self.configured {
            let step = (self.configured.get() / 10).max(1);
            let raised = self
                .current
                .get()
                .saturating_add(step)
                .min(self.configured.get());
            self.set(NonZeroU32::new(raised).expect("at least one"), now);
        }
    }

    /// The node's share of the route's query quota changed (none holds nothing back): a
    /// pace the operator had not lowered takes the new share at once; a lowered one never
    /// goes above it, and rises back to it as before.
    pub(super) fn share(&mut self, per_second: u32) {
        let Some(per_second) = NonZeroU32::new(per_second) else {
            self.withheld = true;
            return;
        };
        self.withheld = false;
        let lowered = self.current < self.configured;
        self.configured = per_second;
        if !lowered || self.current > per_second {
            self.current = per_second;
            self.limiter = policy::limiter(per_second);
        }
    }

    fn set(&mut self, per_second: NonZeroU32, now: Instant) {
        self.current = per_second;
        self.limiter = policy::limiter(per_second);
        self.last_change = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_second(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("positive")
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_halves_the_pace_once_per_hold_and_holds_every_query() {
        let mut pace = QueryPace::new(per_second(100));
        assert_eq!(pace.refused(Duration::from_secs(1)), per_second(50));
        // More refusals of queries already in flight: the same push-back.
        assert_eq!(pace.refused(Duration::from_secs(1)), per_second(50));
        let mut wait = None;
        assert!(!pace.allow(&mut wait));
        assert!(wait.is_some_and(|wait| wait <= Duration::from_secs(1)));
        tokio::time::advance(Duration::from_millis(1_001)).await;
        assert_eq!(pace.refused(Duration::from_secs(1)), per_second(25));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_rises_back_in_steps_once_the_operator_is_calm() {
        let mut pace = QueryPace::new(per_second(100));
        pace.refused(Duration::from_millis(10));
        tokio::time::advance(Duration::from_secs(5)).await;
        pace.allow(&mut None);
        assert_eq!(pace.current, per_second(60));
        tokio::time::advance(Duration::from_secs(1)).await;
        pace.allow(&mut None);
        assert_eq!(
            pace.current,
            per_second(60),
            "not before another calm spell"
        );
        for _ in 0..10 {
            tokio::time::advance(Duration::from_secs(5)).await;
            pace.allow(&mut None);
        }
        assert_eq!(
            pace.current,
            per_second(100),
            "never above the configured quota"
        );
    }
}
