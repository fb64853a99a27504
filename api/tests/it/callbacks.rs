//! `/callbacks/mtn` and `/callbacks/airtel`: a callback naming one of our payouts brings
//! its status query forward (the payout ends long before its backoff would have asked);
//! a callback that names nothing of ours is refused with a problem, and settles nothing.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use payrail_actors::route::RouteConfig;
use payrail_actors::{Engine, EngineSettings};
use payrail_adapters::simulator::{FaultRates, PPM, Simulator, SimulatorProfile};
use payrail_api::{AppState, OperatorRoutes, app};
use payrail_engine::app::{App, AppSettings};
use payrail_engine::ids::PayoutId;
use payrail_engine::route::RouteName;
use payrail_engine::testing::TestDb;
use tower::ServiceExt;

use crate::support::funded_payroll;

async fn call_back(state: &AppState, method: Method, path: &str, body: String) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a request");
    app(state.clone())
        .oneshot(request)
        .await
        .expect("a response")
        .status()
}

/// An engine whose MTN route leaves every payout pending and would not ask again for 15 to 30 s.
async fn patient_engine(db: &TestDb) -> Engine {
    let simulator = Simulator::new(SimulatorProfile {
        faults: FaultRates {
            pending: PPM,
            ..FaultRates::default()
        },
        pending_ms: 10,
        ..SimulatorProfile::default()
    })
    .expect("a profile");
    let mut settings = EngineSettings::default();
    settings.retry.backoff_base = Duration::from_secs(30);
    settings.retry.backoff_max = Duration::from_secs(30);
    settings.sweep_interval = Duration::from_millis(100);
    let route = RouteConfig {
        name: RouteName::new("mtn-rw").expect("a route"),
        sends_per_second: NonZeroU32::new(1_000).expect("positive"),
        queries_per_second: NonZeroU32::new(1_000).expect("positive"),
        max_in_flight: 16,
        callback_deadline: None,
    };
    Engine::start(
        db.pool.clone(),
        vec![(route, Arc::new(simulator))],
        settings,
    )
    .await
    .expect("the engine starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mtn_callback_without_a_reference_id_brings_the_status_query_forward() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("a directory");
    let csv = dir.path().join("payroll.csv");
    std::fs::write(
        &csv,
        "msisdn,amount,reference\n0788123456,1000,a\n0788123457,2000,b\n",
    )
    .expect("the CSV");
    funded_payroll(&db.url, "Musanze Dairy", 10_000, &csv).await;

    let engine = patient_engine(&db).await;
    let use_cases = App::new(
        db.pool.clone(),
        AppSettings::rwanda(),
        Arc::new(engine.handle()),
    );
    let state = AppState::new(use_cases).with_operator_routes(OperatorRoutes {
        mtn: vec![RouteName::new("mtn-rw").expect("a route")],
        airtel: Vec::new(),
    });
    let started = Instant::now();
    let client = db.client().await;
    // Wait for both lines to be sent (and answered pending).
    let payouts: Vec<PayoutId> = loop {
        let rows = client
            .query("SELECT id FROM payout_lines WHERE state = 'sending'", &[])
            .await
            .expect("lines");
        if rows.len() == 2 {
            break rows.iter().map(|row| row.get(0)).collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the lines were not sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // MTN's callbacks: one by POST, one by PUT, without referenceId, reason as a string.
    for (payout, method) in payouts.iter().zip([Method::POST, Method::PUT]) {
        let body = format!(r#"{{"externalId":"{payout}","status":"SUCCESSFUL","amount":1000}}"#);
        assert_eq!(
            call_back(&state, method, "/callbacks/mtn", body).await,
            StatusCode::OK
        );
    }
    loop {
        let done: i64 = client
            .query_one(
                "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
                &[],
            )
            .await
            .expect("count")
            .get(0);
        if done == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the callbacks did not bring the queries forward"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.stop().await;
}

#[tokio::test]
async fn a_callback_that_names_nothing_of_ours_is_refused_and_settles_nothing() {
    let db = TestDb::new().await;
    let state = AppState::new(App::detached(db.pool.clone(), AppSettings::rwanda()));
    for (path, body) in [
        ("/callbacks/mtn", "not json"),
        (
            "/callbacks/mtn",
            r#"{"status":"SUCCESSFUL","externalId":"INV-1"}"#,
        ),
        (
            "/callbacks/airtel",
            r#"{"transaction":{"status_code":"TS"}}"#,
        ),
    ] {
        assert_eq!(
            call_back(&state, Method::POST, path, body.into()).await,
            StatusCode::BAD_REQUEST,
            "{path} {body}"
        );
    }
    // A well-formed callback reaches a process without an engine: try again later.
    let body = format!(r#"{{"externalId":"{}"}}"#, PayoutId::new());
    assert_eq!(
        call_back(&state, Method::PUT, "/callbacks/mtn", body).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
