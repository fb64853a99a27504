//! The simulator server's profile: how both simulated operators behave (faults in parts per
//! million of requests, delays, float, limits, credentials, callbacks). TOML or JSON, or
//! one of the built-in profiles by name (`named`).

use std::collections::BTreeMap;

use payrail_engine::money::{AMOUNT_MAX_MINOR, Amount, Currency};
use serde::{Deserialize, Serialize};

use crate::simulator::{Latency, PPM};

mod named;
mod sections;

pub use sections::{
    AirtelCredential, CallbackMethod, CallbackProfile, MtnCredential, Product, SimFaults,
};

/// Longest any configured delay may be (pending, hang, burst, callback delay), in ms: a
/// simulated operator that takes longer than an hour is a configuration mistake.
pub const DELAY_MS_MAX: u64 = 3_600_000;
/// Longest token life, in seconds: a day.
pub const TOKEN_TTL_SECS_MAX: u64 = 86_400;
/// Most transfers and payments the server remembers (each costs a few hundred bytes);
/// beyond the profile's `transfers_max` new ones are refused as unavailable.
pub const TRANSFERS_MAX_LIMIT: u64 = 50_000_000;
/// Most callback retries: MTN's documented schedule has 20 + 30 before its hourly phase.
pub const CALLBACK_RETRIES_MAX: u32 = 50;
/// Largest factor on the callback retry schedule.
pub const CALLBACK_RETRY_SCALE_MAX: f64 = 100.0;

/// One simulator server: both operators, every product, one float per currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimServerProfile {
    /// Every draw follows from the seed, the reference and the attempt.
    pub seed: u64,
    /// Life of an issued access token (MTN and Airtel), in seconds.
    pub token_ttl_secs: u64,
    /// How long every accepted transfer or payment stays pending before it turns final.
    pub pending_ms: u64,
    /// How long a reply is held when a fault makes the client time out.
    pub hang_ms: u64,
    /// Status queries per second per credential (MTN apiUser, Airtel client_id); 0: no limit.
    pub status_queries_per_second: u32,
    /// Transfers and payments remembered before new ones are refused (503).
    pub transfers_max: u64,
    /// The delay of every transfer, payment and status reply.
    pub latency: Latency,
    /// The balance at the operator per currency, in minor units; a currency not listed has
    /// none. Transfers beyond it fail NOT_ENOUGH_FUNDS (Airtel DP00900001007).
    pub float: BTreeMap<Currency, Amount>,
    /// MTN `X-Target-Environment` values accepted, each with the only currency it takes.
    pub mtn_environments: BTreeMap<String, Currency>,
    /// When not empty, the only MTN credentials accepted; when empty, any well-formed one.
    pub mtn_credentials: Vec<MtnCredential>,
    /// When not empty, the only Airtel credentials accepted; when empty, any non-empty one.
    pub airtel_credentials: Vec<AirtelCredential>,
    /// Where Airtel results are posted (Airtel configures it per merchant, not per request).
    pub airtel_callback_url: Option<String>,
    pub faults: SimFaults,
    pub callbacks: CallbackProfile,
}

impl Default for SimServerProfile {
    fn default() -> SimServerProfile {
        let float = Amount::from_minor(AMOUNT_MAX_MINOR).expect("the maximum is an amount");
        SimServerProfile {
            seed: 1,
            token_ttl_secs: 3_600,
            pending_ms: 0,
            hang_ms: 30_000,
            status_queries_per_second: 10,
            transfers_max: 5_000_000,
            latency: Latency::Zero,
            float: Currency::ALL.into_iter().map(|c| (c, float)).collect(),
            mtn_environments: BTreeMap::from([
                ("sandbox".to_owned(), Currency::Eur),
                ("mtnrwanda".to_owned(), Currency::Rwf),
            ]),
            mtn_credentials: Vec::new(),
            airtel_credentials: Vec::new(),
            airtel_callback_url: None,
            faults: SimFaults::default(),
            callbacks: CallbackProfile::default(),
        }
    }
}

