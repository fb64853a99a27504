//! Callbacks that can be trusted, end to end: a node whose MTN route gives each transfer a
//! capability callback URL, the simulator server calling back over real HTTP, and the
//! node's API judging each callback. An authenticated callback settles its payout long
//! before any status query could; forgeries, replays, contradictions of a final payout and
//! floods settle nothing; a status query that contradicts a callback sends the payout to
//! review with its correcting entry.

mod attacks;
mod contradiction;
mod settle;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use payrail_actors::route::RouteConfig;
use payrail_actors::{Engine, EngineSettings};
use payrail_adapters::http::HttpTimeouts;
use payrail_adapters::mtn::{MtnConfig, MtnMomo, ProductCredentials};
use payrail_adapters::secret::Secret;
use payrail_adapters::simserver::{self, SimServerHandle, SimServerProfile};
use payrail_api::{AppState, OperatorRoutes, app};
use payrail_engine::app::{App, AppSettings};
use payrail_engine::callback_token::CallbackKeys;
use payrail_engine::ids::PayoutId;
use payrail_engine::money::Currency;
use payrail_engine::route::RouteName;
use payrail_engine::testing::TestDb;

use crate::support::funded_payroll;

/// A node on a loopback port whose MTN route is the simulator server, trusting callbacks.
pub struct TrustedNode {
    pub db: TestDb,
    pub keys: CallbackKeys,
    pub state: AppState,
    pub simulator: SimServerHandle,
    pub engine: Engine,
}

impl TrustedNode {
    /// `deadline`: how long an accepted payout waits for its callback before a status
    /// query asks; `callbacks_per_second`: the node's callback limit.
    pub async fn start(
        profile: SimServerProfile,
        deadline: Duration,
        callbacks_per_second: u32,
    ) -> TrustedNode {
        let db = TestDb::new().await;
        let keys = CallbackKeys::load(&db.client().await)
            .await
            .expect("the migration made a secret");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let simulator = simserver::spawn(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port"),
            profile,
        )
        .await
        .expect("the simulator starts");
        let mtn = MtnMomo::new(MtnConfig {
            base_url: simulator.base_url(),
            target_environment: "mtnrwanda".into(),
            currency: Currency::Rwf,
            callback_url: Some(format!("{base}/callbacks/mtn")),
            disbursement: ProductCredentials {
                subscription_key: Secret::new("sub"),
                api_user: "trusted-callbacks".into(),
                api_key: Secret::new("key"),
            },
            collection: None,
            timeouts: HttpTimeouts::default(),
        })
        .expect("an adapter")
        .with_callback_keys(keys.clone());
        let route = RouteConfig {
            name: RouteName::new("mtn-rw").expect("a route"),
            sends_per_second: NonZeroU32::new(500).expect("positive"),
            queries_per_second: NonZeroU32::new(10).expect("positive"),
            max_in_flight: 64,
            callback_deadline: Some(deadline),
        };
        let settings = EngineSettings {
            sweep_interval: Duration::from_millis(100),
            ..EngineSettings::default()
        };
        let engine = Engine::start(db.pool.clone(), vec![(route, Arc::new(mtn))], settings)
            .await
            .expect("the engine starts");
        let settings = AppSettings {
            callback_keys: Some(keys.clone()),
            ..AppSettings::rwanda()
        };
        let use_cases = App::new(db.pool.clone(), settings, Arc::new(engine.handle()));
        let state = AppState::new(use_cases)
            .with_operator_routes(OperatorRoutes {
                mtn: vec![RouteName::new("mtn-rw").expect("a route")],
                airtel: Vec::new(),
            })
            .with_callback_limit(callbacks_per_second);
        let served = app(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, served).await;
        });
        TrustedNode {
            db,
            keys,
            state,
            simulator,
            engine,
        }
    }

    /// A funded merchant with a scheduled payroll of `lines` MTN payouts of 1,000 RWF.
    pub async fn payroll(&self, lines: usize) {
        let dir = tempfile::tempdir().expect("a directory");
        let csv = dir.path().join("payroll.csv");
        let mut text = String::from("msisdn,amount,reference\n");
        for line in 0..lines {
            text.push_str(&format!("07881{line:05},1000,line-{line}\n"));
        }
        std::fs::write(&csv, text).expect("the CSV");
        funded_payroll(&self.db.url, "Huye Tea", 100_000_000, &csv).await;
    }

    /// One number from the database.
    pub async fn count(&self, sql: &str) -> i64 {
        self.db
            .client()
            .await
            .query_one(sql, &[])
            .await
            .expect(sql)
            .get(0)
    }

    /// Waits until `sql` counts `want`, or fails after `limit` saying `what`.
    pub async fn wait_until(&self, sql: &str, want: i64, limit: Duration, what: &str) {
        let started = Instant::now();
        loop {
            let got = self.count(sql).await;
            if got == want {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "{what}: {got} of {want} after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The payouts in `state`, oldest first.
    pub async fn payouts_in(&self, state: &str) -> Vec<PayoutId> {
        self.db
            .client()
            .await
            .query(
                "SELECT id FROM payout_lines WHERE state = $1 ORDER BY line_no",
                &[&state],
            )
            .await
            .expect("payouts")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// The ledger's audit.
    pub async fn assert_ledger_sound(&self) {
        let audit = payrail_engine::ledger::audit(&self.db.client().await)
            .await
            .expect("the audit");
        assert!(audit.is_sound(), "{audit:?}");
    }
}
