//! Writing an upload as it is read: each line is checked, and good lines stream into one
//! binary COPY inside a savepoint, so PostgreSQL stores lines while the next ones are read
//! and checked. The first bad line aborts the COPY (the rest are still checked, for the
//! report). At the end the batch is either valid (lines kept, counted and summed) or
//! `invalid` (lines rolled back, report stored).

use deadpool_postgres::Transaction;
use payrail_engine::ids::{BatchId, MerchantId};
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::batch_decisions;
use payrail_engine::store::batches::{self, Batch};
use payrail_engine::store::line_errors::LineError;
use payrail_engine::store::payout_lines::LineWriter;

use crate::lines::{LineChecker, RawLine};
use crate::problem::ApiError;

/// Errors kept for the report; the count goes on past it.
pub const REPORTED_ERRORS_MAX: usize = 10_000;
/// Errors shown in the upload's own answer; the rest are at `/v1/batches/{id}/errors`.
const INLINE_ERRORS_MAX: usize = 100;

/// An upload in progress, inside the request's transaction.
#[derive(Debug)]
pub struct Upload<'c> {
    merchant: MerchantId,
    batch: BatchId,
    checker: LineChecker<'c>,
    /// The COPY, while every line so far is good.
    writer: Option<LineWriter>,
    errors: Vec<LineError>,
    error_count: i32,
    line_count: i32,
}

/// How an upload ended.
#[derive(Debug)]
pub enum Uploaded {
    /// Every line is good: the batch is `validating` with its lines counted and summed.
    Valid(Batch),
    /// Some lines are bad: the batch is `invalid`; these are the first errors.
    Invalid {
        batch: Batch,
        errors: Vec<LineError>,
    },
}

impl<'c> Upload<'c> {
    /// Starts an upload whose lines are written in the savepoint `lines`.
    pub async fn start(
        lines: &Transaction<'_>,
        merchant: MerchantId,
        batch: BatchId,
        checker: LineChecker<'c>,
    ) -> Result<Upload<'c>, ApiError> {
        let writer = LineWriter::open(lines, merchant, batch, PayoutState::Validated)
            .await
            .map_err(ApiError::internal)?;
        Ok(Upload {
            merchant,
            batch,
            checker,
            writer: Some(writer),
            errors: Vec::new(),
            error_count: 0,
            line_count: 0,
        })
    }

    /// Checks one line and, while every line so far is good, writes it.
    pub async fn line(&mut self, line_no: i32, raw: RawLine<'_>) -> Result<(), ApiError> {
        self.line_count += 1;
        match self.checker.check(line_no, raw) {
            Ok(line) => {
                if let Some(writer) = &mut self.writer {
                    writer.write(&line).await.map_err(ApiError::internal)?;
                }
            }
            Err(errors) => {
                self.error_count += 1;
                // Dropping the COPY aborts it; the savepoint is rolled back in `close`.
                self.writer = None;
                let room = REPORTED_ERRORS_MAX.saturating_sub(self.errors.len());
                self.errors.extend(errors.into_iter().take(room));
            }
        }
        Ok(())
    }

    /// Closes the savepoint `lines` the lines were written in: committed when every line
    /// is good, rolled back otherwise.
    pub async fn close(mut self, lines: Transaction<'_>) -> Result<Closed<'c>, ApiError> {
        if self.line_count == 0 {
            return Err(ApiError::invalid_field(
                "lines",
                "the upload has no payout lines",
            ));
        }
        if let Some(writer) = self.writer.take() {
            writer.finish().await.map_err(ApiError::internal)?;
            lines.commit().await.map_err(ApiError::internal)?;
        } else {
            lines.rollback().await.map_err(ApiError::internal)?;
        }
        Ok(Closed(self))
    }
}

/// An upload whose lines are written (or rolled back), to be recorded on its batch.
#[derive(Debug)]
pub struct Closed<'c>(Upload<'c>);

impl Closed<'_> {
    /// Counts and sums the batch's lines, or refuses it as `invalid` with its report.
    pub async fn record(self, tx: &Transaction<'_>) -> Result<Uploaded, ApiError> {
        let Closed(mut upload) = self;
        let batch = batches::finish_upload(tx, upload.merchant, upload.batch)
            .await
            .map_err(ApiError::internal)?;
        if upload.error_count == 0 {
            return Ok(Uploaded::Valid(batch));
        }
        batch_decisions::invalidate(
            tx,
            upload.merchant,
            upload.batch,
            upload.line_count,
            upload.error_count,
            &upload.errors,
        )
        .await
        .map_err(ApiError::internal)?;
        metrics::counter!(payrail_engine::metrics::BATCHES, "outcome" => "invalid").increment(1);
        let batch = batches::get(tx, upload.merchant, upload.batch)
            .await
            .map_err(ApiError::internal)?;
        upload.errors.truncate(INLINE_ERRORS_MAX);
        Ok(Uploaded::Invalid {
            batch,
            errors: upload.errors,
        })
    }
}
