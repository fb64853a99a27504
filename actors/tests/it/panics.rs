//! An operator call that panics, before or after the operator executed the payout, loses no
//! line and pays nothing twice: the line becomes uncertain and is asked about.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use payrail_adapters::simulator::{FaultRates, Simulator};
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{batch, merchant, mtn, start_engine_on, wait_for};

/// Panics on every 7th send: half of those before the simulator sees it, half after it paid.
#[derive(Debug)]
struct Panicking {
    inner: Arc<Simulator>,
    sends: AtomicU32,
}

#[async_trait::async_trait]
impl Operator for Panicking {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        let n = self.sends.fetch_add(1, Ordering::Relaxed);
        assert!(!n.is_multiple_of(14), "injected panic before sending");
        let answer = self.inner.send_payout(request).await;
        assert!(n % 14 != 7, "injected panic after the operator paid");
        answer
    }
    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        self.inner.query_payout(reference).await
    }
    async fn request_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<PaymentStatus, OperatorError> {
        self.inner.request_payment(request).await
    }
    async fn query_payment(
        &self,
        reference: Reference,
    ) -> Result<Option<PaymentStatus>, OperatorError> {
        self.inner.query_payment(reference).await
    }
    async fn account_holder(&self, msisdn: &Msisdn) -> Result<AccountHolder, OperatorError> {
        self.inner.account_holder(msisdn).await
    }
    async fn balance(&self) -> Result<(Amount, Currency), OperatorError> {
        self.inner.balance().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_operator_call_loses_no_line_and_pays_nothing_twice() {
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let operator = Arc::new(Panicking {
        inner: simulator.clone(),
        sends: AtomicU32::new(0),
    });
    let engine = start_engine_on(&db, operator, 100_000).await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, 300).await;
    engine.run_batch(merchant, batch).expect("running");
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    assert_eq!(
        ended,
        BatchState::Completed,
        "every line was paid in the end"
    );
    let client = db.client().await;
    let ids: Vec<PayoutId> = client
        .query("SELECT id FROM payout_lines WHERE state = 'succeeded'", &[])
        .await
        .expect("lines")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids.len(), 300);
    assert!(
        ids.iter().all(|id| simulator.executions_of(*id) == 1),
        "each paid exactly once"
    );
    assert!(
        payrail_engine::ledger::audit(&client)
            .await
            .expect("audit")
            .is_sound()
    );
}
