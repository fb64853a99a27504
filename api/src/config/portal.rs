//! `[portal]`: where people reach the portal, how long their sessions last, and how often
//! they may try to sign in.

use serde::{Deserialize, Serialize};

/// The web portal's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortalConfig {
    /// The address people open, such as `https://pay.example.rw`: setup links start with
    /// it, and over `https` the session cookie is `Secure` with the `__Host-` prefix.
    /// Without it, `http://` and the listen address.
    pub public_url: Option<String>,
    /// Minutes without a request after which a session ends.
    pub idle_timeout_minutes: u64,
    /// Hours after sign-in at which a session ends, however busy.
    pub absolute_timeout_hours: u64,
    /// Sign-in attempts per minute for one email, and (times five) for one address.
    pub sign_in_attempts_per_minute: u32,
}

impl Default for PortalConfig {
    fn default() -> PortalConfig {
        PortalConfig {
            public_url: None,
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            sign_in_attempts_per_minute: 5,
        }
    }
}
