//! The HTTP client webhooks and callbacks are sent with: names resolve only to addresses
//! the URL policy permits (`GuardedResolver`), no proxy, no redirects followed, and short
//! timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use payrail_engine::url_policy::UrlPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a webhook call may take to connect, and in all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The delivery client for `policy`.
pub fn client(policy: &UrlPolicy) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver {
            policy: policy.clone(),
        })
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Payrail-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Resolves names for the delivery client, keeping only the addresses the policy permits.
struct GuardedResolver {
    policy: UrlPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let permitted: Vec<SocketAddr> = policy.resolve_permitted(name.as_str()).await?;
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}