/// A profile that cannot be loaded or simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimProfileError {
    #[error("the profile is not valid TOML for a simulator profile: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("{what} add up to {total} per million, more than {PPM}")]
    RatesAboveOne { what: &'static str, total: u64 },
    #[error("{field} is {value}, above its maximum {max}")]
    TooLarge {
        field: &'static str,
        value: u64,
        max: u64,
    },
    #[error("{field} must be positive")]
    Zero { field: &'static str },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("log-normal latency needs a finite, non-negative sigma")]
    Sigma,
    #[error("callbacks.retry_scale must be a finite number from 0 to {CALLBACK_RETRY_SCALE_MAX}")]
    RetryScale,
    #[error("airtel_callback_url is not an http(s) URL")]
    CallbackUrl,
}

impl SimServerProfile {
    /// Reads and validates a TOML profile.
    pub fn from_toml(text: &str) -> Result<SimServerProfile, SimProfileError> {
        let profile: SimServerProfile = toml::from_str(text)?;
        profile.validate()?;
        Ok(profile)
    }

    /// Checks what serde cannot: rates within one million, bounded delays, usable numbers.
    pub fn validate(&self) -> Result<(), SimProfileError> {
        let faults = &self.faults;
        let callbacks = &self.callbacks;
        ppm_total("fault rates of POSTs", faults.post_total())?;
        ppm_total("faults.garbage_status", u64::from(faults.garbage_status))?;
        ppm_total(
            "callbacks.drop_ppm and duplicate_ppm",
            u64::from(callbacks.drop_ppm) + u64::from(callbacks.duplicate_ppm),
        )?;
        for (what, rate) in [
            (
                "callbacks.reason_as_string_ppm",
                callbacks.reason_as_string_ppm,
            ),
            (
                "callbacks.omit_reference_id_ppm",
                callbacks.omit_reference_id_ppm,
            ),
            (
                "callbacks.forge_wrong_token_ppm",
                callbacks.forge_wrong_token_ppm,
            ),
            (
                "callbacks.forge_wrong_amount_ppm",
                callbacks.forge_wrong_amount_ppm,
            ),
            ("callbacks.forge_replay_ppm", callbacks.forge_replay_ppm),
            ("callbacks.lie_ppm", callbacks.lie_ppm),
        ] {
            ppm_total(what, u64::from(rate))?;
        }
        for (field, value) in [
            ("pending_ms", self.pending_ms),
            ("hang_ms", self.hang_ms),
            ("faults.burst_ms", faults.burst_ms),
            ("faults.pending_ms", faults.pending_ms),
            ("callbacks.delay_ms", callbacks.delay_ms),
        ] {
            at_most(field, value, DELAY_MS_MAX)?;
        }
        at_most("token_ttl_secs", self.token_ttl_secs, TOKEN_TTL_SECS_MAX)?;
        positive("token_ttl_secs", self.token_ttl_secs)?;
        at_most("transfers_max", self.transfers_max, TRANSFERS_MAX_LIMIT)?;
        positive("transfers_max", self.transfers_max)?;
        at_most(
            "callbacks.retries_max",
            u64::from(callbacks.retries_max),
            u64::from(CALLBACK_RETRIES_MAX),
        )?;
        if !(callbacks.retry_scale.is_finite()
            && (0.0..=CALLBACK_RETRY_SCALE_MAX).contains(&callbacks.retry_scale))
        {
            return Err(SimProfileError::RetryScale);
        }
        self.validate_latency()?;
        self.validate_names()
    }

    fn validate_latency(&self) -> Result<(), SimProfileError> {
        match self.latency {
            Latency::Zero => Ok(()),
            Latency::Fixed { ms } => at_most("latency.ms", ms, DELAY_MS_MAX),
            Latency::LogNormal { median_ms, sigma } => {
                if !sigma.is_finite() || sigma < 0.0 {
                    return Err(SimProfileError::Sigma);
                }
                at_most("latency.median_ms", median_ms, DELAY_MS_MAX)
            }
        }
    }

    fn validate_names(&self) -> Result<(), SimProfileError> {
        if self.mtn_environments.is_empty() || self.mtn_environments.keys().any(String::is_empty) {
            return Err(SimProfileError::Empty {
                field: "mtn_environments",
            });
        }
        let mtn_blank = self.mtn_credentials.iter().any(|c| {
            c.api_user.is_empty() || c.api_key.is_empty() || c.subscription_key.is_empty()
        });
        if mtn_blank {
            return Err(SimProfileError::Empty {
                field: "mtn_credentials",
            });
        }
        let airtel_blank = self
            .airtel_credentials
            .iter()
            .any(|c| c.client_id.is_empty() || c.client_secret.is_empty());
        if airtel_blank {
            return Err(SimProfileError::Empty {
                field: "airtel_credentials",
            });
        }
        if let Some(url) = &self.airtel_callback_url {
            let parsed = reqwest::Url::parse(url).map_err(|_| SimProfileError::CallbackUrl)?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(SimProfileError::CallbackUrl);
            }
        }
        Ok(())
    }
}

