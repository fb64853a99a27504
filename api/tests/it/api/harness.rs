//! A node for API tests: a real database, the engine on the in-process simulator (both
//! Rwandan routes), and the HTTP app served on a loopback port, called with reqwest. Merchants
//! are made in the store directly, with one key per role.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use payrail_actors::route::RouteConfig;
use payrail_actors::{CollectionSettings, Engine, EngineSettings};
use payrail_adapters::simulator::{Simulator, SimulatorProfile};
use payrail_api::AppState;
use payrail_engine::api_key::Role;
use payrail_engine::app::{App, AppSettings};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::route::RouteName;
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::pool::{self, Priority};
use payrail_engine::testing::TestDb;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A node serving the API on a loopback port.
#[derive(Debug)]
pub struct Node {
    pub db: TestDb,
    /// The use cases the node serves (with the settings the options gave it).
    pub app: App,
    pub base: String,
    pub http: reqwest::Client,
    pub engine: Option<Engine>,
    pub simulator: Option<Arc<Simulator>>,
    /// Bulk work's own pool, when the options asked for one (one connection).
    pub bulk_pool: Option<Pool>,
}

/// A merchant and its keys, by role.
#[derive(Clone, Debug)]
pub struct TestMerchant {
    pub id: MerchantId,
    pub keys: HashMap<Role, String>,
}

impl TestMerchant {
    pub fn key(&self, role: Role) -> &str {
        &self.keys[&role]
    }
}

/// What a call answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The problem type's last segment (`…/problems/<name>`), for a problem+json answer.
    pub fn problem(&self) -> &str {
        self.body["type"]
            .as_str()
            .and_then(|kind| kind.rsplit('/').next())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Options for a node.
#[derive(Debug)]
pub struct NodeOptions {
    /// Runs the engine on the in-process simulator; without it nothing is sent.
    pub engine: bool,
    pub simulator: SimulatorProfile,
    pub state: fn(AppState) -> AppState,
    /// Gives bulk work (uploads, payroll batches) a pool of its own, of one connection, as
    /// a node has; without it everything shares the main pool.
    pub bulk_pool: bool,
}

impl Default for NodeOptions {
    fn default() -> NodeOptions {
        NodeOptions {
            engine: true,
            simulator: SimulatorProfile::default(),
            state: |state| state,
            bulk_pool: false,
        }
    }
}

impl Node {
    pub async fn start() -> Node {
        Node::with(NodeOptions::default()).await
    }

    pub async fn with(options: NodeOptions) -> Node {
        let db = TestDb::new().await;
        let mut app = App::detached(db.pool.clone(), AppSettings::rwanda());
        let bulk_pool = options
            .bulk_pool
            .then(|| pool::connect(&db.url, 1, Priority::Bulk).expect("bulk work's pool"));
        if let Some(bulk_pool) = &bulk_pool {
            app = app.with_bulk_pool(bulk_pool.clone());
        }
        let (engine, simulator) = if options.engine {
            let simulator = Arc::new(Simulator::new(options.simulator).expect("a profile"));
            let settings = EngineSettings {
                sweep_interval: Duration::from_millis(200),
                collection: CollectionSettings {
                    poll_first: Duration::from_millis(50),
                    poll_max: Duration::from_millis(200),
                    ..CollectionSettings::default()
                },
                bulk_pool: bulk_pool.clone(),
                ..EngineSettings::default()
            };
            let routes = ["mtn-rw", "airtel-rw"].map(|name| {
                let route = RouteConfig {
                    name: RouteName::new(name).expect("a route"),
                    sends_per_second: NonZeroU32::new(2_000).expect("positive"),
                    queries_per_second: NonZeroU32::new(2_000).expect("positive"),
                    max_in_flight: 64,
                    callback_deadline: None,
                };
                let operator: Arc<dyn payrail_engine::operator::Operator> = simulator.clone();
                (route, operator)
            });
            let engine = Engine::start(db.pool.clone(), routes.into(), settings)
                .await
                .expect("the engine starts");
            app = app.with_engine(Arc::new(engine.handle()));
            (Some(engine), Some(simulator))
        } else {
            (None, None)
        };
        let state = (options.state)(AppState::new(app));
        let app = state.app.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, payrail_api::app(state)).await;
        });
        Node {
            db,
            app,
            base,
            http: reqwest::Client::new(),
            engine,
            simulator,
            bulk_pool,
        }
    }

    /// A merchant in RWF with a payout fee of 100, a 2 % collection fee, no approval
    /// needed, funded with `funds` (text, e.g. "1000000").
    pub async fn merchant(&self, funds: &str) -> TestMerchant {
        self.merchant_with(funds, None).await
    }

    /// A merchant whose batches need approval above `threshold` ("0": always).
    pub async fn merchant_with(&self, funds: &str, threshold: Option<&str>) -> TestMerchant {
        let currency = Currency::Rwf;
        let amount = |text: &str| Amount::parse(text, currency).expect("an amount");
        let new = NewMerchant {
            name: format!("Merchant {}", uuid::Uuid::new_v4()),
            currency,
            fees: FeeAgreement::new(amount("100"), 200).expect("fees"),
            approval_threshold: threshold.map(amount),
        };
        let mut client = self.db.client().await;
        let tx = client.transaction().await.expect("a transaction");
        let (merchant, issued) = merchants::create(&tx, &new).await.expect("created");
        if funds != "0" {
            ledger::fund(&tx, merchant.id, amount(funds))
                .await
                .expect("funded");
        }
        tx.commit().await.expect("committed");
        TestMerchant {
            id: merchant.id,
            keys: issued
                .into_iter()
                .map(|key| (key.role, key.secret))
                .collect(),
        }
    }

    /// Sends a request with `key` (if any) and extra headers; the body is JSON when given.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<reqwest::Body>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the node answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.call(reqwest::Method::GET, path, Some(key), &[], None)
            .await
    }

    /// POSTs JSON with an `Idempotency-Key` (fresh unless given).
    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> Answer {
        let idempotency = uuid::Uuid::new_v4().to_string();
        self.post_json_with(path, key, &idempotency, body).await
    }

    pub async fn post_json_with(
        &self,
        path: &str,
        key: &str,
        idempotency: &str,
        body: &Value,
    ) -> Answer {
        self.call(
            reqwest::Method::POST,
            path,
            Some(key),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", idempotency),
            ],
            Some(body.to_string().into()),
        )
        .await
    }

    /// Polls `path` until `done` holds for its body, for at most `within`.
    pub async fn wait_for(
        &self,
        path: &str,
        key: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let answer = self.get(path, key).await;
            if done(&answer.body) {
                return answer.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} did not get there in {within:?}: {}",
                answer.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        if let Some(engine) = self.engine {
            engine.stop().await;
        }
    }
}
