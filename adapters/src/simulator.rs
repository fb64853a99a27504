//! The in-process operator simulator: one per route, seeded and deterministic, with the
//! latency and faults of its profile and MTN's sandbox numbers. Like MTN it executes a
//! reference at most once (a reused one gets "already exists": query it), answers an
//! unknown reference with "not found", and turns pending payouts final after a delay. It
//! records every execution by payout: the ground truth audits compare the ledger with.

pub(crate) mod dice;
mod profile;
pub(crate) mod progress;
pub(crate) mod sandbox;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use tokio::time::Instant;

pub use profile::{FaultRates, Latency, PPM, ProfileError, SimulatorProfile};
pub use sandbox::SandboxBehaviour;

use dice::{Dice, Question};
use progress::Progress;

/// MTN's reasons for refusing a payout, one of which a simulated rejection carries.
pub(crate) const REJECTION_CODES: [&str; 5] = [
    "PAYEE_NOT_FOUND",
    "NOT_ALLOWED",
    "PAYER_LIMIT_REACHED",
    "PAYEE_NOT_ALLOWED_TO_RECEIVE",
    "INVALID_CURRENCY",
];

/// One simulated route.
#[derive(Debug)]
pub struct Simulator {
    profile: SimulatorProfile,
    dice: Dice,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    float: Amount,
    /// Send attempts (payouts and requests to pay) per reference, counting the ones that
    /// never arrived.
    attempts: HashMap<Reference, u32>,
    transfers: HashMap<Reference, Progress<PayoutStatus>>,
    payments: HashMap<Reference, Progress<PaymentStatus>>,
    /// How many times each payout was executed (paid); more than one is a double payment.
    executions: HashMap<PayoutId, u32>,
}

/// What the simulator paid, for audits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Executions {
    /// Payouts executed at least once.
    pub payouts: usize,
    /// Payouts executed more than once: a double payment.
    pub paid_twice: Vec<PayoutId>,
}

/// What one send attempt turns into, before the float is checked.
enum Outcome {
    Rejected(&'static str),
    NotSent,
    /// Executed; the reply is lost or is a 500.
    ExecutedUnanswered,
    ExecutedPending,
    Executed,
}

impl Simulator {
    pub fn new(profile: SimulatorProfile) -> Result<Simulator, ProfileError> {
        profile.validate()?;
        let state = State {
            float: profile.float,
            attempts: HashMap::new(),
            transfers: HashMap::new(),
            payments: HashMap::new(),
            executions: HashMap::new(),
        };
        Ok(Simulator {
            dice: Dice::new(profile.seed),
            profile,
            state: Mutex::new(state),
        })
    }

    /// How many times a payout was executed: 0 or 1, unless something paid it twice.
    pub fn executions_of(&self, payout: PayoutId) -> u32 {
        self.lock().executions.get(&payout).copied().unwrap_or(0)
    }

    /// Every payout executed, and any executed more than once.
    pub fn executions(&self) -> Executions {
        let state = self.lock();
        let mut paid_twice: Vec<PayoutId> = state
            .executions
            .iter()
            .filter(|(_, count)| **count > 1)
            .map(|(payout, _)| *payout)
            .collect();
        paid_twice.sort();
        Executions {
            payouts: state.executions.len(),
            paid_twice,
        }
    }

    /// How many send attempts carried this reference.
    pub fn attempts(&self, reference: Reference) -> u32 {
        self.lock().attempts.get(&reference).copied().unwrap_or(0)
    }

