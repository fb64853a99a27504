//! Reports a finance team reads: the account statement, the transaction report, sales
//! analytics and a batch's reconciliation; each as data (a page at a time, for the API and
//! the portal) or as a file (CSV, XLSX, PDF), written here for every front end: a small
//! file answers at once, a large one is made by a background export, the command line
//! writes any size.
//!
//! # Layout
//! - `period`: a report's period, in the merchant's time zone, bounded
//! - `statement`: the account statement: balances, movements, totals
//! - `transactions`: the transaction report: filters, pages, totals
//! - `analytics`: collections, payouts, success ratios, failures and latency per period
//! - `batch_statement`: a batch's lines reconciled with the operator's ids
//! - `documents`: each report's title, header, columns, totals and rows as a document
//! - `render`: a document and its rows streamed to the format's writer

pub mod analytics;
pub mod batch_statement;
mod documents;
pub mod period;
pub mod render;
pub mod statement;
pub mod transactions;

use futures_util::{StreamExt, stream};
use jiff::Timestamp;

use super::caller::Reader;
use super::{App, AppError};
use crate::export::{Cell, Format, Report};
use crate::ids::BatchId;
use crate::store::transactions::TransactionKey;
use transactions::TransactionQuery;

/// The most rows a report file answers at once; a larger one is made in the background
/// (`POST /v1/exports`), where it takes the time it needs without holding a request.
pub const DIRECT_ROWS_MAX: u64 = 10_000;

/// Rows of the transaction report read at a time into a file.
const TRANSACTION_PAGE_ROWS: i64 = 5_000;

/// Which report, with its parameters: what a file is made from, and what a background
/// export stores.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "report", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReportRequest {
    Statement {
        from: String,
        to: String,
    },
    Transactions {
        #[serde(default)]
        filters: Box<TransactionQuery>,
    },
    BatchStatement {
        batch: BatchId,
    },
    Analytics {
        from: String,
        to: String,
        granularity: String,
    },
}

impl ReportRequest {
    /// The report's name as exports list it.
    pub const fn name(&self) -> &'static str {
        match self {
            ReportRequest::Statement { .. } => "statement",
            ReportRequest::Transactions { .. } => "transactions",
            ReportRequest::BatchStatement { .. } => "batch_statement",
            ReportRequest::Analytics { .. } => "analytics",
        }
    }
}

/// A report file written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    /// What to offer it as ("ST-1a2b3c4d-20261101-20261201.pdf").
    pub file_name: String,
}

