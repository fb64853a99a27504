//! The profile's sections: MTN products and credentials, Airtel credentials, the fault
//! rates and the callback settings, each with its defaults.

use serde::{Deserialize, Serialize};

use super::CALLBACK_RETRIES_MAX;

/// An MTN product: each has its own credentials, tokens and references.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Disbursement,
    Collection,
}

impl Product {
    /// The first segment of the product's paths.
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Product::Disbursement => "disbursement",
            Product::Collection => "collection",
        }
    }
}

/// One MTN API user of one product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtnCredential {
    pub product: Product,
    pub api_user: String,
    pub api_key: String,
    /// The product's `Ocp-Apim-Subscription-Key`.
    pub subscription_key: String,
}

/// One Airtel OAuth2 client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AirtelCredential {
    pub client_id: String,
    pub client_secret: String,
}

/// Faults, in parts per million of transfer and payment POSTs unless noted. One draw per
/// POST picks at most one of them, so their sum may not exceed one million.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimFaults {
    /// Answered 429 before anything executes, and starts a burst: every POST for
    /// `burst_ms` gets 429 too.
    pub rate_limited: u32,
    pub burst_ms: u64,
    /// Refused with one of MTN's reasons (400; Airtel: TF); nothing executed.
    pub rejected: u32,
    /// Executed, then the reply is held for `hang_ms` so the client times out.
    pub accept_then_timeout: u32,
    /// Swallowed: nothing created (a status query says not found), reply held `hang_ms`.
    pub accepted_then_lost: u32,
    /// Executed, then answered 500.
    pub error_after_executing: u32,
    /// Airtel only: executed, answered TA (DP00900001000), and enquiries say TA for
    /// `pending_ms` before TS. On MTN this share behaves normally.
    pub ambiguous: u32,
    /// Executed, and pending for `pending_ms` (or the profile's `pending_ms` if longer).
    pub pending: u32,
    pub pending_ms: u64,
    /// Per million status queries: answered 200 with a body that is not JSON.
    pub garbage_status: u32,
}

impl Default for SimFaults {
    fn default() -> SimFaults {
        SimFaults {
            rate_limited: 0,
            burst_ms: 1_000,
            rejected: 0,
            accept_then_timeout: 0,
            accepted_then_lost: 0,
            error_after_executing: 0,
            ambiguous: 0,
            pending: 0,
            pending_ms: 10_000,
            garbage_status: 0,
        }
    }
}

impl SimFaults {
    pub(super) fn post_total(&self) -> u64 {
        [
            self.rate_limited,
            self.rejected,
            self.accept_then_timeout,
            self.accepted_then_lost,
            self.error_after_executing,
            self.ambiguous,
            self.pending,
        ]
        .into_iter()
        .map(u64::from)
        .sum()
    }
}

/// The HTTP method a callback is sent with (MTN uses both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CallbackMethod {
    Post,
    Put,
}

/// How results are called back once final. Rates are per million callbacks; the
/// forgeries and lies are MTN only (see `simserver::forgery`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackProfile {
    /// Never sent: no attempt at all.
    pub drop_ppm: u32,
    /// Sent twice (the copy right after the first delivery).
    pub duplicate_ppm: u32,
    /// MTN: `reason` as a bare code string instead of `{code, message}`.
    pub reason_as_string_ppm: u32,
    /// MTN: no `referenceId`; only `externalId` identifies the transfer.
    pub omit_reference_id_ppm: u32,
    /// MTN: besides the real callback, one to its URL with the last path segment (the
    /// token) changed, claiming the opposite final status.
    pub forge_wrong_token_ppm: u32,
    /// MTN: besides the real callback, one to its URL with the `amount` one minor unit more.
    pub forge_wrong_amount_ppm: u32,
    /// MTN: besides the real callback, its body to the callback URL of an earlier transfer.
    pub forge_replay_ppm: u32,
    /// MTN: the real callback claims the opposite of the final status (a status query
    /// still tells the truth).
    pub lie_ppm: u32,
    /// Wait after the transfer turns final, before the first attempt.
    pub delay_ms: u64,
    /// Retries after a failed attempt (non-2xx, timeout, connection error); 0: one attempt.
    pub retries_max: u32,
    /// Factor on the retry schedule's waits (1.0: MTN's timings; 0.01 in tests).
    pub retry_scale: f64,
    /// MTN transfers' callback method.
    pub transfer_method: CallbackMethod,
    /// MTN requests to pay's callback method.
    pub payment_method: CallbackMethod,
}

impl Default for CallbackProfile {
    fn default() -> CallbackProfile {
        CallbackProfile {
            drop_ppm: 0,
            duplicate_ppm: 0,
            reason_as_string_ppm: 0,
            omit_reference_id_ppm: 0,
            forge_wrong_token_ppm: 0,
            forge_wrong_amount_ppm: 0,
            forge_replay_ppm: 0,
            lie_ppm: 0,
            delay_ms: 0,
            retries_max: CALLBACK_RETRIES_MAX,
            retry_scale: 1.0,
            transfer_method: CallbackMethod::Post,
            payment_method: CallbackMethod::Put,
        }
    }
}
