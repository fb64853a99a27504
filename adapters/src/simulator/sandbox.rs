//! MTN's sandbox test numbers (`46733123450`–`46733123464`), which behave as MTN documents
//! them whatever the profile says: payee `…450` fails, `…451` is rejected, `…452` expires,
//! `…453` stays pending, `…454` is delayed, `…455` NOT_ENOUGH_FUNDS, `…456`
//! PAYER_LIMIT_REACHED, `…457` PAYEE_NOT_FOUND; the others in the range succeed.

use payrail_engine::msisdn::Msisdn;

/// The sandbox range, first and last.
const FIRST: u64 = 46_733_123_450;
const LAST: u64 = 46_733_123_464;

/// What a sandbox number does to a payout or a request to pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxBehaviour {
    /// Accepted, then final with this reason; nothing executed.
    Fails(&'static str),
    /// Accepted, then expired (a request to pay nobody approved).
    Expires,
    /// Accepted and pending for ever.
    StaysPending,
    /// Accepted, pending, then successful after the profile's pending delay.
    Delayed,
    /// Succeeds at once.
    Succeeds,
}

/// The behaviour of a sandbox number, or `None` for any other number.
pub fn behaviour(msisdn: &Msisdn) -> Option<SandboxBehaviour> {
    let number: u64 = msisdn.as_str().parse().ok()?;
    if !(FIRST..=LAST).contains(&number) {
        return None;
    }
    Some(match number - FIRST {
        0 => SandboxBehaviour::Fails("INTERNAL_PROCESSING_ERROR"),
        1 => SandboxBehaviour::Fails("APPROVAL_REJECTED"),
        2 => SandboxBehaviour::Expires,
        3 => SandboxBehaviour::StaysPending,
        4 => SandboxBehaviour::Delayed,
        5 => SandboxBehaviour::Fails("NOT_ENOUGH_FUNDS"),
        6 => SandboxBehaviour::Fails("PAYER_LIMIT_REACHED"),
        7 => SandboxBehaviour::Fails("PAYEE_NOT_FOUND"),
        _ => SandboxBehaviour::Succeeds,
    })
}

#[cfg(test)]
mod tests {
    use payrail_engine::msisdn::Region;

    use super::*;

    fn number(digits: &str) -> Msisdn {
        Msisdn::parse(digits, Region::RW).expect("a valid number")
    }

    #[test]
    fn each_documented_sandbox_number_behaves_as_mtn_says() {
        let expected = [
            (
                "46733123450",
                SandboxBehaviour::Fails("INTERNAL_PROCESSING_ERROR"),
            ),
            ("46733123451", SandboxBehaviour::Fails("APPROVAL_REJECTED")),
            ("46733123452", SandboxBehaviour::Expires),
            ("46733123453", SandboxBehaviour::StaysPending),
            ("46733123454", SandboxBehaviour::Delayed),
            ("46733123455", SandboxBehaviour::Fails("NOT_ENOUGH_FUNDS")),
            (
                "46733123456",
                SandboxBehaviour::Fails("PAYER_LIMIT_REACHED"),
            ),
            ("46733123457", SandboxBehaviour::Fails("PAYEE_NOT_FOUND")),
            ("46733123464", SandboxBehaviour::Succeeds),
        ];
        for (digits, behaviour_expected) in expected {
            assert_eq!(
                behaviour(&number(digits)),
                Some(behaviour_expected),
                "{digits}"
            );
        }
    }

    #[test]
    fn numbers_outside_the_range_are_ordinary() {
        for digits in ["46733123449", "46733123465", "250788123456"] {
            assert_eq!(behaviour(&number(digits)), None, "{digits}");
        }
    }
}
