//! The two kinds of 429: status queries per credential (a governor keyed limiter, MTN's
//! ~10/s) and bursts of refused POSTs that a `rate_limited` fault starts.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Status queries per second per credential; `None` when unlimited.
#[derive(Debug)]
pub(crate) struct StatusLimit {
    limiter: Option<DefaultKeyedRateLimiter<Arc<str>>>,
    clock: DefaultClock,
}

impl StatusLimit {
    pub(crate) fn new(per_second: u32) -> StatusLimit {
        StatusLimit {
            limiter: NonZeroU32::new(per_second)
                .map(|rate| RateLimiter::keyed(Quota::per_second(rate))),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds)` to wait when the credential is over its rate.
    pub(crate) fn check(&self, owner: &Arc<str>) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(owner)
            .map_err(|not_until| retry_after_secs(not_until.wait_time_from(self.clock.now())))
    }
}

/// A 429 burst: until a moment, every transfer and payment POST is refused.
#[derive(Debug)]
pub(crate) struct Burst {
    epoch: Instant,
    until_ms: AtomicU64,
}

impl Burst {
    pub(crate) fn new() -> Burst {
        Burst {
            epoch: Instant::now(),
            until_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The seconds left if a burst is on.
    pub(crate) fn active(&self) -> Option<u64> {
        let left = self
            .until_ms
            .load(Ordering::Relaxed)
            .saturating_sub(self.now_ms());
        (left > 0).then(|| retry_after_secs(Duration::from_millis(left)))
    }

    /// Starts (or extends) a burst of `length`; returns its seconds for Retry-After.
    pub(crate) fn start(&self, length: Duration) -> u64 {
        let length_ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        self.until_ms
            .fetch_max(self.now_ms().saturating_add(length_ms), Ordering::Relaxed);
        retry_after_secs(length)
    }
}

/// Retry-After in whole seconds, rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_credential_has_its_own_rate() {
        let limit = StatusLimit::new(2);
        let (first, second): (Arc<str>, Arc<str>) = ("mtn:a".into(), "mtn:b".into());
        assert!(limit.check(&first).is_ok());
        assert!(limit.check(&first).is_ok());
        assert_eq!(limit.check(&first), Err(1));
        assert!(limit.check(&second).is_ok());
    }

    #[test]
    fn zero_means_no_limit() {
        let limit = StatusLimit::new(0);
        let owner: Arc<str> = "airtel:x".into();
        assert!((0..1_000).all(|_| limit.check(&owner).is_ok()));
    }

    #[test]
    fn a_burst_refuses_until_it_ends() {
        let burst = Burst::new();
        assert_eq!(burst.active(), None);
        assert_eq!(burst.start(Duration::from_millis(1_500)), 2);
        assert!(burst.active().is_some());
    }
}
