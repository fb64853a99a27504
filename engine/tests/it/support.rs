//! Helpers shared by the integration tests.

use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::{BatchId, MerchantId, NodeId};
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::{cluster, migrations};
use payrail_engine::testing::TestDb;

pub fn amount(minor: i64) -> Amount {
    Amount::from_minor(minor).expect("a valid test amount")
}

/// A new RWF merchant with the given fees, funded with `funds` (none if zero).
pub async fn merchant(db: &TestDb, payout_fee: i64, funds: i64) -> MerchantId {
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let new = NewMerchant {
        name: "Kigali Tea Estates".into(),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(amount(payout_fee), 150).expect("valid fees"),
        approval_threshold: None,
    };
    let (merchant, _keys) = merchants::create(&tx, &new).await.expect("create merchant");
    if funds > 0 {
        ledger::fund(&tx, merchant.id, amount(funds))
            .await
            .expect("fund merchant");
    }
    tx.commit().await.expect("commit");
    merchant.id
}

/// A node that joined the cluster, leased for a minute.
pub async fn node(db: &TestDb) -> NodeId {
    let node = NodeId::new();
    let lease = std::time::Duration::from_secs(60);
    cluster::join(
        &mut db.client().await,
        node,
        &format!("test-{node}"),
        migrations::latest_version(),
        lease,
    )
    .await
    .expect("joined the cluster");
    node
}

/// A node that joined and owns `batch`, as its batch actor's start would have it (without
/// reserving anything): the claims of its lines are fenced by the owner's lease.
pub async fn node_holding(db: &TestDb, batch: BatchId) -> NodeId {
    let node = node(db).await;
    db.client()
        .await
        .execute(
            "UPDATE batches SET owner_node = $1 WHERE id = $2",
            &[&node, &batch],
        )
        .await
        .expect("the node takes the batch");
    node
}
