//! Helpers shared by the integration tests.

use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::store::merchants::{self, NewMerchant};
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
