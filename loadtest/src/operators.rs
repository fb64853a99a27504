//! The operators a benchmark pays through: the in-process simulator (one per route), or
//! the simulator server on loopback reached through the MTN MoMo and Airtel Money adapters
//! over real HTTP; and what they executed, for the audit.

use std::sync::Arc;

use payrail_adapters::airtel::{AirtelConfig, AirtelMoney};
use payrail_adapters::http::HttpTimeouts;
use payrail_adapters::mtn::{MtnConfig, MtnMomo, ProductCredentials};
use payrail_adapters::secret::Secret;
use payrail_adapters::simserver::{self, SimServerHandle, SimServerProfile};
use payrail_adapters::simulator::{Latency, Simulator, SimulatorProfile};
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::money::Currency;
use payrail_engine::operator::Operator;
use payrail_engine::route::RouteTable;

/// Where payouts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The simulator inside the benchmark's process: no network at all.
    InProcess,
    /// The simulator server on loopback, through the operator adapters over HTTP.
    HttpSim,
}

/// The simulated network delay of every operator call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Delay {
    Zero,
    /// Log-normal around 80 ms (σ 0.5): a mobile-money API on a good day.
    Realistic,
}

impl Delay {
    fn latency(self) -> Latency {
        match self {
            Delay::Zero => Latency::Zero,
            Delay::Realistic => Latency::LogNormal {
                median_ms: 80,
                sigma: 0.5,
            },
        }
    }
}

/// Where MTN calls back over HTTP, and the keys its capability URLs are signed with.
#[derive(Clone, Debug)]
pub struct Callbacks {
    /// The node's `/callbacks/mtn`.
    pub url: String,
    pub keys: CallbackKeys,
}

/// What the operators executed: payouts that moved money, and every reference that moved
/// money twice.
#[derive(Debug)]
pub struct Executed {
    pub payouts: usize,
    pub paid_twice: Vec<String>,
}

#[derive(Debug)]
pub enum BenchOperators {
    InProcess(Vec<(String, Arc<Simulator>)>),
    OverHttp {
        server: SimServerHandle,
        routes: Vec<(String, Arc<dyn Operator>)>,
    },
}

impl BenchOperators {
    /// The operators of every Rwandan route; over HTTP, the simulator server runs `profile`
    /// when one is given (its own latency and faults), else the defaults with `delay`, and
    /// MTN calls back to `callbacks` when given.
    pub async fn start(
        kind: Kind,
        delay: Delay,
        profile: Option<SimServerProfile>,
        callbacks: Option<&Callbacks>,
    ) -> anyhow::Result<BenchOperators> {
        let routes = RouteTable::rwanda();
        let names = routes.routes().map(|route| route.as_str().to_owned());
        Ok(match kind {
            Kind::InProcess => BenchOperators::InProcess(
                names
                    .map(|name| {
                        let profile = SimulatorProfile {
                            latency: delay.latency(),
                            ..SimulatorProfile::default()
                        };
                        Ok((name, Arc::new(Simulator::new(profile)?)))
                    })
                    .collect::<anyhow::Result<_>>()?,
            ),
            Kind::HttpSim => {
                let profile = profile.unwrap_or_else(|| SimServerProfile {
                    latency: delay.latency(),
                    // Measured here is Payrail, not MTN's cap of about 10 queries a second.
                    status_queries_per_second: 0,
                    ..SimServerProfile::default()
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let server = simserver::spawn(listener, profile).await?;
                let routes = names
                    .map(|name| {
                        let operator: Arc<dyn Operator> = if name.starts_with("airtel") {
                            Arc::new(airtel(&server, &name)?)
                        } else {
                            Arc::new(mtn(&server, &name, callbacks)?)
                        };
                        Ok((name, operator))
                    })
                    .collect::<anyhow::Result<_>>()?;
                BenchOperators::OverHttp { server, routes }
            }
        })
    }

    /// The in-process simulators, for the naive baseline.
    pub fn simulators(&self) -> Option<&[(String, Arc<Simulator>)]> {
        match self {
            BenchOperators::InProcess(simulators) => Some(simulators),
            BenchOperators::OverHttp { .. } => None,
        }
    }

    /// Each route's operator.
    pub fn routes(&self) -> Vec<(String, Arc<dyn Operator>)> {
        match self {
            BenchOperators::InProcess(simulators) => simulators
                .iter()
                .map(|(name, simulator)| {
                    let operator: Arc<dyn Operator> = simulator.clone();
                    (name.clone(), operator)
                })
                .collect(),
            BenchOperators::OverHttp { routes, .. } => routes.clone(),
        }
    }

    pub fn executed(&self) -> Executed {
        match self {
            BenchOperators::InProcess(simulators) => {
                let executions: Vec<_> = simulators.iter().map(|(_, s)| s.executions()).collect();
                Executed {
                    payouts: executions.iter().map(|e| e.payouts).sum(),
                    paid_twice: executions
                        .iter()
                        .flat_map(|e| e.paid_twice.iter().map(ToString::to_string))
                        .collect(),
                }
            }
            BenchOperators::OverHttp { server, .. } => {
                let report = server.report();
                Executed {
                    payouts: report
                        .transfers
                        .iter()
                        .filter(|t| t.kind == simserver::Kind::Transfer && t.executions > 0)
                        .count(),
                    paid_twice: report.executed_twice,
                }
            }
        }
    }
}

/// The MTN adapter for `route`, on the simulator server (each route its own API user).
fn mtn(
    server: &SimServerHandle,
    route: &str,
    callbacks: Option<&Callbacks>,
) -> anyhow::Result<MtnMomo> {
    let credentials = ProductCredentials {
        subscription_key: Secret::new("loadtest"),
        api_user: format!("loadtest-{route}"),
        api_key: Secret::new("loadtest"),
    };
    let mtn = MtnMomo::new(MtnConfig {
        base_url: server.base_url(),
        target_environment: "mtnrwanda".into(),
        currency: Currency::Rwf,
        callback_url: callbacks.map(|c| c.url.clone()),
        disbursement: credentials,
        collection: None,
        timeouts: HttpTimeouts::default(),
    })?;
    Ok(match callbacks {
        Some(callbacks) => mtn.with_callback_keys(callbacks.keys.clone()),
        None => mtn,
    })
}

/// The simulator's RSA key for Airtel PINs (it checks a PIN is there, never decrypts it).
const SIMULATOR_AIRTEL_KEY: &str =
    include_str!("../../adapters/profiles/simulator-airtel-public-key.pem");

/// The Airtel adapter for `route`, on the simulator server.
fn airtel(server: &SimServerHandle, route: &str) -> anyhow::Result<AirtelMoney> {
    Ok(AirtelMoney::new(AirtelConfig {
        base_url: server.base_url(),
        country: "RW".into(),
        currency: Currency::Rwf,
        dialling_code: "250".into(),
        client_id: format!("loadtest-{route}"),
        client_secret: Secret::new("loadtest"),
        pin: Secret::new("1234"),
        public_key: SIMULATOR_AIRTEL_KEY.into(),
        timeouts: HttpTimeouts::default(),
    })?)
}