fn ppm_total(what: &'static str, total: u64) -> Result<(), SimProfileError> {
    if total > u64::from(PPM) {
        return Err(SimProfileError::RatesAboveOne { what, total });
    }
    Ok(())
}

fn at_most(field: &'static str, value: u64, max: u64) -> Result<(), SimProfileError> {
    if value > max {
        return Err(SimProfileError::TooLarge { field, value, max });
    }
    Ok(())
}

fn positive(field: &'static str, value: u64) -> Result<(), SimProfileError> {
    if value == 0 {
        return Err(SimProfileError::Zero { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_profile_is_the_default() {
        let text = include_str!("../../profiles/default.toml");
        let profile = SimServerProfile::from_toml(text).expect("default.toml is valid");
        assert_eq!(profile, SimServerProfile::default());
    }

    #[test]
    fn the_hostile_profile_is_valid_and_hostile() {
        let text = include_str!("../../profiles/hostile.toml");
        let profile = SimServerProfile::from_toml(text).expect("hostile.toml is valid");
        let faults = profile.faults;
        for rate in [
            faults.rate_limited,
            faults.rejected,
            faults.accept_then_timeout,
            faults.accepted_then_lost,
            faults.error_after_executing,
            faults.ambiguous,
            faults.pending,
            faults.garbage_status,
            profile.callbacks.drop_ppm,
            profile.callbacks.duplicate_ppm,
        ] {
            assert!(rate > 0, "every fault is on in hostile.toml");
        }
        assert!(profile.status_queries_per_second < 10);
    }

    #[test]
    fn fault_rates_above_one_million_are_refused() {
        let mut profile = SimServerProfile::default();
        profile.faults.rejected = 600_000;
        profile.faults.pending = 500_000;
        assert!(matches!(
            profile.validate(),
            Err(SimProfileError::RatesAboveOne {
                total: 1_100_000,
                ..
            })
        ));
    }

    #[test]
    fn unknown_keys_and_bad_numbers_are_refused() {
        assert!(matches!(
            SimServerProfile::from_toml("sede = 3"),
            Err(SimProfileError::Toml(_))
        ));
        assert!(matches!(
            SimServerProfile::from_toml("[callbacks]\nretry_scale = -1.0"),
            Err(SimProfileError::RetryScale)
        ));
        assert!(matches!(
            SimServerProfile::from_toml("hang_ms = 3600001"),
            Err(SimProfileError::TooLarge {
                field: "hang_ms",
                ..
            })
        ));
        assert!(matches!(
            SimServerProfile::from_toml("airtel_callback_url = \"ftp://x\""),
            Err(SimProfileError::CallbackUrl)
        ));
        assert!(matches!(
            SimServerProfile::from_toml("token_ttl_secs = 0"),
            Err(SimProfileError::Zero { .. })
        ));
    }

    #[test]
    fn a_profile_survives_json_both_ways() {
        let profile = SimServerProfile {
            latency: Latency::LogNormal {
                median_ms: 40,
                sigma: 0.5,
            },
            airtel_callback_url: Some("http://127.0.0.1:1/cb".into()),
            ..SimServerProfile::default()
        };
        let json = serde_json::to_string(&profile).expect("serialisable");
        let back: SimServerProfile = serde_json::from_str(&json).expect("readable");
        assert_eq!(back, profile);
    }
}
