//! How a route paces and retries: its quotas, its cap on requests in flight, and jittered
//! exponential backoff for resends and status queries.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use payrail_engine::route::RouteName;

/// One route's limits, from configuration.
#[derive(Clone, Debug)]
pub struct RouteConfig {
    pub name: RouteName,
    /// Payouts sent per second, never exceeded over any one-second window.
    pub sends_per_second: NonZeroU32,
    /// Status queries per second (MTN allows about 10 per credential).
    pub queries_per_second: NonZeroU32,
    /// Requests waiting for the operator's answer at once.
    pub max_in_flight: u32,
    /// When the operator calls back with outcomes (MTN with a callback URL): how long a
    /// line it accepted waits for its callback before a status query asks. `None`: no
    /// callback comes, a pending line is asked about after the usual backoff.
    pub callback_deadline: Option<Duration>,
}

/// When to try again.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// First backoff; each further try doubles it, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// "Not sent" answers in a row after which a line fails (`NOT_SENT`): it never reached
    /// the operator, so failing it is safe.
    pub not_sent_max: u32,
    /// An uncertain line (pending or unknown) this long goes to review, funds reserved.
    pub review_after: Duration,
    /// A line the operator accepted and has not finished this long is written `submitted`.
    pub submitted_after: Duration,
    /// Sends in a row that do not get through before the route's circuit opens.
    pub circuit_failures: u32,
    /// How long an open circuit holds sends back before one may try.
    pub circuit_open_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(30),
            not_sent_max: 12,
            review_after: Duration::from_secs(15 * 60),
            submitted_after: Duration::from_secs(2),
            circuit_failures: 20,
            circuit_open_for: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The delay before try number `tries` (1 = the first retry): exponential, capped, and
    /// jittered between half and all of it so that retries of many lines spread out.
    pub fn backoff(&self, tries: u32) -> Duration {
        let doubled = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(tries.saturating_sub(1)));
        let ceiling = doubled.min(self.backoff_max);
        let floor = ceiling / 2;
        floor + ceiling.saturating_sub(floor).mul_f64(rand::random::<f64>())
    }
}

/// A limiter that never lets more than `per_second` through in any one-second window: a
/// burst of about 10 ms worth (timers are no finer) and a rate lowered by that burst. The
/// rate is lowered by another 2 %, so that calls the limiter let through but whose tasks
/// started a few milliseconds late still reach the operator within its quota.
pub fn limiter(per_second: NonZeroU32) -> DefaultDirectRateLimiter {
    let burst = (per_second.get() / 100).max(1);
    let jitter_margin = per_second.get() / 50;
    let rate = per_second
        .get()
        .saturating_sub(burst + jitter_margin)
        .max(1);
    let quota = Quota::with_period(Duration::from_secs(1) / rate).expect("a positive period");
    let burst = NonZeroU32::new(burst).expect("at least one");
    RateLimiter::direct(quota.allow_burst(burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_with_jitter() {
        let policy = RetryPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for (tries, ceiling_ms) in [(1, 100), (2, 200), (3, 400), (5, 1_000), (40, 1_000)] {
            let delay = policy.backoff(tries);
            let ceiling = Duration::from_millis(ceiling_ms);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "try {tries}: {delay:?}"
            );
        }
    }

    #[test]
    fn a_limiter_never_passes_more_than_its_quota_in_a_second() {
        let limiter = limiter(NonZeroU32::new(200).expect("positive"));
        let started = std::time::Instant::now();
        let passed = (0..10_000).filter(|_| limiter.check().is_ok()).count();
        // The burst, plus one cell for every 5 ms the loop took (a busy machine is slow).
        let refilled = started.elapsed().as_millis() / 5;
        assert!(
            passed as u128 <= 2 + refilled,
            "only the burst and what refilled pass: {passed} in {:?}",
            started.elapsed()
        );
        assert!(passed < 10_000, "the limiter held nothing back");
    }
}
