//! Creating, reading and listing merchants, and the keys they are issued.

use payrail_engine::api_key::{self, Role};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ledger;
use payrail_engine::money::Currency;
use payrail_engine::store::merchants::{self, CreateMerchantError, NewMerchant};
use payrail_engine::testing::TestDb;

use crate::support::amount;

fn new_merchant(name: &str) -> NewMerchant {
    NewMerchant {
        name: name.into(),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(amount(250), 120).expect("valid fees"),
        approval_threshold: Some(amount(1_000_000)),
    }
}

#[tokio::test]
async fn a_new_merchant_has_empty_accounts_and_one_hashed_key_per_role() {
    let db = TestDb::new().await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let (merchant, keys) = merchants::create(&tx, &new_merchant("  Musanze Co-op "))
        .await
        .expect("create");
    tx.commit().await.expect("commit");

    assert_eq!(merchant.name, "Musanze Co-op");
    let roles: Vec<Role> = keys.iter().map(|key| key.role).collect();
    assert_eq!(roles, Role::ALL.to_vec());
    for key in &keys {
        let stored: Vec<u8> = client
            .query_one(
                "SELECT hash FROM api_keys WHERE prefix = $1 AND role = $2",
                &[&key.prefix, &key.role.as_str()],
            )
            .await
            .expect("the key is stored")
            .get(0);
        assert_eq!(stored, api_key::hash_key(&key.secret).to_vec());
        let secret_stored: i64 = client
            .query_one(
                "SELECT count(*) FROM api_keys WHERE encode(hash, 'escape') LIKE '%' || $1 || '%'",
                &[&key.secret],
            )
            .await
            .expect("search")
            .get(0);
        assert_eq!(secret_stored, 0, "the secret itself is never stored");
    }
    let balances = ledger::balances(&client, merchant.id)
        .await
        .expect("balances");
    assert_eq!(balances, ledger::Balances::default());
    assert_eq!(
        merchants::get(&client, merchant.id).await.expect("get"),
        merchant
    );
}

#[tokio::test]
async fn merchants_are_listed_oldest_first() {
    let db = TestDb::new().await;
    let mut client = db.client().await;
    for name in ["First", "Second"] {
        let tx = client.transaction().await.expect("begin");
        merchants::create(&tx, &new_merchant(name))
            .await
            .expect("create");
        tx.commit().await.expect("commit");
    }
    let names: Vec<String> = merchants::list(&client)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["First", "Second"]);
}

#[tokio::test]
async fn a_blank_or_overlong_name_is_refused() {
    let db = TestDb::new().await;
    let mut client = db.client().await;
    for name in ["   ", &"x".repeat(201)] {
        let tx = client.transaction().await.expect("begin");
        let refused = merchants::create(&tx, &new_merchant(name)).await;
        assert!(
            matches!(refused, Err(CreateMerchantError::InvalidName)),
            "{name:?}"
        );
    }
}
