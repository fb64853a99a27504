//! What one transfer or payment POST turns into: a 429, a rejection, a swallowed request,
//! or an accepted transfer with its course (how and when it ends) and its reply's fault.

use std::time::Duration;

use payrail_engine::ids::Reference;

use super::book::Kind;
use super::draws::{Draw, Draws};
use super::profile::SimServerProfile;
use crate::simulator::REJECTION_CODES;
use crate::simulator::sandbox::SandboxBehaviour;

/// MTN's reasons for refusing a request to pay outright.
const PAYMENT_REJECTION_CODES: [&str; 4] = [
    "PAYER_NOT_FOUND",
    "NOT_ALLOWED",
    "PAYER_LIMIT_REACHED",
    "INVALID_CURRENCY",
];

/// The fate of one POST, decided before anything is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Refused(Refusal),
    Accepted(Acceptance),
}

/// A POST that creates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 429 with Retry-After; starts a burst.
    RateLimited,
    /// Refused with this MTN reason.
    Rejected(&'static str),
    /// Swallowed: the reply is held until the client gives up.
    Lost,
}

/// An accepted transfer or payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Acceptance {
    pub(crate) course: Course,
    pub(crate) reply: ReplyFault,
    /// The `pending` fault made it pending for `faults.pending_ms`.
    pub(crate) slow: bool,
}

/// How an accepted transfer or payment ends, before the float is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Course {
    /// Executes now; SUCCESSFUL after the delay.
    Succeeds { after: Duration },
    /// Never executes; FAILED with the reason after the delay.
    Fails {
        reason: &'static str,
        after: Duration,
    },
    /// Never executes, never ends (MTN sandbox …453).
    PendingForever,
}

/// What goes wrong with the reply of an accepted POST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyFault {
    None,
    /// Held for `hang_ms`.
    Hang,
    /// 500 after executing.
    ServerError,
    /// Airtel TA (DP00900001000); enquiries say TA until it ends.
    Ambiguous,
}

impl Acceptance {
    fn plain(course: Course) -> Decision {
        Decision::Accepted(Acceptance {
            course,
            reply: ReplyFault::None,
            slow: false,
        })
    }
}

/// Decides one POST: sandbox numbers as MTN documents them, else one roll over the
/// profile's cumulative fault rates.
pub(crate) fn decide(
    profile: &SimServerProfile,
    kind: Kind,
    sandbox: Option<SandboxBehaviour>,
    reference: Reference,
    attempt: u32,
) -> Decision {
    let pending = Duration::from_millis(profile.pending_ms);
    if let Some(behaviour) = sandbox {
        return Acceptance::plain(sandbox_course(behaviour, kind, pending));
    }
    let draws = Draws::new(profile.seed);
    let faults = &profile.faults;
    let roll = draws.roll_ppm(Draw::Outcome, reference, attempt);
    let mut threshold = 0u32;
    let mut below = |rate: u32| {
        threshold = threshold.saturating_add(rate);
        roll < threshold
    };
    let slow = pending.max(Duration::from_millis(faults.pending_ms));
    let accepted = |reply, after, slow| {
        Decision::Accepted(Acceptance {
            course: Course::Succeeds { after },
            reply,
            slow,
        })
    };
    if below(faults.rate_limited) {
        Decision::Refused(Refusal::RateLimited)
    } else if below(faults.rejected) {
        let codes: &[&'static str] = match kind {
            Kind::Transfer => &REJECTION_CODES,
            Kind::Payment => &PAYMENT_REJECTION_CODES,
        };
        let code = codes[draws.pick(reference, attempt, codes.len())];
        Decision::Refused(Refusal::Rejected(code))
    } else if below(faults.accepted_then_lost) {
        Decision::Refused(Refusal::Lost)
    } else if below(faults.accept_then_timeout) {
        accepted(ReplyFault::Hang, pending, false)
    } else if below(faults.error_after_executing) {
        accepted(ReplyFault::ServerError, pending, false)
    } else if below(faults.ambiguous) {
        accepted(ReplyFault::Ambiguous, slow, false)
    } else if below(faults.pending) {
        accepted(ReplyFault::None, slow, true)
    } else {
        accepted(ReplyFault::None, pending, false)
    }
}

fn sandbox_course(behaviour: SandboxBehaviour, kind: Kind, pending: Duration) -> Course {
    match (behaviour, kind) {
        (SandboxBehaviour::Fails(reason), _) => Course::Fails {
            reason,
            after: Duration::ZERO,
        },
        (SandboxBehaviour::Expires, Kind::Transfer) => Course::Fails {
            reason: "EXPIRED",
            after: Duration::ZERO,
        },
        (SandboxBehaviour::Expires, Kind::Payment) => Course::Fails {
            reason: "EXPIRED",
            after: pending,
        },
        (SandboxBehaviour::StaysPending, _) => Course::PendingForever,
        (SandboxBehaviour::Delayed, _) => Course::Succeeds {
            // "Delayed" must be visibly pending even when the profile's delay is zero.
            after: pending.max(SANDBOX_DELAY),
        },
        (SandboxBehaviour::Succeeds, _) => Course::Succeeds { after: pending },
    }
}

/// How long the sandbox's delayed number (…454) stays pending at least.
pub(crate) const SANDBOX_DELAY: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::PPM;

    fn count(profile: &SimServerProfile, n: usize) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            let decision = decide(profile, Kind::Transfer, None, Reference::new(), 1);
            let name = match decision {
                Decision::Refused(Refusal::RateLimited) => "rate_limited",
                Decision::Refused(Refusal::Rejected(_)) => "rejected",
                Decision::Refused(Refusal::Lost) => "lost",
                Decision::Accepted(a) => match a.reply {
                    ReplyFault::None => "ok",
                    ReplyFault::Hang => "hang",
                    ReplyFault::ServerError => "500",
                    ReplyFault::Ambiguous => "ambiguous",
                },
            };
            *counts.entry(name.to_owned()).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn each_fault_fires_near_its_rate() {
        let mut profile = SimServerProfile::default();
        let tenth = PPM / 10;
        profile.faults.rate_limited = tenth;
        profile.faults.rejected = tenth;
        profile.faults.accepted_then_lost = tenth;
        profile.faults.accept_then_timeout = tenth;
        profile.faults.error_after_executing = tenth;
        profile.faults.ambiguous = tenth;
        let counts = count(&profile, 20_000);
        for name in [
            "rate_limited",
            "rejected",
            "lost",
            "hang",
            "500",
            "ambiguous",
        ] {
            let n = counts.get(name).copied().unwrap_or(0);
            assert!((1_600..2_400).contains(&n), "{name}: {n} of 20,000");
        }
    }

    #[test]
    fn no_faults_means_every_post_is_accepted_cleanly() {
        let counts = count(&SimServerProfile::default(), 2_000);
        assert_eq!(counts.get("ok"), Some(&2_000));
    }

    #[test]
    fn sandbox_numbers_skip_the_fault_roll() {
        let mut profile = SimServerProfile::default();
        profile.faults.rejected = PPM;
        let decision = decide(
            &profile,
            Kind::Transfer,
            Some(SandboxBehaviour::StaysPending),
            Reference::new(),
            1,
        );
        assert_eq!(
            decision,
            Decision::Accepted(Acceptance {
                course: Course::PendingForever,
                reply: ReplyFault::None,
                slow: false,
            })
        );
    }
}
