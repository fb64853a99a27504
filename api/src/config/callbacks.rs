//! `[callbacks]`: how far operator callbacks are trusted. MTN transfers carry a capability
//! callback URL; a payout accepted by MTN waits `deadline_ms` for its callback before a
//! status query asks. Callbacks are limited to `max_per_second` per operator (a flood is
//! answered 429 at once), and a rotated signing secret stays accepted for
//! `secret_overlap_hours`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbacksConfig {
    /// Trust authenticated MTN callbacks (settle on them, verify later). Off: every
    /// callback only brings a status query forward.
    pub trusted: bool,
    /// How long a payout MTN accepted waits for its callback before a status query asks.
    pub deadline_ms: u64,
    /// Callbacks taken per second from each operator; above it, 429 with Retry-After.
    pub max_per_second: u32,
    /// How long a replaced signing secret is still accepted (`payrail callbacks
    /// rotate-secret`): MTN retries a callback for hours.
    pub secret_overlap_hours: u64,
}

impl Default for CallbacksConfig {
    fn default() -> CallbacksConfig {
        CallbacksConfig {
            trusted: true,
            deadline_ms: 5_000,
            max_per_second: 2_000,
            secret_overlap_hours: 24,
        }
    }
}

impl CallbacksConfig {
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
}
