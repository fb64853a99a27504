//! A merchant for benchmarks that go through the HTTP API: created in the database,
//! funded, and optionally needing approval for every batch; its maker key uploads and pays,
//! its checker key approves.

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_engine::api_key::Role;
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::store::merchants::{self, NewMerchant};

use crate::payroll::PAYOUT_FEE;

/// A merchant and its maker and checker keys.
#[derive(Clone, Debug)]
pub struct ApiMerchant {
    pub id: MerchantId,
    pub maker: String,
    pub checker: String,
}

/// Creates a merchant funded with `funds` minor units; with `approval`, every batch waits
/// for a checker.
pub async fn create(pool: &Pool, funds: i64, approval: bool) -> anyhow::Result<ApiMerchant> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let new = NewMerchant {
        name: format!("Benchmark merchant {}", uuid::Uuid::new_v4()),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(Amount::from_minor(PAYOUT_FEE)?, 0)?,
        approval_threshold: approval.then_some(Amount::ZERO),
    };
    let (merchant, keys) = merchants::create(&tx, &new).await?;
    ledger::fund(&tx, merchant.id, Amount::from_minor(funds)?).await?;
    tx.commit().await?;
    let key = |role: Role| {
        keys.iter()
            .find(|key| key.role == role)
            .map(|key| key.secret.clone())
            .with_context(|| format!("a {} key", role.as_str()))
    };
    Ok(ApiMerchant {
        id: merchant.id,
        maker: key(Role::Maker)?,
        checker: key(Role::Checker)?,
    })
}
