//! `payrail batch submit | show`: a payroll from a CSV file, submitted by the node's
//! operator through the same use case as an upload over HTTP (checked line by line, kept
//! `invalid` with its report when a line is bad, waiting for a checker when the merchant's
//! rule asks for one); and a batch's counts as JSON.

use std::io::Write;

use anyhow::{Context, bail};
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::uploads::{Payroll, PayrollFormat, Submitted, Submitter};
use payrail_engine::app::{App, AppError};
use payrail_engine::ids::{BatchId, MerchantId};
use serde_json::{Value, json};

use crate::cli::BatchCommand;

pub async fn run(command: BatchCommand, app: &App) -> anyhow::Result<()> {
    match command {
        BatchCommand::Submit { merchant, file } => {
            let merchant: MerchantId = merchant.parse().context("--merchant")?;
            let opened = tokio::fs::File::open(&file)
                .await
                .with_context(|| format!("opening {}", file.display()))?;
            let payroll = Payroll {
                format: PayrollFormat::Csv,
                allow_duplicate: false,
                key: None,
            };
            let answered = app
                .submit_payroll(Submitter::Operator(merchant), &payroll, opened, printed)
                .await
                .with_context(|| format!("submitting {}", file.display()))?;
            print(&answered.answer.body)?;
            if answered.answer.status >= 400 {
                bail!(
                    "{} has invalid lines: the batch is kept as invalid and nothing will be paid",
                    file.display()
                );
            }
            Ok(())
        }
        BatchCommand::Show { batch } => {
            let batch: BatchId = batch.parse().context("--batch")?;
            let summary = app.batch_of_any_merchant(batch).await?;
            print(&json!({ "batch": summary.batch, "lines_by_state": summary.counts }))
        }
    }
}

/// What the command prints: the batch, or why it is invalid (its first errors).
fn printed(submitted: &Submitted) -> Result<Answer, AppError> {
    let (status, body) = match submitted {
        Submitted::Valid(summary) => (200, json!({ "batch": summary.batch })),
        Submitted::Invalid { batch, errors } => (
            422,
            json!({
                "valid": false,
                "batch": batch,
                "error_count": batch.error_count,
                "errors": errors,
            }),
        ),
    };
    Ok(Answer { status, body })
}

fn print(value: &Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    Ok(())
}
