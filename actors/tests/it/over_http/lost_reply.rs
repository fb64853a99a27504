//! A transfer MTN received and lost (the reply never came, nothing was created): the engine
//! asks before it resends, the 404 allows the resend, and it carries the same reference.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use payrail_adapters::mtn::MtnMomo;
use payrail_adapters::simserver::{SimFaults, SimServerProfile};
use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use super::{mtn_adapter, quiet_profile, simulator};
use crate::support::{batch, merchant, start_engine_on, wait_for};

/// One call the engine made, and what it learned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Send(Reference, Result<PayoutStatus, OperatorError>),
    Query(Reference, Result<Option<PayoutStatus>, OperatorError>),
}

/// The MTN adapter, with every payout call written down in order.
#[derive(Debug)]
struct Recorded {
    inner: Arc<MtnMomo>,
    calls: Mutex<Vec<Call>>,
}

impl Recorded {
    fn record(&self, call: Call) {
        self.calls.lock().expect("not poisoned").push(call);
    }
}

#[async_trait::async_trait]
impl Operator for Recorded {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        let answer = self.inner.send_payout(request).await;
        self.record(Call::Send(request.reference, answer.clone()));
        answer
    }
    async fn query_payout(
        &self,
        reference: Reference,
    ) -> Result<Option<PayoutStatus>, OperatorError> {
        let answer = self.inner.query_payout(reference).await;
        self.record(Call::Query(reference, answer.clone()));
        answer
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
async fn a_lost_transfer_is_queried_then_resent_with_the_same_reference_and_paid_once() {
    let db = TestDb::new().await;
    let losing = SimServerProfile {
        faults: SimFaults {
            accepted_then_lost: 1_000_000,
            ..SimFaults::default()
        },
        ..quiet_profile(0)
    };
    let simulator = simulator(losing).await;
    let recorded = Arc::new(Recorded {
        inner: mtn_adapter(&simulator),
        calls: Mutex::new(Vec::new()),
    });
    let engine = start_engine_on(&db, recorded.clone(), 1_000).await;
    let merchant = merchant(&db, 10_000).await;
    let batch = batch(&db, merchant, 1).await;
    engine.run_batch(merchant, batch);

    // The first POST is swallowed; from then on MTN behaves.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while simulator.stats().faults.accepted_then_lost == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the POST never came"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    simulator
        .set_profile(quiet_profile(0))
        .expect("a valid profile");
    let ended = wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed, BatchState::CompletedWithFailures],
        Duration::from_secs(30),
    )
    .await;
    engine.stop().await;
    assert_eq!(ended, BatchState::Completed);

    let calls = recorded.calls.lock().expect("not poisoned").clone();
    let reference = match calls.first() {
        Some(Call::Send(reference, Err(OperatorError::OutcomeUnknown { .. }))) => *reference,
        other => panic!("the first call is a send that timed out, not {other:?}"),
    };
    assert_eq!(
        calls.get(1),
        Some(&Call::Query(reference, Ok(None))),
        "after the lost reply the engine asks, and MTN never created it: {calls:?}"
    );
    assert_eq!(
        calls.get(2),
        Some(&Call::Send(reference, Ok(PayoutStatus::Pending))),
        "then it resends with the same reference: {calls:?}"
    );
    assert!(
        matches!(
            calls.last(),
            Some(Call::Query(last, Ok(Some(PayoutStatus::Succeeded { .. })))) if *last == reference
        ),
        "{calls:?}"
    );
    let transfers = simulator.report();
    assert_eq!(transfers.transfers.len(), 1);
    let transfer = &transfers.transfers[0];
    assert_eq!(transfer.reference, reference.to_string());
    assert_eq!((transfer.attempts, transfer.executions), (2, 1));
    assert!(transfers.executed_twice.is_empty());
}
