//! A world for engine tests: merchants with funded balances, uploaded batches, an engine
//! on simulated routes, and a wait for batches to end.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use payrail_actors::batch::BatchSettings;
use payrail_actors::route::{RetryPolicy, RouteConfig};
use payrail_actors::{ClusterSettings, CollectionSettings, Engine, EngineSettings};
use payrail_adapters::simulator::{FaultRates, Simulator, SimulatorProfile};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::Reference;
use payrail_engine::ids::{BatchId, MerchantId, PayoutId};
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::operator::{
    AccountHolder, Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest,
    PayoutStatus,
};
use payrail_engine::route::RouteName;
use payrail_engine::state::batch::BatchState;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use payrail_engine::testing::TestDb;

/// The fee every test merchant pays per payout.
pub const PAYOUT_FEE: i64 = 100;

pub fn amount(minor: i64) -> Amount {
    Amount::from_minor(minor).expect("an amount")
}

/// Fast retries and checks, so faults resolve in milliseconds.
pub fn settings() -> EngineSettings {
    EngineSettings {
        batch: BatchSettings {
            chunk_lines: 200,
            max_outstanding: 2_000,
            completion_check: Duration::from_millis(100),
            merchant_max_outstanding: 4_000,
        },
        retry: RetryPolicy {
            backoff_base: Duration::from_millis(2),
            backoff_max: Duration::from_millis(50),
            not_sent_max: 30,
            review_after: Duration::from_secs(120),
            submitted_after: Duration::from_millis(200),
            circuit_failures: 20,
            circuit_open_for: Duration::from_millis(200),
        },
        sweep_interval: Duration::from_millis(100),
        collection: CollectionSettings {
            poll_first: Duration::from_millis(10),
            poll_max: Duration::from_millis(50),
            sweep_interval: Duration::from_millis(100),
        },
        bulk_pool: None,
        cluster: ClusterSettings::default(),
    }
}

/// One simulated `mtn-rw` route with these faults.
pub fn mtn(faults: FaultRates) -> Arc<Simulator> {
    let profile = SimulatorProfile {
        faults,
        pending_ms: 30,
        seed: 11,
        ..SimulatorProfile::default()
    };
    Arc::new(Simulator::new(profile).expect("a valid profile"))
}

pub async fn start_engine(db: &TestDb, simulator: &Arc<Simulator>) -> Engine {
    start_engine_on(db, simulator.clone(), 100_000).await
}

/// An engine whose `mtn-rw` route is `operator`, sending at most `sends_per_second`.
pub async fn start_engine_on(
    db: &TestDb,
    operator: Arc<dyn Operator>,
    sends_per_second: u32,
) -> Engine {
    start_engine_with(db, operator, sends_per_second, settings()).await
}

pub async fn start_engine_with(
    db: &TestDb,
    operator: Arc<dyn Operator>,
    sends_per_second: u32,
    settings: EngineSettings,
) -> Engine {
    start_engine_with_quotas(db, operator, sends_per_second, 100_000, settings).await
}

/// An engine whose `mtn-rw` route is `operator`, with both of its quotas given.
pub async fn start_engine_with_quotas(
    db: &TestDb,
    operator: Arc<dyn Operator>,
    sends_per_second: u32,
    queries_per_second: u32,
    settings: EngineSettings,
) -> Engine {
    let config = RouteConfig {
        name: RouteName::new("mtn-rw").expect("a route name"),
        sends_per_second: NonZeroU32::new(sends_per_second).expect("positive"),
        queries_per_second: NonZeroU32::new(queries_per_second).expect("positive"),
        max_in_flight: 512,
        callback_deadline: None,
    };
    Engine::start(db.pool.clone(), vec![(config, operator)], settings)
        .await
        .expect("the engine starts")
}

/// A merchant funded with `funds`.
pub async fn merchant(db: &TestDb, funds: i64) -> MerchantId {
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let fees = FeeAgreement::new(amount(PAYOUT_FEE), 0).expect("fees");
    let new = NewMerchant {
        name: "Engine test merchant".into(),
        currency: Currency::Rwf,
        fees,
        approval_threshold: None,
    };
    let (merchant, _) = merchants::create(&tx, &new).await.expect("merchant");
    if funds > 0 {
        ledger::fund(&tx, merchant.id, amount(funds))
            .await
            .expect("fund");
    }
    tx.commit().await.expect("commit");
    merchant.id
}

/// An uploaded batch of `lines` payouts of 1,000 RWF each, ready to run.
pub async fn batch(db: &TestDb, merchant: MerchantId, lines: i32) -> BatchId {
    let new = NewBatch::new(merchant, Currency::Rwf);
    let mut client = db.client().await;
    batches::insert(&client, &new).await.expect("batch");
    let route = RouteName::new("mtn-rw").expect("route");
    let lines: Vec<NewPayoutLine> = (0..lines)
        .map(|i| NewPayoutLine {
            line_no: i + 2,
            msisdn: Msisdn::parse(&format!("25078{:07}", i), Region::RW).expect("number"),
            amount: amount(1_000),
            fee: amount(PAYOUT_FEE),
            route: route.clone(),
            client_reference: None,
            name: None,
            note: None,
        })
        .collect();
    let tx = client.transaction().await.expect("begin");
    payout_lines::insert_lines(&tx, merchant, new.id, PayoutState::Validated, &lines)
        .await
        .expect("lines");
    batches::finish_upload(&tx, merchant, new.id)
        .await
        .expect("upload");
    tx.commit().await.expect("commit");
    new.id
}

/// Waits until the batch is in `state`, or fails the test after `limit`.
pub async fn wait_for(
    db: &TestDb,
    merchant: MerchantId,
    batch: BatchId,
    states: &[BatchState],
    limit: Duration,
) -> BatchState {
    let deadline = Instant::now() + limit;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let state = batches::get(&db.client().await, merchant, batch)
            .await
            .expect("batch")
            .state;
        if states.contains(&state) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "batch still {state} after {limit:?}"
        );
    }
}

/// What a hook does with a send before the simulator sees it.
pub type BeforeSend =
    Box<dyn Fn(&PayoutRequest) -> Option<Result<PayoutStatus, OperatorError>> + Send + Sync>;
/// What a hook does after the simulator answered a send.
pub type AfterSend = Box<dyn Fn(&PayoutRequest) + Send + Sync>;

/// The simulator with hooks around its sends: to record them, refuse them or panic.
pub struct Hooked {
    pub inner: Arc<Simulator>,
    /// Answers instead of the simulator when it returns `Some`.
    pub before: BeforeSend,
    pub after: AfterSend,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooked")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Operator for Hooked {
    async fn send_payout(&self, request: &PayoutRequest) -> Result<PayoutStatus, OperatorError> {
        if let Some(answer) = (self.before)(request) {
            return answer;
        }
        let answer = self.inner.send_payout(request).await;
        (self.after)(request);
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

/// Checks that `lines` lines succeeded, that the simulator paid each of them exactly once
/// and nothing twice, and that the ledger audit holds.
pub async fn assert_each_paid_once(db: &TestDb, simulator: &Simulator, lines: usize) {
    let client = db.client().await;
    let ids: Vec<PayoutId> = client
        .query("SELECT id FROM payout_lines WHERE state = 'succeeded'", &[])
        .await
        .expect("lines")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids.len(), lines);
    assert!(
        ids.iter().all(|id| simulator.executions_of(*id) == 1),
        "each line paid exactly once"
    );
    assert!(simulator.executions().paid_twice.is_empty());
    let audit = ledger::audit(&client).await.expect("audit");
    assert!(audit.is_sound(), "{audit:?}");
}
