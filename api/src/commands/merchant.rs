//! `payrail merchant create | fund | correct | show | list`: JSON on stdout for scripts.

use std::io::Write;

use anyhow::Context;
use payrail_engine::app::App;
use payrail_engine::app::merchants::NewMerchant;
use payrail_engine::app::merchants::{Correction, Direction};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::ids::MerchantId;
use payrail_engine::money::{Amount, Currency};
use serde_json::json;

use crate::cli::MerchantCommand;

pub async fn run(command: MerchantCommand, app: &App) -> anyhow::Result<()> {
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
            let (merchant, keys) = app.create_merchant(&new).await?;
            tracing::info!(merchant_id = %merchant.id, "created a merchant");
            json!({
                "merchant": merchant,
                "api_keys": keys,
                "notice": "API keys are shown only now: store them safely",
            })
        }
        MerchantCommand::Fund { merchant, amount } => {
            let id: MerchantId = merchant.parse().context("--merchant")?;
            let (stored, _) = app.merchant(id).await?;
            let amount = Amount::parse(&amount, stored.currency).context("--amount")?;
            let balances = app.fund_merchant(id, amount).await?;
            tracing::info!(merchant_id = %id, amount = amount.minor(), "funded a merchant");
            json!({ "merchant_id": id, "funded": amount, "currency": stored.currency, "balances": balances })
        }
        MerchantCommand::Correct {
            merchant,
            credit,
            debit,
            reason,
        } => {
            let id: MerchantId = merchant.parse().context("--merchant")?;
            let (stored, _) = app.merchant(id).await?;
            let (direction, amount, flag) = match (credit, debit) {
                (Some(credit), None) => (Direction::Credit, credit, "--credit"),
                (None, Some(debit)) => (Direction::Debit, debit, "--debit"),
                _ => anyhow::bail!("give --credit or --debit"),
            };
            let amount = Amount::parse(&amount, stored.currency).context(flag)?;
            let correction = Correction {
                direction,
                amount,
                description: reason,
            };
            let (correction_id, balances) = app.correct_balance(id, &correction).await?;
            tracing::info!(merchant_id = %id, %correction_id, "corrected a merchant's balance");
            json!({ "merchant_id": id, "correction_id": correction_id, "currency": stored.currency, "balances": balances })
        }
        MerchantCommand::Show { merchant } => {
            let id: MerchantId = merchant.parse().context("--merchant")?;
            let (stored, balances) = app.merchant(id).await?;
            json!({ "merchant": stored, "balances": balances })
        }
        MerchantCommand::List => json!(app.merchants().await?),
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &output)?;
    writeln!(stdout)?;
    Ok(())
}