    /// Counts one more send attempt (a payout or a request to pay) with this reference, so
    /// a resend after a fault rolls its own dice; returns the attempt's number.
    fn count_attempt(&self, reference: Reference) -> u32 {
        let mut state = self.lock();
        let attempts = state.attempts.entry(reference).or_insert(0);
        *attempts += 1;
        *attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-written (every update
        // is one insert), so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn travel(&self, reference: Reference, attempt: u32) -> Duration {
        let delay = self.dice.latency(self.profile.latency, reference, attempt);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        delay
    }

    fn outcome(&self, reference: Reference, attempt: u32) -> Outcome {
        let faults = self.profile.faults;
        let roll = self.dice.roll_ppm(reference, attempt, Question::Outcome);
        let mut threshold = 0u32;
        let mut below = |rate: u32| {
            threshold = threshold.saturating_add(rate);
            roll < threshold
        };
        if below(faults.rejected) {
            let code = REJECTION_CODES[self.dice.pick(
                reference,
                attempt,
                Question::RejectionCode,
                REJECTION_CODES.len(),
            )];
            Outcome::Rejected(code)
        } else if below(faults.not_sent) {
            Outcome::NotSent
        } else if below(faults.accepted_then_lost) || below(faults.error_after_executing) {
            Outcome::ExecutedUnanswered
        } else if below(faults.pending) {
            Outcome::ExecutedPending
        } else {
            Outcome::Executed
        }
    }

    fn pending_until(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.profile.pending_ms)
    }
}

fn transaction_id(reference: Reference) -> Option<String> {
    Some(format!("sim-{}", reference.as_uuid().simple()))
}

fn unknown(elapsed: Duration) -> OperatorError {
    OperatorError::OutcomeUnknown {
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    }
}

#[async_trait::async_trait]
impl Operator for Simulator {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        let reference = request.reference;
        let attempt = self.count_attempt(reference);
        let elapsed = self.travel(reference, attempt).await;
        let mut state = self.lock();
        if state.transfers.contains_key(&reference) {
            // MTN: 409 RESOURCE_ALREADY_EXIST. The caller must ask what became of it.
            return Err(unknown(elapsed));
        }
        let succeeded = PayoutStatus::Succeeded {
            operator_transaction_id: transaction_id(reference),
        };
        let (progress, answer) = match sandbox::behaviour(&request.msisdn) {
            Some(behaviour) => {
                let progress = match behaviour {
                    SandboxBehaviour::Fails(code) => {
                        Progress::Final(PayoutStatus::Failed { code: code.into() })
                    }
                    SandboxBehaviour::Expires => Progress::Final(PayoutStatus::Failed {
                        code: "EXPIRED".into(),
                    }),
                    SandboxBehaviour::StaysPending => Progress::PendingForever,
                    SandboxBehaviour::Delayed => {
                        Progress::PendingUntil(self.pending_until(), succeeded)
                    }
                    SandboxBehaviour::Succeeds => Progress::Final(succeeded),
                };
                (progress, Ok(PayoutStatus::Pending))
            }
            None => match self.outcome(reference, attempt) {
                Outcome::Rejected(code) => {
                    return Err(OperatorError::Rejected { code: code.into() });
                }
                Outcome::NotSent => {
                    return Err(OperatorError::NotSent {
                        detail: "simulated connection refused".into(),
                        retry_after_ms: None,
                    });
                }
                Outcome::ExecutedUnanswered => (Progress::Final(succeeded), Err(unknown(elapsed))),
                Outcome::ExecutedPending => (
                    Progress::PendingUntil(self.pending_until(), succeeded),
                    Ok(PayoutStatus::Pending),
                ),
                Outcome::Executed => (Progress::Final(succeeded.clone()), Ok(succeeded)),
            },
        };
        if progress.will_succeed() {
            let Some(float) = state.float.checked_sub(request.amount) else {
                return Err(OperatorError::Rejected {
                    code: "NOT_ENOUGH_FUNDS".into(),
                });
            };
            state.float = float;
            *state.executions.entry(request.payout).or_insert(0) += 1;
        }
        state.transfers.insert(reference, progress);
        answer
    }

    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        self.travel(reference, 0).await;
        let mut state = self.lock();
        Ok(state
            .transfers
            .get_mut(&reference)
            .map(|progress| progress.current(PayoutStatus::Pending)))
    }

    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError> {
        let reference = request.reference;
        let attempt = self.count_attempt(reference);
        let elapsed = self.travel(reference, attempt).await;
        let mut state = self.lock();
        if state.payments.contains_key(&reference) {
            return Err(unknown(elapsed));
        }
        let paid = PaymentStatus::Paid {
            operator_transaction_id: transaction_id(reference),
        };
        let progress = match sandbox::behaviour(&request.msisdn) {
            Some(SandboxBehaviour::Fails(code)) => {
                Progress::Final(PaymentStatus::Failed { code: code.into() })
            }
            Some(SandboxBehaviour::Expires) => {
                Progress::PendingUntil(self.pending_until(), PaymentStatus::Expired)
            }
            Some(SandboxBehaviour::StaysPending) => Progress::PendingForever,
            Some(SandboxBehaviour::Succeeds) => Progress::Final(paid),
            Some(SandboxBehaviour::Delayed) | None => match self.outcome(reference, attempt) {
                Outcome::Rejected(_) => Progress::Final(PaymentStatus::Failed {
                    code: "APPROVAL_REJECTED".into(),
                }),
                Outcome::NotSent => {
                    return Err(OperatorError::NotSent {
                        detail: "simulated connection refused".into(),
                        retry_after_ms: None,
                    });
                }
                _ => Progress::PendingUntil(self.pending_until(), paid),
            },
        };
        state.payments.insert(reference, progress);
        Ok(PaymentStatus::Pending)
    }

    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError> {
        self.travel(reference, 0).await;
        let mut state = self.lock();
        Ok(state
            .payments
            .get_mut(&reference)
            .map(|progress| progress.current(PaymentStatus::Pending)))
    }

    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError> {
        let active = sandbox::behaviour(msisdn) != Some(SandboxBehaviour::Fails("PAYEE_NOT_FOUND"));
        let digits = msisdn.as_str();
        let name =
            active.then(|| format!("Test Payee {}", &digits[digits.len().saturating_sub(4)..]));
        Ok(AccountHolder { active, name })
    }

    async fn balance(&self) -> Result<(Amount, Currency), OperatorError> {
        Ok((self.lock().float, self.profile.currency))
    }
}
