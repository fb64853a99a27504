//! Node configuration, layered: defaults < `payrail.toml` < `PAYRAIL_*` environment
//! (and `DATABASE_URL`) < command-line flags.

mod callbacks;
mod cluster;
mod operators;
mod portal;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use payrail_adapters::simulator::SimulatorProfile;
use payrail_engine::app::AppSettings;
use payrail_engine::app::collections::{AIRTEL_MONEY, MTN_MOMO, PaymentChannels};
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::route::RouteTable;
use payrail_engine::url_policy::UrlPolicy;
use serde::{Deserialize, Serialize};

pub use callbacks::CallbacksConfig;
pub use cluster::ClusterConfig;
pub use operators::{OperatorConfig, OperatorSetupError, Operators, RouteOperator};
pub use portal::PortalConfig;

/// The configuration file read from the working directory unless `--config` names another.
pub const DEFAULT_CONFIG_FILE: &str = "payrail.toml";

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON when stderr is not a terminal (a service), text when it is (a person).
    Auto,
    Text,
    Json,
}

/// Everything a node is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// A PostgreSQL server to use; without one, a private server runs in `data_dir`.
    pub database_url: Option<String>,
    /// Where the private PostgreSQL server keeps its data (`<data_dir>/postgres`).
    pub data_dir: PathBuf,
    /// Connections in the database pool.
    pub database_pool_size: usize,
    /// Connections in a second pool, for bulk work only (payroll uploads, the batch
    /// actors that claim payroll lines, the journal's payroll lane), so that it never makes
    /// a single payout wait for a connection.
    pub database_bulk_pool_size: usize,
    /// The country a number without its country code is read in (ISO 3166 alpha-2).
    pub default_country: String,
    /// Number prefix → route.
    pub routes: RouteTable,
    pub log_format: LogFormat,
    /// Each route's quotas and in-flight cap.
    pub engine: EngineConfig,
    /// How each route reaches its operator (`[operators.<route>]`); a route without an
    /// entry runs on the in-process simulator.
    #[serde(default)]
    pub operators: Operators,
    /// How the in-process simulated operators behave.
    pub simulator: SimulatorProfile,
    /// Limits of the HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Webhooks and LTGS callbacks to merchants.
    #[serde(default)]
    pub webhooks: WebhookConfig,
    /// The web portal.
    #[serde(default)]
    pub portal: PortalConfig,
    #[serde(default)]
    pub callbacks: CallbacksConfig,
    /// How the node takes part in a cluster (docs/cluster.md).
    #[serde(default)]
    pub cluster: ClusterConfig,
}

/// Limits of the HTTP API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Requests per second each API key may make, sustained.
    pub requests_per_second: u32,
    /// Requests an API key may make at once above that pace.
    pub burst: u32,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            requests_per_second: 1_000,
            burst: 2_000,
        }
    }
}

/// Where webhooks and callbacks may go, and how often they are retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Networks (CIDR, such as `10.1.0.0/16`) that webhook and callback URLs may reach
    /// although they are loopback or private; empty, every such address is refused.
    pub allow: Vec<String>,
    /// Seconds to wait before each retry; after the last, the event is marked failed.
    pub retry_schedule_seconds: Vec<u64>,
}

impl Default for WebhookConfig {
    fn default() -> WebhookConfig {
        WebhookConfig {
            allow: Vec::new(),
            // The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then
            // 10 h more, so an endpoint that is down for a day still gets every event.
            retry_schedule_seconds: vec![5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000],
        }
    }
}

/// The pace of every route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Payouts sent per second per route, never exceeded in any one-second window.
    pub sends_per_second: u32,
    /// Status queries per second per route (MTN allows about 10 per credential).
    pub queries_per_second: u32,
    /// Requests per route waiting for the operator at once.
    pub max_in_flight: u32,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            sends_per_second: 200,
            queries_per_second: 10,
            max_in_flight: 64,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from(".payrail"),
            database_pool_size: 16,
            database_bulk_pool_size: 4,
            default_country: "RW".into(),
            routes: RouteTable::rwanda(),
            log_format: LogFormat::Auto,
            engine: EngineConfig::default(),
            operators: Operators::new(),
            simulator: SimulatorProfile::default(),
            api: ApiConfig::default(),
            webhooks: WebhookConfig::default(),
            portal: PortalConfig::default(),
            callbacks: CallbacksConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Figment(#[from] Box<figment::Error>),
    #[error("configuration: default_country `{0}` is not an ISO 3166 country code")]
    Country(String),
    #[error("configuration: database_pool_size and database_bulk_pool_size must be at least 1")]
    PoolSize,
    #[error("configuration: engine quotas and max_in_flight must be at least 1")]
    EngineLimits,
    #[error("configuration: api.requests_per_second and api.burst must be at least 1")]
    ApiLimits,
    #[error(transparent)]
    Operators(#[from] OperatorSetupError),
    #[error(
        "configuration: cluster.lease_ms must be at least 1000: the lease is renewed every third of it"
    )]
    Lease,
    #[error("configuration: simulator: {0}")]
    Simulator(#[from] payrail_adapters::simulator::ProfileError),
}

