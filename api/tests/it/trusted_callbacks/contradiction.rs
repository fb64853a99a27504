//! A callback the status query contradicts: the simulator's callbacks say FAILED for
//! transfers it paid. Each line is failed on its callback at once; its verification finds
//! it paid, and the line goes to review with a correction that puts its money back in
//! reserve; nothing is sent again.

use std::time::Duration;

use payrail_adapters::simserver::SimServerProfile;

use super::TrustedNode;

const LINES: i64 = 3;
/// Each payout's amount and fee (the default fee agreement).
const RESERVED_PER_LINE_MIN: i64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_the_status_query_contradicts_ends_in_review_with_its_correction() {
    let mut profile = SimServerProfile {
        status_queries_per_second: 10,
        ..SimServerProfile::default()
    };
    profile.callbacks.lie_ppm = 1_000_000;
    let node = TrustedNode::start(profile, Duration::from_secs(60), 2_000).await;
    node.payroll(LINES as usize).await;
    node.wait_until(
        "SELECT count(*) FROM payout_lines WHERE state = 'requires_review'",
        LINES,
        Duration::from_secs(30),
        "lines sent to review by their verification",
    )
    .await;
    assert_eq!(
        node.count(
            "SELECT count(*) FROM callback_disagreements
              WHERE callback_said = 'failed' AND operator_says = 'succeeded'
                AND correction IS NOT NULL"
        )
        .await,
        LINES
    );
    // Each correction moved the released money back to reserve, where a line in review
    // holds it.
    let reserved = node
        .count("SELECT balance FROM ledger_accounts WHERE kind = 'merchant_reserved'")
        .await;
    assert!(
        reserved >= LINES * RESERVED_PER_LINE_MIN,
        "reserved {reserved}"
    );
    assert_eq!(
        node.count("SELECT count(*) FROM journal_entries WHERE kind = 'correction'")
            .await,
        LINES
    );
    let report = node.simulator.report();
    assert!(report.executed_twice.is_empty());
    let sends: u64 = report.transfers.iter().map(|t| u64::from(t.attempts)).sum();
    assert_eq!(sends, LINES as u64, "nothing was sent again");
    node.assert_ledger_sound().await;
    node.engine.stop().await;
}
