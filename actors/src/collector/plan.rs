//! What to do next with one collection, from the operator's last answer and the clock: send
//! the request to pay (again, with the same reference), ask for its status, or finish it.
//! No I/O here, so every rule is tested on its own.
//!
//! The rules: a request "not sent" is resent after a backoff; one rejected fails with the
//! operator's code; one whose outcome is unknown is asked about before anything else. A
//! status query that finds nothing means the operator never created the request, so it is
//! sent. A request still pending (or never created) at `expires_at` expires; a query that
//! gets no answer is repeated, however late, because the customer may have paid.

use std::time::Duration;

use jiff::Timestamp;
use payrail_engine::operator::{OperatorError, PaymentStatus};
use payrail_engine::store::collections::CollectionOutcome;

/// The next step, and how long to wait before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Request { after: Duration },
    Query { after: Duration },
    Finish(CollectionOutcome),
}

/// How long to wait between tries: `first`, doubling up to `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            next: first.min(max),
        }
    }

    /// The wait before the next try; the one after is twice as long, up to `max`.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }

    /// Starts again from `first` (a new phase: the request was accepted).
    pub fn reset(&mut self) {
        self.next = self.first.min(self.max);
    }
}

/// One collection's plan: its backoff and its deadline.
#[derive(Clone, Debug)]
pub struct Plan {
    backoff: Backoff,
    expires_at: Option<Timestamp>,
}

impl Plan {
    pub fn new(backoff: Backoff, expires_at: Option<Timestamp>) -> Plan {
        Plan {
            backoff,
            expires_at,
        }
    }

    /// After `request_payment` answered.
    pub fn after_request(
        &mut self,
        answer: Result<PaymentStatus, OperatorError>,
        now: Timestamp,
    ) -> Step {
        match answer {
            Ok(status) => {
                self.backoff.reset();
                self.after_status(status, now)
            }
            Err(OperatorError::NotSent { retry_after_ms, .. }) => {
                if self.expired(now) {
                    return Step::Finish(CollectionOutcome::Expired);
                }
                let asked = Duration::from_millis(retry_after_ms.unwrap_or(0));
                Step::Request {
                    after: self.backoff.next_wait().max(asked),
                }
            }
            Err(OperatorError::Rejected { code }) => {
                Step::Finish(CollectionOutcome::Failed { code })
            }
            Err(OperatorError::OutcomeUnknown { .. }) => Step::Query {
                after: self.backoff.next_wait(),
            },
        }
    }

    /// After `query_payment` answered.
    pub fn after_query(
        &mut self,
        answer: Result<Option<PaymentStatus>, OperatorError>,
        now: Timestamp,
    ) -> Step {
        match answer {
            Ok(Some(status)) => self.after_status(status, now),
            Ok(None) if self.expired(now) => Step::Finish(CollectionOutcome::Expired),
            Ok(None) => Step::Request {
                after: Duration::ZERO,
            },
            Err(_) => Step::Query {
                after: self.backoff.next_wait(),
            },
        }
    }

    /// The wait before finishing again after the store could not record the outcome.
    pub fn store_retry(&mut self) -> Duration {
        self.backoff.next_wait()
    }

    fn after_status(&mut self, status: PaymentStatus, now: Timestamp) -> Step {
        match status {
            PaymentStatus::Pending if self.expired(now) => Step::Finish(CollectionOutcome::Expired),
            PaymentStatus::Pending => Step::Query {
                after: self.backoff.next_wait(),
            },
            PaymentStatus::Paid {
                operator_transaction_id,
            } => Step::Finish(CollectionOutcome::Paid {
                operator_transaction_id,
            }),
            PaymentStatus::Failed { code } => Step::Finish(CollectionOutcome::Failed { code }),
            PaymentStatus::Expired => Step::Finish(CollectionOutcome::Expired),
        }
    }

    fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|deadline| now >= deadline)
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn plan(expires_in_secs: i64) -> (Plan, Timestamp) {
        let now = Timestamp::now();
        let deadline = now + SignedDuration::from_secs(expires_in_secs);
        (
            Plan::new(Backoff::new(SECOND, 4 * SECOND), Some(deadline)),
            now,
        )
    }

    fn not_sent(retry_after_ms: Option<u64>) -> OperatorError {
        OperatorError::NotSent {
            detail: "refused".into(),
            retry_after_ms,
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_starts_again_on_reset() {
        let mut backoff = Backoff::new(SECOND, 4 * SECOND);
        let waits: Vec<u64> = (0..4).map(|_| backoff.next_wait().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 4]);
        backoff.reset();
        assert_eq!(backoff.next_wait(), SECOND);
    }

    #[test]
    fn a_request_not_sent_is_resent_after_the_backoff_or_the_operators_wait() {
        let (mut plan, now) = plan(60);
        assert_eq!(
            plan.after_request(Err(not_sent(None)), now),
            Step::Request { after: SECOND }
        );
        assert_eq!(
            plan.after_request(Err(not_sent(Some(10_000))), now),
            Step::Request { after: 10 * SECOND }
        );
    }

    #[test]
    fn a_request_not_sent_past_the_deadline_expires() {
        let (mut plan, now) = plan(-1);
        assert_eq!(
            plan.after_request(Err(not_sent(None)), now),
            Step::Finish(CollectionOutcome::Expired)
        );
    }

    #[test]
    fn a_rejected_request_fails_with_the_operators_code() {
        let (mut plan, now) = plan(60);
        let rejected = OperatorError::Rejected {
            code: "PAYER_NOT_FOUND".into(),
        };
        assert_eq!(
            plan.after_request(Err(rejected), now),
            Step::Finish(CollectionOutcome::Failed {
                code: "PAYER_NOT_FOUND".into()
            })
        );
    }

    #[test]
    fn an_unknown_outcome_is_queried_never_resent() {
        let (mut plan, now) = plan(60);
        let unknown = OperatorError::OutcomeUnknown { elapsed_ms: 30_000 };
        assert_eq!(
            plan.after_request(Err(unknown), now),
            Step::Query { after: SECOND }
        );
    }

    #[test]
    fn an_accepted_request_is_polled_with_a_growing_wait() {
        let (mut plan, now) = plan(60);
        plan.after_request(Err(not_sent(None)), now);
        assert_eq!(
            plan.after_request(Ok(PaymentStatus::Pending), now),
            Step::Query { after: SECOND },
            "an accepted request starts its polling from the first wait"
        );
        let pending = |plan: &mut Plan| plan.after_query(Ok(Some(PaymentStatus::Pending)), now);
        assert_eq!(pending(&mut plan), Step::Query { after: 2 * SECOND });
        assert_eq!(pending(&mut plan), Step::Query { after: 4 * SECOND });
        assert_eq!(pending(&mut plan), Step::Query { after: 4 * SECOND });
    }

    #[test]
    fn final_answers_finish_the_collection() {
        let (mut plan, now) = plan(60);
        let paid = PaymentStatus::Paid {
            operator_transaction_id: Some("op-1".into()),
        };
        assert_eq!(
            plan.after_query(Ok(Some(paid)), now),
            Step::Finish(CollectionOutcome::Paid {
                operator_transaction_id: Some("op-1".into())
            })
        );
        let failed = PaymentStatus::Failed {
            code: "APPROVAL_REJECTED".into(),
        };
        assert_eq!(
            plan.after_request(Ok(failed), now),
            Step::Finish(CollectionOutcome::Failed {
                code: "APPROVAL_REJECTED".into()
            })
        );
        assert_eq!(
            plan.after_query(Ok(Some(PaymentStatus::Expired)), now),
            Step::Finish(CollectionOutcome::Expired)
        );
    }

    #[test]
    fn pending_past_the_deadline_expires_but_silence_is_asked_again() {
        let (mut plan, now) = plan(-1);
        assert_eq!(
            plan.after_query(Ok(Some(PaymentStatus::Pending)), now),
            Step::Finish(CollectionOutcome::Expired)
        );
        let silence = OperatorError::OutcomeUnknown { elapsed_ms: 1 };
        assert_eq!(
            plan.after_query(Err(silence), now),
            Step::Query { after: SECOND }
        );
    }

    #[test]
    fn a_request_the_operator_never_created_is_sent_unless_expired() {
        let (mut plan, now) = plan(60);
        assert_eq!(
            plan.after_query(Ok(None), now),
            Step::Request {
                after: Duration::ZERO
            }
        );
        let (mut late, now) = self::plan(-1);
        assert_eq!(
            late.after_query(Ok(None), now),
            Step::Finish(CollectionOutcome::Expired)
        );
    }
}
