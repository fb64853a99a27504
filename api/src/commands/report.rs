//! `payrail report statement | transactions | batch`: a merchant's report written to a
//! file by the node's operator, through the same use case as the API's exports, with a
//! progress bar on the terminal for long ones. Prints the file's name, rows and format.

use std::io::Write;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use payrail_engine::app::App;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::transactions::TransactionQuery;
use payrail_engine::app::reports::{ReportRequest, render};
use payrail_engine::export::Format;
use payrail_engine::ids::{BatchId, MerchantId};
use serde_json::json;

use crate::cli::{ReportCommand, ReportOutput};

pub async fn run(command: ReportCommand, app: &App) -> anyhow::Result<()> {
    let (output, request) = match command {
        ReportCommand::Statement { output, from, to } => {
            (output, ReportRequest::Statement { from, to })
        }
        ReportCommand::Transactions { output, from, to } => (
            output,
            ReportRequest::Transactions {
                filters: Box::new(TransactionQuery {
                    from,
                    to,
                    ..TransactionQuery::default()
                }),
            },
        ),
        ReportCommand::Batch { output, batch } => {
            let batch: BatchId = batch.parse().context("--batch")?;
            (output, ReportRequest::BatchStatement { batch })
        }
    };
    let merchant: MerchantId = output.merchant.parse().context("--merchant")?;
    let format = format_of(&output)?;
    let reader = Reader::Operator(merchant);
    let rows = app.report_rows(reader, &request).await?;
    let bar = ProgressBar::new(rows).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({eta} left)")
            .context("the progress bar's template")?,
    );
    let file = std::fs::File::create(&output.output)
        .with_context(|| format!("creating {}", output.output.display()))?;
    let written = app
        .write_report(reader, &request, format, file, &|done| {
            bar.set_position(done)
        })
        .await;
    bar.finish_and_clear();
    let written = match written {
        Ok(written) => written,
        Err(error) => {
            let _ = std::fs::remove_file(&output.output);
            return Err(error.into());
        }
    };
    let mut stdout = std::io::stdout().lock();
    let printed = json!({
        "file": output.output,
        "format": format.extension(),
        "rows": written.rows,
        "report": request.name(),
    });
    serde_json::to_writer_pretty(&mut stdout, &printed)?;
    writeln!(stdout)?;
    Ok(())
}

/// `--format`, or the output file's extension.
fn format_of(output: &ReportOutput) -> anyhow::Result<Format> {
    let name = match &output.format {
        Some(name) => name.clone(),
        None => output
            .output
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_owned)
            .context("--format (csv, xlsx or pdf), or an --output ending in one of them")?,
    };
    render::format(&name).context("--format")
}
