//! `payrail merchant create | fund | show | list`: JSON on stdout for scripts.

use std::io::Write;

use anyhow::Context;
use deadpool_postgres::Pool;
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::ledger;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::store::merchants::{self, NewMerchant};
use serde_json::json;

use crate::cli::MerchantCommand;

pub async fn run(command: MerchantCommand, pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await.context("connecting to the database")?;
    let output = match command {
        MerchantCommand::Create {
            name,
            payout_fee,
            collection_fee_bps,
            currency,
            approval_threshold,
        } => {
            let currency: Currency = currency.parse()?;
            let payout_fee = Amount::parse(&payout_fee, currency).context("--payout-fee")?;
            let approval_threshold = approval_threshold
                .map(|text| Amount::parse(&text, currency))
                .transpose()
                .context("--approval-threshold")?;
            let fees = FeeAgreement::new(payout_fee, collection_fee_bps)?;
            let new = NewMerchant {
                name,
                currency,
                fees,
                approval_threshold,
            };
            let tx = client.transaction().await?;
            let (merchant, keys) = merchants::create(&tx, &new).await?;
            tx.commit().await?;
            tracing::info!(merchant_id = %merchant.id, "created a merchant");
            json!({
                "merchant": merchant,
                "api_keys": keys,
                "notice": "API keys are shown only now: store them safely",
            })
        }
        MerchantCommand::Fund { merchant, amount } => {
            let id: MerchantId = merchant.parse().context("--merchant")?;
            let stored = merchants::get(&client, id).await?;
            let amount = Amount::parse(&amount, stored.currency).context("--amount")?;
            let tx = client.transaction().await?;
            ledger::fund(&tx, id, amount).await?;
            tx.commit().await?;
            tracing::info!(merchant_id = %id, amount = amount.minor(), "funded a merchant");
            let balances = ledger::balances(&client, id).await?;
            json!({ "merchant_id": id, "funded": amount, "currency": stored.currency, "balances": balances })
        }
        MerchantCommand::Show { merchant } => {
            let id: MerchantId = merchant.parse().context("--merchant")?;
            let stored = merchants::get(&client, id).await?;
            let balances = ledger::balances(&client, id).await?;
            json!({ "merchant": stored, "balances": balances })
        }
        MerchantCommand::List => json!(merchants::list(&client).await?),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &output)?;
    writeln!(stdout)?;
    Ok(())
}
