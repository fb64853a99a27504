//! Authenticated callbacks settle a payroll at the send rate: the route would not ask
//! about any line for a minute, the status queries are capped at 10 a second, and still
//! every line ends within seconds, each executed once; verification then catches up.

use std::time::Duration;

use payrail_adapters::simserver::SimServerProfile;

use super::TrustedNode;

const LINES: i64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticated_callbacks_settle_at_once_and_verification_catches_up() {
    let profile = SimServerProfile {
        status_queries_per_second: 10,
        ..SimServerProfile::default()
    };
    let node = TrustedNode::start(profile, Duration::from_secs(60), 2_000).await;
    node.payroll(LINES as usize).await;
    node.wait_until(
        "SELECT count(*) FROM payout_lines WHERE state = 'succeeded'",
        LINES,
        Duration::from_secs(20),
        "lines settled by their callbacks",
    )
    .await;
    assert_eq!(
        node.count("SELECT count(*) FROM callback_settlements WHERE succeeded")
            .await,
        LINES,
        "every line was ended by its callback"
    );
    node.wait_until(
        "SELECT count(*) FROM callback_settlements WHERE verified_at IS NOT NULL",
        LINES,
        Duration::from_secs(30),
        "lines verified by a status query",
    )
    .await;
    let report = node.simulator.report();
    assert!(
        report.executed_twice.is_empty(),
        "{:?}",
        report.executed_twice
    );
    assert_eq!(
        node.count("SELECT count(*) FROM callback_disagreements")
            .await,
        0
    );
    node.assert_ledger_sound().await;
    node.engine.stop().await;
}
