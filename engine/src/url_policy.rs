//! The guard against server-side request forgery: webhook and callback URLs are http or
//! https and reach only public addresses, unless the address's network is allowed
//! (`[webhooks] allow`). A URL is checked when it is set (every address its host resolves
//! to must pass) and again when it is called: the delivery client resolves names through
//! `resolve_permitted`, which drops every refused address, and a literal IP, which no
//! resolver sees, is checked before the request is sent (`permits_url`). URLs are read as
//! browsers read them (WHATWG), so `http://2130706433/` and `http://0x7f.1/` are seen as
//! 127.0.0.1.

mod addresses;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
pub use url::Url;

use self::addresses::special_use;

/// How long a host name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Where webhooks and callbacks may go: public addresses, and the allow-listed networks.
#[derive(Clone, Debug, Default)]
pub struct UrlPolicy {
    allow: Arc<[IpNet]>,
}

/// An allowed entry that is not a network.
#[derive(Debug, thiserror::Error)]
#[error("configuration: webhooks.allow: `{0}` is not a network such as 10.1.0.0/16 or an address")]
pub struct InvalidNetwork(pub String);

/// Why a URL may not be called.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("is not a URL ({0})")]
    Unparsable(String),
    #[error("must be an http or https URL")]
    Scheme,
    #[error("has no host")]
    NoHost,
    #[error(
        "leads to {address}, a {kind} address; only public addresses may be called unless their network is in the [webhooks] allow list"
    )]
    Address { address: IpAddr, kind: &'static str },
    #[error("names a host that does not resolve ({0})")]
    Unresolved(String),
}

impl UrlPolicy {
    /// The policy allowing `allow`: CIDR networks or single addresses.
    pub fn allowing(allow: &[String]) -> Result<UrlPolicy, InvalidNetwork> {
        let allow = allow
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidNetwork(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UrlPolicy {
            allow: allow.into(),
        })
    }

    /// Checks a URL a merchant sets: it is http or https, and its host is or resolves only
    /// to addresses that may be called.
    pub async fn check(&self, url: &str) -> Result<Url, Refusal> {
        let parsed = Url::parse(url).map_err(|error| Refusal::Unparsable(error.to_string()))?;
        self.permits_url(&parsed)?;
        if literal_ip(&parsed).is_none() {
            let host = parsed.host_str().unwrap_or_default();
            for address in resolve(host).await? {
                self.permits(address.ip())?;
            }
        }
        Ok(parsed)
    }

    /// Whether `address` may be called: public, or in an allowed network.
    pub fn permits(&self, address: IpAddr) -> Result<(), Refusal> {
        let address = address.to_canonical();
        if self.allow.iter().any(|net| net.contains(&address)) {
            return Ok(());
        }
        match special_use(address) {
            None => Ok(()),
            Some(kind) => Err(Refusal::Address { address, kind }),
        }
    }

    /// What can be checked of a URL without resolving it: its scheme, and its host when
    /// that is an IP address. Called before every delivery.
    pub fn permits_url(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Refusal::NoHost);
        }
        literal_ip(url).map_or(Ok(()), |address| self.permits(address))
    }

    /// Every address `host` resolves to that this policy permits; when none is, the
    /// refusal of the last one (what a delivery client resolves names with).
    pub async fn resolve_permitted(&self, host: &str) -> Result<Vec<SocketAddr>, Refusal> {
        let mut refusal = None;
        let permitted: Vec<SocketAddr> = resolve(host)
            .await?
            .into_iter()
            .filter(|address| match self.permits(address.ip()) {
                Ok(()) => true,
                Err(refused) => {
                    refusal = Some(refused);
                    false
                }
            })
            .collect();
        match (permitted.is_empty(), refusal) {
            (true, Some(refused)) => Err(refused),
            _ => Ok(permitted),
        }
    }
}

/// The URL's host as an IP address, when it is one.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

/// Every address `host` resolves to.
async fn resolve(host: &str) -> Result<Vec<SocketAddr>, Refusal> {
    let lookup = tokio::net::lookup_host((host, 0));
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .map_err(|_| Refusal::Unresolved("timed out".into()))?
        .map_err(|error| Refusal::Unresolved(error.to_string()))?;
    let addresses: Vec<SocketAddr> = found.collect();
    if addresses.is_empty() {
        return Err(Refusal::Unresolved("no addresses".into()));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> UrlPolicy {
        let allow: Vec<String> = allow.iter().map(|entry| (*entry).to_owned()).collect();
        UrlPolicy::allowing(&allow).expect("valid networks")
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[test]
    fn numeric_forms_of_loopback_are_read_as_loopback() {
        let policy = UrlPolicy::default();
        for text in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]:8080/",
        ] {
            assert!(
                matches!(policy.permits_url(&url(text)), Err(Refusal::Address { .. })),
                "{text}"
            );
        }
        assert!(policy.permits_url(&url("https://8.8.8.8/hook")).is_ok());
    }

    #[test]
    fn only_http_and_https_are_called() {
        let policy = UrlPolicy::default();
        assert!(matches!(
            policy.permits_url(&url("ftp://8.8.8.8/")),
            Err(Refusal::Scheme)
        ));
        assert!(matches!(
            policy.permits_url(&url("file:///etc/passwd")),
            Err(Refusal::Scheme)
        ));
    }

    #[test]
    fn allowed_networks_may_be_called_and_others_stay_refused() {
        let policy = policy(&["127.0.0.0/8", "fd00::/8", "10.1.2.3"]);
        assert!(policy.permits("127.0.0.1".parse().expect("ip")).is_ok());
        assert!(
            policy
                .permits("::ffff:127.0.0.1".parse().expect("ip"))
                .is_ok()
        );
        assert!(policy.permits("fd12::1".parse().expect("ip")).is_ok());
        assert!(policy.permits("10.1.2.3".parse().expect("ip")).is_ok());
        assert!(policy.permits("10.1.2.4".parse().expect("ip")).is_err());
        assert!(
            policy
                .permits("169.254.169.254".parse().expect("ip"))
                .is_err()
        );
    }

    #[test]
    fn a_bad_network_is_named() {
        let error = UrlPolicy::allowing(&["10.0.0.0/33".into()]).expect_err("refused");
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_when_set() {
        let refused = UrlPolicy::default()
            .check("http://localhost:8080/hook")
            .await
            .expect_err("localhost is loopback");
        assert!(refused.to_string().contains("loopback"), "{refused}");
        let allowed = policy(&["127.0.0.0/8", "::1/128"])
            .check("http://localhost:8080/hook")
            .await;
        assert!(allowed.is_ok(), "{allowed:?}");
    }
}
