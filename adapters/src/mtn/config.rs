//! How a node reaches MTN MoMo: the base URL, the target environment and its currency, a
//! callback URL, and one set of credentials per product (disbursement, collection).

use payrail_engine::money::Currency;
use serde::{Deserialize, Serialize};

use crate::http::HttpTimeouts;
use crate::secret::Secret;

/// MTN's production base URL; the sandbox is `https://sandbox.momodeveloper.mtn.com`.
pub const PRODUCTION_BASE_URL: &str = "https://proxy.momoapi.mtn.com";

/// One MTN route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtnConfig {
    #[serde(default = "production_base_url")]
    pub base_url: String,
    /// `X-Target-Environment`: `mtnrwanda` in Rwanda, `sandbox` on MTN's sandbox.
    pub target_environment: String,
    /// The environment's currency (RWF in Rwanda, EUR on the sandbox).
    pub currency: Currency,
    /// Sent as `X-Callback-Url` so MTN calls back when a payout is final (a hint only).
    #[serde(default)]
    pub callback_url: Option<String>,
    pub disbursement: ProductCredentials,
    /// Needed only for requests to pay.
    #[serde(default)]
    pub collection: Option<ProductCredentials>,
    #[serde(default)]
    pub timeouts: HttpTimeouts,
}

/// The credentials of one MTN product: its subscription key and its API user and key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductCredentials {
    /// `Ocp-Apim-Subscription-Key`, from the MTN developer portal.
    pub subscription_key: Secret,
    /// The API user (a UUID) and its API key: the token's Basic credentials.
    pub api_user: String,
    pub api_key: Secret,
}

fn production_base_url() -> String {
    PRODUCTION_BASE_URL.into()
}
