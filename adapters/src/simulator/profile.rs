//! How a simulated route behaves: its latency, its faults (in parts per million of
//! attempts), how long pending payouts take, and its float. Loaded from TOML.

use payrail_engine::money::{Amount, Currency};
use serde::{Deserialize, Serialize};

/// Parts per million: the unit of every fault rate.
pub const PPM: u32 = 1_000_000;

/// The reply delay of every call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// No delay at all: what engine benchmarks use.
    Zero,
    Fixed {
        ms: u64,
    },
    /// Log-normal around `median_ms`, with `sigma` the spread of its logarithm.
    LogNormal {
        median_ms: u64,
        sigma: f64,
    },
}

/// How often each fault happens, per million send attempts; the rest succeed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// Refused with one of MTN's reason codes; nothing executed.
    pub rejected: u32,
    /// Never reached the operator; nothing executed.
    pub not_sent: u32,
    /// Executed, but the reply never arrived.
    pub accepted_then_lost: u32,
    /// Executed, then answered 500.
    pub error_after_executing: u32,
    /// Accepted as pending; succeeds `pending_ms` later.
    pub pending: u32,
}

impl FaultRates {
    fn total(&self) -> u64 {
        [
            self.rejected,
            self.not_sent,
            self.accepted_then_lost,
            self.error_after_executing,
            self.pending,
        ]
        .into_iter()
        .map(u64::from)
        .sum()
    }
}

/// One simulated route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorProfile {
    /// Every outcome follows from the seed and the reference: the same seed, the same run.
    pub seed: u64,
    pub currency: Currency,
    /// Payrail's balance at the operator; a payout beyond it is refused `NOT_ENOUGH_FUNDS`.
    pub float: Amount,
    pub latency: Latency,
    pub faults: FaultRates,
    /// How long a pending payout or request to pay stays pending.
    pub pending_ms: u64,
}

impl Default for SimulatorProfile {
    fn default() -> SimulatorProfile {
        SimulatorProfile {
            seed: 1,
            currency: Currency::Rwf,
            float: Amount::from_minor(payrail_engine::money::AMOUNT_MAX_MINOR)
                .expect("the maximum is an amount"),
            latency: Latency::Zero,
            faults: FaultRates::default(),
            pending_ms: 1_000,
        }
    }
}

/// A profile that cannot be simulated.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("fault rates add up to {total} per million, more than {PPM}")]
    RatesAboveOne { total: u64 },
    #[error("log-normal latency needs a finite, non-negative sigma")]
    Sigma,
}

impl SimulatorProfile {
    /// Checks what serde cannot: rates that fit in one million, a usable sigma.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let total = self.faults.total();
        if total > u64::from(PPM) {
            return Err(ProfileError::RatesAboveOne { total });
        }
        if let Latency::LogNormal { sigma, .. } = self.latency
            && (!sigma.is_finite() || sigma < 0.0)
        {
            return Err(ProfileError::Sigma);
        }
        Ok(())
    }
}
