//! An operator that stops answering: the route's circuit opens and holds its sends back,
//! instead of every line hammering it with retries, then the batch finishes once the
//! operator is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use payrail_adapters::simulator::{FaultRates, Simulator};
use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{batch, merchant, mtn, settings, start_engine_with, wait_for};

/// Refuses every connection until `back_at`.
#[derive(Debug)]
struct Outage {
    inner: Arc<Simulator>,
    back_at: Instant,
    refused: AtomicU32,
}

#[async_trait::async_trait]
impl Operator for Outage {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        if Instant::now() < self.back_at {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(OperatorError::NotSent {
                detail: "connection refused".into(),
                retry_after_ms: None,
            });
        }
        self.inner.send_payout(request).await
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
async fn an_open_circuit_holds_sends_back_during_an_outage_and_the_batch_finishes_after() {
    const LINES: u32 = 200;
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates::default());
    let operator = Arc::new(Outage {
        inner: simulator.clone(),
        back_at: Instant::now() + Duration::from_millis(1_500),
        refused: AtomicU32::new(0),
    });
    let mut settings = settings();
    settings.retry.circuit_failures = 10;
    settings.retry.circuit_open_for = Duration::from_millis(300);
    settings.retry.not_sent_max = 1_000;
    let engine = start_engine_with(&db, operator.clone(), 100_000, settings).await;
    let merchant = merchant(&db, 1_000_000).await;
    let batch = batch(&db, merchant, i32::try_from(LINES).expect("small")).await;
    engine.run_batch(merchant, batch).expect("running");
    wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    let refused = operator.refused.load(Ordering::Relaxed);
    // The first wave leaves before any answer comes back; after that only one trial per
    // open period. Retrying every 2–50 ms without a circuit would have made thousands.
    assert!(refused <= LINES + 20, "{refused} sends during the outage");
    assert_eq!(
        simulator.executions().payouts,
        usize::try_from(LINES).expect("small")
    );
}