impl App {
    /// Checks a report's parameters for the reader's merchant (the period, the filters,
    /// the batch being its own) without reading its rows or totals: what an export is
    /// refused for at once, before the runner makes it.
    pub async fn check_report(
        &self,
        reader: Reader,
        request: &ReportRequest,
    ) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        let merchant = reader.merchant()?;
        match request {
            ReportRequest::Statement { from, to } => {
                let merchant = crate::store::merchants::get(&client, merchant).await?;
                period::Period::parse(from, to, &merchant.time_zone)?;
            }
            ReportRequest::Transactions { filters } => {
                self.transaction_scope_on(&client, reader, filters).await?;
            }
            ReportRequest::BatchStatement { batch } => {
                crate::store::batches::get(&client, merchant, *batch).await?;
            }
            ReportRequest::Analytics {
                from,
                to,
                granularity,
            } => {
                self.analytics_on(&client, reader, from, to, granularity)
                    .await?;
            }
        }
        Ok(())
    }

    /// The rows the report's file will hold, once its parameters are checked: what decides
    /// between answering at once and a background export.
    pub async fn report_rows(
        &self,
        reader: Reader,
        request: &ReportRequest,
    ) -> Result<u64, AppError> {
        let client = self.pool.get().await?;
        Ok(self.document(&client, reader, request).await?.0.row_count)
    }

    /// Writes the report to `out` in `format`, read in one snapshot of the database (a
    /// statement's lines add up to its totals even while payouts settle); `progress` hears
    /// how many rows are written.
    pub async fn write_report(
        &self,
        reader: Reader,
        request: &ReportRequest,
        format: Format,
        out: impl std::io::Write + Send + 'static,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Written, AppError> {
        let mut client = self.pool.get().await?;
        let tx = crate::store::exports::report_snapshot(&mut client).await?;
        let (report, rows_of) = self.document(&tx, reader, request).await?;
        let stem = report.reference.clone();
        let rows = match rows_of {
            Rows::Statement(head) => {
                let zone = period::zone(&head.merchant.time_zone)?;
                let lines = statement::lines(&tx, &head, None, None).await?;
                let opening = documents::statement_balance(&head, true);
                let closing = documents::statement_balance(&head, false);
                let body =
                    render::batched(lines, move |line| documents::statement_line(line, &zone));
                let all = stream::iter([Ok(vec![opening])])
                    .chain(body)
                    .chain(stream::iter([Ok(vec![closing])]));
                render::write(format, report, all, out, progress).await?
            }
            Rows::Transactions(scope) => {
                let zone = period::zone(&scope.merchant.time_zone)?;
                let pages =
                    stream::try_unfold(Some(None), |after: Option<Option<TransactionKey>>| {
                        let (scope, tx, zone) = (&scope, &tx, zone.clone());
                        async move {
                            let Some(after) = after else { return Ok(None) };
                            let rows = crate::store::transactions::list(
                                tx,
                                scope.merchant.id,
                                &scope.filter,
                                after,
                                TRANSACTION_PAGE_ROWS,
                            )
                            .await?;
                            if rows.is_empty() {
                                return Ok(None);
                            }
                            let next = rows.last().map(transactions::key_of);
                            let full =
                                rows.len() == usize::try_from(TRANSACTION_PAGE_ROWS).unwrap_or(0);
                            let cells: Vec<Vec<Cell>> = rows
                                .iter()
                                .map(|row| documents::transaction(row, &zone))
                                .collect();
                            Ok::<_, AppError>(Some((cells, full.then_some(next))))
                        }
                    });
                render::write(format, report, pages, out, progress).await?
            }
            Rows::Batch(head) => {
                let zone = period::zone(&head.merchant.time_zone)?;
                let lines = batch_statement::lines(&tx, &head, 0, i64::MAX).await?;
                let body = render::batched(lines, move |line| documents::reconciled(line, &zone));
                render::write(format, report, body, out, progress).await?
            }
            Rows::Analytics(cells) => {
                render::write(format, report, stream::iter([Ok(cells)]), out, progress).await?
            }
        };
        tx.commit().await?;
        Ok(Written {
            rows,
            file_name: render::file_name(&stem, format),
        })
    }

    /// The report's document, and where its rows come from.
    async fn document(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        reader: Reader,
        request: &ReportRequest,
    ) -> Result<(Report, Rows), AppError> {
        let now = Timestamp::now();
        Ok(match request {
            ReportRequest::Statement { from, to } => {
                let head = statement::head(client, reader.merchant()?, from, to).await?;
                (documents::statement(&head), Rows::Statement(head))
            }
            ReportRequest::Transactions { filters } => {
                let scope = self.transaction_scope_on(client, reader, filters).await?;
                let totals =
                    crate::store::transactions::totals(client, scope.merchant.id, &scope.filter)
                        .await?;
                (
                    documents::transactions(&scope, &totals, now),
                    Rows::Transactions(scope),
                )
            }
            ReportRequest::BatchStatement { batch } => {
                let head = batch_statement::head(client, reader.merchant()?, *batch).await?;
                (documents::batch_statement(&head), Rows::Batch(head))
            }
            ReportRequest::Analytics {
                from,
                to,
                granularity,
            } => {
                let report = self
                    .analytics_on(client, reader, from, to, granularity)
                    .await?;
                let cells = report
                    .periods
                    .iter()
                    .map(documents::analytics_period)
                    .collect();
                (documents::analytics(&report, now), Rows::Analytics(cells))
            }
        })
    }
}

/// Where a document's rows come from.
enum Rows {
    Statement(statement::StatementHead),
    Transactions(transactions::TransactionScope),
    Batch(batch_statement::BatchStatementHead),
    Analytics(Vec<Vec<Cell>>),
}
