//! Supervision: a route actor that dies in the middle of a batch is started again, the
//! batches ask about the lines it held, the batch completes, and nothing is paid twice.

use std::time::Duration;

use payrail_adapters::simulator::FaultRates;
use payrail_engine::state::batch::BatchState;
use payrail_engine::testing::TestDb;

use crate::support::{assert_each_paid_once, batch, merchant, mtn, start_engine_on, wait_for};

fn route_actor(tree: &ractor::ActorCell) -> Option<ractor::ActorCell> {
    tree.get_children().into_iter().find(|child| {
        child
            .get_name()
            .is_some_and(|name| name.starts_with("route:mtn-rw:"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_actor_killed_mid_batch_is_restarted_and_nothing_is_paid_twice() {
    const LINES: i32 = 3_000;
    let db = TestDb::new().await;
    let simulator = mtn(FaultRates {
        pending: 200_000,
        ..FaultRates::default()
    });
    let engine = start_engine_on(&db, simulator.clone(), 4_000).await;
    let merchant = merchant(&db, 10_000_000).await;
    let batch = batch(&db, merchant, LINES).await;
    engine.run_batch(merchant, batch);
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    while simulator.executions().payouts < 500 {
        poll.tick().await;
    }
    let first = route_actor(&engine.supervision_tree()).expect("the route actor");
    first.kill();
    wait_for(
        &db,
        merchant,
        batch,
        &[BatchState::Completed],
        Duration::from_secs(60),
    )
    .await;
    let second = route_actor(&engine.supervision_tree()).expect("a route actor again");
    assert_ne!(
        first.get_id(),
        second.get_id(),
        "a new route actor took over"
    );
    engine.stop().await;

    assert_each_paid_once(&db, &simulator, usize::try_from(LINES).expect("positive")).await;
}
