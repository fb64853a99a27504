//! Deterministic chance: every decision is a hash of the seed, the reference and the
//! attempt, so outcomes do not depend on the order concurrent calls arrive in.

use std::time::Duration;

use payrail_engine::ids::Reference;

use super::profile::{Latency, PPM};

/// The kinds of decision, so that one reference's rolls for different questions differ.
#[derive(Clone, Copy, Debug)]
pub enum Question {
    Outcome = 1,
    RejectionCode = 2,
    LatencyFirst = 3,
    LatencySecond = 4,
}

/// A seeded source of per-reference decisions.
#[derive(Clone, Copy, Debug)]
pub struct Dice {
    seed: u64,
}

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice { seed }
    }

    /// A number in `0..PPM` for this question about this attempt of this reference.
    pub fn roll_ppm(&self, reference: Reference, attempt: u32, question: Question) -> u32 {
        let value = self.hash(reference, attempt, question);
        u32::try_from(value % u64::from(PPM)).expect("below one million")
    }

    /// A number in `0..n` (n > 0).
    pub fn pick(&self, reference: Reference, attempt: u32, question: Question, n: usize) -> usize {
        let n = u64::try_from(n).expect("small");
        usize::try_from(self.hash(reference, attempt, question) % n).expect("below n")
    }

    /// The delay of one call.
    pub fn latency(&self, latency: Latency, reference: Reference, attempt: u32) -> Duration {
        match latency {
            Latency::Zero => Duration::ZERO,
            Latency::Fixed { ms } => Duration::from_millis(ms),
            Latency::LogNormal { median_ms, sigma } => {
                // Box–Muller from two uniforms in (0, 1]: a standard normal draw.
                let uniform = |question| {
                    (f64::from(self.roll_ppm(reference, attempt, question)) + 1.0) / f64::from(PPM)
                };
                let (u1, u2) = (
                    uniform(Question::LatencyFirst),
                    uniform(Question::LatencySecond),
                );
                let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let median = Duration::from_millis(median_ms).as_secs_f64();
                Duration::from_secs_f64(median * (sigma * normal).exp())
            }
        }
    }

    fn hash(&self, reference: Reference, attempt: u32, question: Question) -> u64 {
        let bits = reference.as_uuid().as_u128();
        let (high, low) = ((bits >> 64) as u64, bits as u64);
        let mut state = self.seed;
        for word in [high, low, u64::from(attempt), question as u64] {
            state = splitmix64(state ^ word);
        }
        state
    }
}

/// SplitMix64's finaliser: a fast, well-mixed, stable 64-bit hash step.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_rolls_and_another_seed_others() {
        let references: Vec<Reference> = (0..100).map(|_| Reference::new()).collect();
        let rolls = |seed| -> Vec<u32> {
            references
                .iter()
                .map(|r| Dice::new(seed).roll_ppm(*r, 1, Question::Outcome))
                .collect()
        };
        assert_eq!(rolls(7), rolls(7));
        assert_ne!(rolls(7), rolls(8));
    }

    #[test]
    fn rolls_are_spread_evenly() {
        let dice = Dice::new(42);
        let below_tenth = (0..20_000)
            .filter(|_| dice.roll_ppm(Reference::new(), 1, Question::Outcome) < PPM / 10)
            .count();
        assert!(
            (1_700..2_300).contains(&below_tenth),
            "{below_tenth} of 20,000 below 10 %"
        );
    }

    #[test]
    fn log_normal_latency_centres_on_its_median() {
        let dice = Dice::new(3);
        let latency = Latency::LogNormal {
            median_ms: 100,
            sigma: 0.5,
        };
        let mut samples: Vec<Duration> = (0..5_001)
            .map(|_| dice.latency(latency, Reference::new(), 1))
            .collect();
        samples.sort();
        let median = samples[2_500].as_millis();
        assert!((90..=110).contains(&median), "median {median} ms");
        assert!(samples[0] < samples[5_000]);
    }
}
