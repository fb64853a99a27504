//! The engine paying through the MTN MoMo adapter over real HTTP, against the simulator
//! server on loopback: lost requests, 500s after executing, status-query quotas.

mod lost_reply;
mod query_quota;
mod twenty_thousand;

use std::sync::Arc;

use payrail_adapters::http::HttpTimeouts;
use payrail_adapters::mtn::{MtnConfig, MtnMomo, ProductCredentials};
use payrail_adapters::secret::Secret;
use payrail_adapters::simserver::{self, SimServerHandle, SimServerProfile};
use payrail_engine::money::Currency;

/// The adapter's client gives up on an answer after this long: short, so lost replies
/// resolve fast.
pub const REQUEST_MS: u64 = 1_000;

/// A simulator server on a free loopback port.
pub async fn simulator(profile: SimServerProfile) -> SimServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    simserver::spawn(listener, profile)
        .await
        .expect("the simulator starts")
}

/// A profile in which every request is answered at once, nothing is pending, the status
/// query quota is `status_queries_per_second`, and held replies outlast the client.
pub fn quiet_profile(status_queries_per_second: u32) -> SimServerProfile {
    SimServerProfile {
        status_queries_per_second,
        hang_ms: REQUEST_MS * 4,
        ..SimServerProfile::default()
    }
}

/// The MTN adapter pointed at the simulator.
pub fn mtn_adapter(simulator: &SimServerHandle) -> Arc<MtnMomo> {
    let credentials = ProductCredentials {
        subscription_key: Secret::new("sim-subscription-key"),
        api_user: "0b6a2c4e-8f1d-4a3b-9c5e-7d2f1a0b3c4d".into(),
        api_key: Secret::new("sim-api-key"),
    };
    let config = MtnConfig {
        base_url: simulator.base_url(),
        target_environment: "mtnrwanda".into(),
        currency: Currency::Rwf,
        callback_url: None,
        disbursement: credentials,
        collection: None,
        timeouts: HttpTimeouts {
            connect_ms: 1_000,
            request_ms: REQUEST_MS,
        },
    };
    Arc::new(MtnMomo::new(config).expect("an adapter"))
}
