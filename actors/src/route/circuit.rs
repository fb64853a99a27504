//! The route's circuit breaker: after enough sends in a row that did not get through, the
//! route stops sending for a while (open), then lets one send try (half-open); an answer
//! closes it again, another failure opens it again. Status queries are not held back.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Circuit {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trying: bool },
}

/// When to open, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Breaker {
    circuit: Circuit,
    failures_to_open: u32,
    open_for: Duration,
}

impl Breaker {
    /// A breaker, closed or (`start_open`) open for `open_for` from now.
    pub fn new(failures_to_open: u32, open_for: Duration, start_open: bool) -> Breaker {
        let circuit = if start_open {
            Circuit::Open {
                until: Instant::now() + open_for,
            }
        } else {
            Circuit::Closed { failures: 0 }
        };
        Breaker {
            circuit,
            failures_to_open,
            open_for,
        }
    }

    /// Whether a send may leave now; `Err(wait)` says how long until the next try.
    pub fn allow(&mut self) -> Result<(), Duration> {
        match self.circuit {
            Circuit::Closed { .. } => Ok(()),
            Circuit::HalfOpen { trying: true } => Err(self.open_for),
            Circuit::HalfOpen { trying: false } => {
                self.circuit = Circuit::HalfOpen { trying: true };
                Ok(())
            }
            Circuit::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                self.circuit = Circuit::HalfOpen { trying: true };
                Ok(())
            }
        }
    }

    /// The operator answered a send (paid, pending or refused): it is reachable.
    /// Returns true when this closed an open circuit.
    pub fn answered(&mut self) -> bool {
        let was_open = !matches!(self.circuit, Circuit::Closed { .. });
        self.circuit = Circuit::Closed { failures: 0 };
        was_open
    }

    /// A send did not get through (not sent, or no answer). Returns true when this opened
    /// the circuit.
    pub fn failed(&mut self) -> bool {
        let open = Circuit::Open {
            until: Instant::now() + self.open_for,
        };
        match self.circuit {
            Circuit::Closed { failures } if failures + 1 >= self.failures_to_open => {
                self.circuit = open;
                true
            }
            Circuit::Closed { failures } => {
                self.circuit = Circuit::Closed {
                    failures: failures + 1,
                };
                false
            }
            Circuit::HalfOpen { .. } => {
                self.circuit = open;
                true
            }
            Circuit::Open { .. } => false,
        }
    }

    /// A send's outcome is unknown (a lost reply, a 5xx, "already exists"): it says
    /// nothing of whether sends get through. A trial that ends so frees the way for the
    /// next trial; otherwise the circuit would wait for an answer that never comes.
    pub fn inconclusive(&mut self) {
        if self.circuit == (Circuit::HalfOpen { trying: true }) {
            self.circuit = Circuit::HalfOpen { trying: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_enough_failures_then_tries_once_and_closes_on_an_answer() {
        let mut breaker = Breaker::new(3, Duration::from_secs(5), false);
        assert!(!breaker.failed() && !breaker.failed());
        assert!(breaker.failed(), "the third failure in a row opens it");
        assert_eq!(breaker.allow(), Err(Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.allow(), Ok(()), "one trial after the pause");
        assert!(breaker.allow().is_err(), "only one trial at a time");
        assert!(breaker.answered(), "an answer closes it");
        assert_eq!(breaker.allow(), Ok(()));
        assert_eq!(breaker.allow(), Ok(()), "closed: sends leave freely");
    }

    #[tokio::test(start_paused = true)]
    async fn a_trial_with_an_unknown_outcome_lets_the_next_trial_go() {
        let mut breaker = Breaker::new(1, Duration::from_secs(5), false);
        breaker.failed();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.allow(), Ok(()));
        assert!(breaker.allow().is_err(), "one trial at a time");
        breaker.inconclusive();
        assert_eq!(breaker.allow(), Ok(()), "the next trial may go");
        breaker.inconclusive();
        assert!(breaker.answered(), "and an answer still closes it");
        breaker.inconclusive();
        assert_eq!(breaker.allow(), Ok(()), "a closed circuit stays closed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trial_opens_it_again_and_an_answer_resets_the_count() {
        let mut breaker = Breaker::new(2, Duration::from_secs(1), false);
        breaker.failed();
        breaker.answered();
        assert!(!breaker.failed(), "the count restarted after the answer");
        assert!(breaker.failed());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.allow(), Ok(()));
        assert!(breaker.failed(), "the trial failed: open again");
        assert!(breaker.allow().is_err());
    }
}
