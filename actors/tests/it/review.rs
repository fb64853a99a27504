//! A line whose outcome stays uncertain past its deadline goes to review with its funds
//! still reserved, and the batch completes with failures instead of waiting for ever.

use std::sync::Arc;
use std::time::Duration;

use payrail_adapters::simulator::{FaultRates, Simulator, SimulatorProfile};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ledger;
use payrail_engine::money::Currency;
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::state::batch::BatchState;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use payrail_engine::testing::TestDb;

use crate::support::{PAYOUT_FEE, amount, settings, start_engine_with, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_pending_past_its_deadline_goes_to_review_with_its_funds_reserved() {
    let db = TestDb::new().await;
    let simulator = Arc::new(
        Simulator::new(SimulatorProfile {
            faults: FaultRates::default(),
            ..SimulatorProfile::default()
        })
        .expect("profile"),
    );
    let mut settings = settings();
    settings.retry.review_after = Duration::from_millis(1_500);
    let engine = start_engine_with(&db, simulator.clone(), 100_000, settings).await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let fees = FeeAgreement::new(amount(PAYOUT_FEE), 0).expect("fees");
    let new = NewMerchant {
        name: "Review test".into(),
        currency: Currency::Rwf,
        fees,
        approval_threshold: None,
    };
    let (merchant, _) = merchants::create(&tx, &new).await.expect("merchant");
    ledger::fund(&tx, merchant.id, amount(10_000))
        .await
        .expect("fund");
    let batch = NewBatch::new(merchant.id, Currency::Rwf);
    batches::insert(&tx, &batch).await.expect("batch");
    // MTN's sandbox number …453 stays pending for ever; …460 succeeds. Both route to mtn-rw
    // here because the test's route table is the engine's only route.
    let lines: Vec<NewPayoutLine> = ["46733123453", "46733123460"]
        .iter()
        .enumerate()
        .map(|(i, number)| NewPayoutLine {
            line_no: i32::try_from(i).expect("small") + 2,
            msisdn: Msisdn::parse(number, Region::RW).expect("number"),
            amount: amount(1_000),
            fee: amount(PAYOUT_FEE),
            route: payrail_engine::route::RouteName::new("mtn-rw").expect("route"),
            client_reference: None,
            name: None,
            note: None,
        })
        .collect();
    payout_lines::insert_lines(&tx, merchant.id, batch.id, PayoutState::Validated, &lines)
        .await
        .expect("lines");
    batches::finish_upload(&tx, merchant.id, batch.id)
        .await
        .expect("upload");
    tx.commit().await.expect("commit");

    engine.run_batch(merchant.id, batch.id);
    let ended = wait_for(
        &db,
        merchant.id,
        batch.id,
        &[BatchState::CompletedWithFailures],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    assert_eq!(ended, BatchState::CompletedWithFailures);
    let states: Vec<String> = client
        .query("SELECT state FROM payout_lines ORDER BY line_no", &[])
        .await
        .expect("lines")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(states, ["requires_review", "succeeded"]);
    let balances = ledger::balances(&client, merchant.id)
        .await
        .expect("balances");
    assert_eq!(
        balances.reserved,
        amount(1_000 + PAYOUT_FEE),
        "the line in review keeps its reservation"
    );
    assert!(ledger::audit(&client).await.expect("audit").is_sound());
}
