//! The payroll every benchmark pays: valid lines for MTN and Airtel Rwanda numbers with
//! varied amounts, and merchants funded to pay them.

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::route::RouteTable;
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::payout_lines::NewPayoutLine;

/// The fee of every benchmark payout.
pub const PAYOUT_FEE: i64 = 100;

/// `count` valid lines: MTN and Airtel Rwanda numbers, varied amounts, some notes.
pub fn lines(count: u32) -> anyhow::Result<Vec<NewPayoutLine>> {
    let routes = RouteTable::rwanda();
    (0..count)
        .map(|i| {
            let prefix = if i % 3 == 0 { "25073" } else { "25078" };
            let msisdn = Msisdn::parse(&format!("{prefix}{:07}", i % 10_000_000), Region::RW)?;
            let route = routes
                .route_for(&msisdn)
                .context("every generated number has a route")?
                .clone();
            Ok(NewPayoutLine {
                line_no: i32::try_from(i)? + 2,
                msisdn,
                amount: Amount::from_minor(5_000 + i64::from(i % 1_000) * 100)?,
                fee: Amount::from_minor(PAYOUT_FEE)?,
                route,
                client_reference: Some(format!("salary-2026-11-{i}")),
                name: Some(format!("Employee {i}")),
                note: (i % 4 == 0).then(|| "November salary".to_owned()),
            })
        })
        .collect()
}

/// A merchant funded with enough to pay `lines` of the payroll.
pub async fn funded_merchant(pool: &Pool, lines: &[NewPayoutLine]) -> anyhow::Result<MerchantId> {
    let total = lines.iter().try_fold(Amount::ZERO, |total, line| {
        total
            .checked_add(line.amount)
            .and_then(|t| t.checked_add(line.fee))
            .context("the payroll total fits")
    })?;
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let fees = FeeAgreement::new(Amount::from_minor(PAYOUT_FEE)?, 0)?;
    let new = NewMerchant {
        name: "Benchmark merchant".into(),
        currency: Currency::Rwf,
        fees,
        approval_threshold: None,
    };
    let (merchant, _keys) = merchants::create(&tx, &new).await?;
    ledger::fund(&tx, merchant.id, total).await?;
    tx.commit().await?;
    Ok(merchant.id)
}
