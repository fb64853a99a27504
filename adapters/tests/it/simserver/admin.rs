//! `/_sim/*`: the transfers report (executions per reference), the counters, and the
//! profile read and replaced at run time.

use payrail_adapters::simserver::{
    ExecutedTransfer, SimOperator, SimServerProfile, SimStats, TransferStatus, TransfersReport,
};
use payrail_adapters::simulator::PPM;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{TRANSFER, TestSim, disbursement_body, transfer_body};

#[tokio::test]
async fn the_report_shows_every_reference_executed_once() {
    let sim = TestSim::with_defaults().await;
    let mtn = sim.mtn_token("disbursement", "user-1").await;
    let airtel = sim.airtel_token("client-1").await;
    let references: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for reference in &references {
        let body = transfer_body("250788123456", json!("100"));
        sim.mtn_post(TRANSFER, &mtn, *reference, &body).await;
        sim.mtn_post(TRANSFER, &mtn, *reference, &body).await;
    }
    sim.airtel_post(
        "/standard/v2/disbursements/",
        &airtel,
        &disbursement_body("tx-a", "781234567", json!(100)),
    )
    .await;
    let report: TransfersReport = sim
        .http
        .get(sim.url("/_sim/transfers"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a report");
    assert_eq!(report, sim.handle.report());
    assert_eq!(report.transfers.len(), 6);
    assert!(report.executed_twice.is_empty());
    assert!(
        report
            .transfers
            .iter()
            .all(|t: &ExecutedTransfer| t.executions == 1)
    );
    let listed: Vec<String> = report.transfers[..5]
        .iter()
        .map(|t| t.reference.clone())
        .collect();
    let sent: Vec<String> = references.iter().map(Uuid::to_string).collect();
    assert_eq!(listed, sent, "oldest first");
    let last = &report.transfers[5];
    assert_eq!(
        (last.operator, last.status),
        (SimOperator::Airtel, TransferStatus::Successful)
    );
    let stats: SimStats = sim
        .http
        .get(sim.url("/_sim/stats"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("stats");
    assert_eq!(stats.transfer_posts, 11);
    assert_eq!(stats.executions, 6);
    assert_eq!(stats.duplicates, 5);
    let raw: Value = sim
        .http
        .get(sim.url("/_sim/stats"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(raw["token_requests"]["mtn_disbursement"], 1);
}

#[tokio::test]
async fn putting_a_profile_changes_behaviour_and_a_bad_one_is_refused() {
    let sim = TestSim::with_defaults().await;
    let token = sim.mtn_token("disbursement", "user-1").await;
    let mut profile: Value = sim
        .http
        .get(sim.url("/_sim/profile"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(profile["status_queries_per_second"], 10);
    profile["faults"]["rejected"] = json!(PPM);
    let put = sim
        .http
        .put(sim.url("/_sim/profile"))
        .json(&profile)
        .send()
        .await
        .expect("answered");
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(sim.handle.profile().faults.rejected, PPM);
    let refused = sim
        .mtn_post(
            TRANSFER,
            &token,
            Uuid::new_v4(),
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "every POST is now rejected"
    );
    profile["faults"]["pending"] = json!(PPM);
    let bad = sim
        .http
        .put(sim.url("/_sim/profile"))
        .json(&profile)
        .send()
        .await
        .expect("answered");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let problem: Value = bad.json().await.expect("JSON");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("per million")),
        "{problem}"
    );
    let unknown_key = sim
        .http
        .put(sim.url("/_sim/profile"))
        .json(&json!({"sede": 1}))
        .send()
        .await
        .expect("answered");
    assert_eq!(unknown_key.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        sim.handle.profile().faults.pending,
        0,
        "a refused profile changes nothing"
    );
    sim.handle
        .set_profile(SimServerProfile::default())
        .expect("valid");
    let accepted = sim
        .mtn_post(
            TRANSFER,
            &token,
            Uuid::new_v4(),
            &transfer_body("250788123456", json!("100")),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn unknown_paths_are_404_and_shutdown_stops_serving() {
    let sim = TestSim::with_defaults().await;
    let url = sim.url("/nowhere");
    assert_eq!(
        sim.http.get(&url).send().await.expect("answered").status(),
        StatusCode::NOT_FOUND
    );
    sim.handle.shutdown().await;
    assert!(
        sim.http.get(&url).send().await.is_err(),
        "nothing listens after shutdown"
    );
}
