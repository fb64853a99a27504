//! `payrail batch submit | show`: a payroll from a CSV file, validated line by line before
//! anything is stored, then scheduled for the running node; and a batch's counts as JSON.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use deadpool_postgres::Pool;
use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::payroll_csv::PayrollCsv;
use payrail_engine::state::batch::{BatchEvent, BatchState};
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::merchants::{self, Merchant};
use payrail_engine::store::payout_lines::{self, NewPayoutLine};
use serde_json::{Value, json};

use crate::cli::BatchCommand;
use crate::config::Config;
use crate::lines::{LineChecker, LineRules, RawLine};

pub async fn run(command: BatchCommand, config: &Config, pool: &Pool) -> anyhow::Result<()> {
    let output = match command {
        BatchCommand::Submit { merchant, file } => {
            let merchant: MerchantId = merchant.parse().context("--merchant")?;
            let merchant = merchants::get(&pool.get().await?, merchant).await?;
            let lines = match read_lines(&file, config, &merchant).await? {
                Ok(lines) => lines,
                Err(errors) => {
                    print(&json!({ "valid": false, "errors": errors }))?;
                    bail!(
                        "{} invalid lines in {}: nothing was submitted",
                        errors.len(),
                        file.display()
                    );
                }
            };
            submit(pool, &merchant, &lines).await?
        }
        BatchCommand::Show { batch } => {
            let batch: BatchId = batch.parse().context("--batch")?;
            let client = pool.get().await?;
            let merchant = batches::merchant_of(&client, batch).await?;
            let stored = batches::get(&client, merchant, batch).await?;
            let counts = payout_lines::count_by_state(&client, batch).await?;
            json!({ "batch": stored, "lines_by_state": counts })
        }
    };
    print(&output)
}

/// Every line of the file, or every error with its line number (the header is line 1),
/// read and checked as the API reads and checks uploads.
async fn read_lines(
    file: &Path,
    config: &Config,
    merchant: &Merchant,
) -> anyhow::Result<Result<Vec<NewPayoutLine>, Vec<Value>>> {
    let rules = LineRules {
        country: config.country()?,
        routes: &config.routes,
        currency: merchant.currency,
        fee: merchant.fees.payout_fee(),
    };
    let mut checker = LineChecker::new(rules);
    let opened = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let mut csv = PayrollCsv::open(tokio::io::BufReader::new(opened))
        .await
        .with_context(|| format!("reading {}", file.display()))?;
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    let mut refuse = |line: i32, field: &str, reason: &str| {
        errors.push(json!({ "line": line, "field": field, "reason": reason }));
    };
    while let Some(row) = csv
        .next()
        .await
        .with_context(|| format!("reading {}", file.display()))?
    {
        let row = match row {
            Ok(row) => row,
            Err(fault) => {
                refuse(fault.line, "line", &fault.reason);
                continue;
            }
        };
        match checker.check(row.line, RawLine::from_row(&row)) {
            Ok(line) => lines.push(line),
            Err(refused) => {
                for error in &refused {
                    refuse(error.line, &error.field, &error.reason);
                }
            }
        }
    }
    if lines.is_empty() && errors.is_empty() {
        bail!("{} has no lines after its header", file.display());
    }
    Ok(if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    })
}

/// Stores the batch and its lines in one transaction and schedules it.
async fn submit(
    pool: &Pool,
    merchant: &Merchant,
    lines: &[NewPayoutLine],
) -> anyhow::Result<Value> {
    let new = NewBatch::new(merchant.id, merchant.currency);
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    batches::insert(&tx, &new).await?;
    payout_lines::insert_lines(&tx, merchant.id, new.id, PayoutState::Validated, lines).await?;
    batches::finish_upload(&tx, merchant.id, new.id).await?;
    batches::transition(
        &tx,
        merchant.id,
        new.id,
        BatchState::Validating,
        BatchEvent::Schedule,
    )
    .await?;
    tx.commit().await?;
    let stored = batches::get(&client, merchant.id, new.id).await?;
    tracing::info!(batch_id = %new.id, lines = lines.len(), "batch submitted and scheduled");
    Ok(json!({ "batch": stored }))
}

fn print(value: &Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    Ok(())
}
