//! Deterministic draws for the server, on the in-process simulator's `Dice`: one seed per
//! kind of question, and Airtel's free-text transaction ids hashed into a reference.

use std::time::Duration;

use payrail_engine::ids::Reference;
use uuid::Uuid;

use crate::simulator::Latency;
use crate::simulator::dice::{Dice, Question};

/// What a draw decides. `Outcome` and `RejectionCode` use the in-process simulator's own
/// questions; the others get a seed of their own so their rolls are independent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Draw {
    Outcome,
    RejectionCode,
    GarbageStatus,
    CallbackDrop,
    ReasonAsString,
    OmitReferenceId,
}

impl Draw {
    /// The seed offset of a question the in-process simulator does not ask.
    const fn salt(self) -> u64 {
        match self {
            Draw::Outcome | Draw::RejectionCode => 0,
            Draw::GarbageStatus => 0x5EED_0001,
            Draw::CallbackDrop => 0x5EED_0002,
            Draw::ReasonAsString => 0x5EED_0003,
            Draw::OmitReferenceId => 0x5EED_0004,
        }
    }
}

/// The profile's seed, asked per reference and attempt.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Draws {
    seed: u64,
}

impl Draws {
    pub(crate) fn new(seed: u64) -> Draws {
        Draws { seed }
    }

    fn dice(self, draw: Draw) -> Dice {
        Dice::new(self.seed ^ draw.salt())
    }

    /// A number in `0..PPM`.
    pub(crate) fn roll_ppm(self, draw: Draw, reference: Reference, attempt: u32) -> u32 {
        let question = match draw {
            Draw::RejectionCode => Question::RejectionCode,
            _ => Question::Outcome,
        };
        self.dice(draw).roll_ppm(reference, attempt, question)
    }

    /// True with probability `ppm` per million.
    pub(crate) fn happens(self, draw: Draw, reference: Reference, attempt: u32, ppm: u32) -> bool {
        ppm > 0 && self.roll_ppm(draw, reference, attempt) < ppm
    }

    /// One of `n` (n > 0) rejection reasons.
    pub(crate) fn pick(self, reference: Reference, attempt: u32, n: usize) -> usize {
        self.dice(Draw::RejectionCode)
            .pick(reference, attempt, Question::RejectionCode, n)
    }

    pub(crate) fn latency(self, latency: Latency, reference: Reference, attempt: u32) -> Duration {
        self.dice(Draw::Outcome)
            .latency(latency, reference, attempt)
    }
}

/// A stable 128-bit reference for a text id (Airtel's `transaction.id`): two FNV-1a
/// passes with different offsets, so draws for an id are the same in every run.
pub(crate) fn reference_of(id: &str) -> Reference {
    let high = fnv1a(id.as_bytes(), 0xCBF2_9CE4_8422_2325);
    let low = fnv1a(id.as_bytes(), 0x6C62_272E_07BB_0142);
    Reference::from_uuid(Uuid::from_u128((u128::from(high) << 64) | u128::from(low)))
}

/// FNV-1a over bytes from `offset`: fast and stable, for ids and shard choice.
pub(crate) fn fnv1a(bytes: &[u8], offset: u64) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    bytes.iter().fold(offset, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ids_map_to_stable_distinct_references() {
        assert_eq!(reference_of("tx-1"), reference_of("tx-1"));
        assert_ne!(reference_of("tx-1"), reference_of("tx-2"));
    }

    #[test]
    fn questions_with_their_own_seed_roll_independently() {
        let draws = Draws::new(9);
        let references: Vec<Reference> = (0..200).map(|_| Reference::new()).collect();
        let rolls = |draw| -> Vec<u32> {
            references
                .iter()
                .map(|r| draws.roll_ppm(draw, *r, 1))
                .collect()
        };
        assert_ne!(rolls(Draw::Outcome), rolls(Draw::CallbackDrop));
        assert_ne!(rolls(Draw::CallbackDrop), rolls(Draw::ReasonAsString));
        assert_eq!(rolls(Draw::GarbageStatus), rolls(Draw::GarbageStatus));
    }
}