impl Config {
    /// Loads the layers; `flags` holds only what was given on the command line.
    pub fn load(file: &Path, flags: &impl Serialize) -> Result<Config, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("PAYRAIL_"))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)?;
        config.country()?;
        if config.database_pool_size == 0 || config.database_bulk_pool_size == 0 {
            return Err(ConfigError::PoolSize);
        }
        let engine = &config.engine;
        if engine.sends_per_second == 0
            || engine.queries_per_second == 0
            || engine.max_in_flight == 0
        {
            return Err(ConfigError::EngineLimits);
        }
        if config.api.requests_per_second == 0 || config.api.burst == 0 {
            return Err(ConfigError::ApiLimits);
        }
        if config.cluster.lease_ms < cluster::LEASE_MS_MIN {
            return Err(ConfigError::Lease);
        }
        config.simulator.validate()?;
        operators::check_routes(&config.operators, config.routes.routes())?;
        Ok(config)
    }

    /// The operator of each route, built from `[operators]`; MTN routes sign their
    /// callback URLs with `keys` when given.
    pub fn operators(
        &self,
        keys: Option<&CallbackKeys>,
    ) -> Result<Vec<RouteOperator>, OperatorSetupError> {
        self.routes
            .routes()
            .map(|route| operators::build(route, &self.operators, &self.simulator, keys))
            .collect()
    }

    /// The default country for reading national numbers.
    pub fn country(&self) -> Result<payrail_engine::msisdn::Region, ConfigError> {
        self.default_country
            .parse()
            .map_err(|_| ConfigError::Country(self.default_country.clone()))
    }

    /// What the use cases check requests against: the country, the routes, where webhooks
    /// may go, each route's payment channel, and the keys that check callbacks.
    pub fn app_settings(&self, keys: Option<CallbackKeys>) -> anyhow::Result<AppSettings> {
        let channels =
            PaymentChannels::configured(self.operators.iter().filter_map(|(route, operator)| {
                let channel = match operator {
                    OperatorConfig::MtnMomo(_) => MTN_MOMO,
                    OperatorConfig::AirtelMoney(_) => AIRTEL_MONEY,
                    OperatorConfig::Simulator => return None,
                };
                Some((route.clone(), channel))
            }));
        Ok(AppSettings {
            country: self.country()?,
            routes: self.routes.clone(),
            urls: UrlPolicy::allowing(&self.webhooks.allow)?,
            channels,
            callback_keys: keys,
        })
    }
}

impl Config {
    /// Where people open the portal: `[portal] public_url`, or the listen address.
    pub fn portal_url(&self) -> String {
        match &self.portal.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment's Jail closures return its own large error"
)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Flags {
        #[serde(skip_serializing_if = "Option::is_none")]
        listen: Option<SocketAddr>,
    }

    #[test]
    fn flags_beat_environment_beat_file_beat_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "payrail.toml",
                "listen = \"127.0.0.1:9000\"\ndatabase_pool_size = 4\ndata_dir = \"from-file\"",
            )?;
            jail.set_env("PAYRAIL_DATABASE_POOL_SIZE", "6");
            let file = Path::new("payrail.toml");
            let config = Config::load(file, &Flags { listen: None }).expect("loads");
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.database_pool_size, 6);
            assert_eq!(config.data_dir, PathBuf::from("from-file"));
            assert_eq!(config.routes, RouteTable::rwanda());
            let flagged = Config::load(
                file,
                &Flags {
                    listen: Some("127.0.0.1:9100".parse().expect("addr")),
                },
            )
            .expect("loads");
            assert_eq!(flagged.listen.port(), 9100);
            Ok(())
        });
    }

    #[test]
    fn the_example_file_is_a_valid_configuration_of_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("payrail.toml", include_str!("../../payrail.example.toml"))?;
            let config =
                Config::load(Path::new("payrail.toml"), &Flags { listen: None }).expect("loads");
            assert_eq!(config, Config::default());
            Ok(())
        });
    }

    #[test]
    fn database_url_is_read_from_the_plain_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DATABASE_URL", "postgres://db.example/payrail");
            let config =
                Config::load(Path::new("absent.toml"), &Flags { listen: None }).expect("loads");
            assert_eq!(
                config.database_url.as_deref(),
                Some("postgres://db.example/payrail")
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("payrail.toml", "default_country = \"XX\"")?;
            let error = Config::load(Path::new("payrail.toml"), &Flags { listen: None })
                .expect_err("refused");
            assert!(error.to_string().contains("XX"), "{error}");
            jail.create_file(
                "payrail.toml",
                "routes = [{ prefix = \"25O78\", route = \"mtn-rw\" }]",
            )?;
            let error = Config::load(Path::new("payrail.toml"), &Flags { listen: None })
                .expect_err("refused");
            assert!(error.to_string().contains("25O78"), "{error}");
            jail.create_file("payrail.toml", "lissten = \"127.0.0.1:1\"")?;
            let error = Config::load(Path::new("payrail.toml"), &Flags { listen: None })
                .expect_err("refused");
            assert!(error.to_string().contains("lissten"), "{error}");
            Ok(())
        });
    }
}
