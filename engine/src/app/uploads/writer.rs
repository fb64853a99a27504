//! Writing an upload as it is read: each line is checked, and good lines stream into one
//! binary COPY inside a savepoint, so PostgreSQL stores lines while the next ones are read
//! and checked. At the first bad line the COPY is ended and the savepoint rolled back
//! (quietly: nothing goes to the server's log), and from then on every error streams into
//! the report instead, while the rest of the file is still checked. At the end the batch
//! is either valid (lines kept, counted and summed) or `invalid` (no line kept, the whole
//! report stored).

use deadpool_postgres::Transaction;

use crate::app::AppError;
use crate::app::lines::{LineChecker, RawLine};
use crate::ids::{BatchId, MerchantId};
use crate::state::payout::PayoutState;
use crate::store::batch_decisions;
use crate::store::batches::{self, Batch};
use crate::store::line_errors::{ErrorWriter, LineError};
use crate::store::payout_lines::LineWriter;

/// Errors kept for the submission's own answer; the whole report is in the store
/// (`App::batch_errors`).
const INLINE_ERRORS_MAX: usize = 100;

/// Where the upload's lines go while they are written.
const SAVEPOINT: &str = "upload_lines";

/// Where what is read goes now.
#[derive(Debug)]
enum Sink {
    /// Nothing read yet: the COPY opens with the first good line.
    Unopened,
    /// Every line so far is good: lines go into the COPY.
    Lines(LineWriter),
    /// A line was bad: errors go into the report.
    Errors(ErrorWriter),
}

/// An upload in progress, inside the request's transaction.
#[derive(Debug)]
pub struct Upload<'t, 'c> {
    tx: &'t Transaction<'c>,
    merchant: MerchantId,
    batch: BatchId,
    checker: LineChecker<'t>,
    sink: Sink,
    /// The first errors, for the answer.
    shown: Vec<LineError>,
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

impl<'t, 'c> Upload<'t, 'c> {
    /// Starts an upload of the batch `batch`, already inserted in `tx`.
    pub async fn start(
        tx: &'t Transaction<'c>,
        merchant: MerchantId,
        batch: BatchId,
        checker: LineChecker<'t>,
    ) -> Result<Upload<'t, 'c>, AppError> {
        tx.batch_execute(&format!("SAVEPOINT {SAVEPOINT}"))
            .await
            .map_err(AppError::internal)?;
        Ok(Upload {
            tx,
            merchant,
            batch,
            checker,
            sink: Sink::Unopened,
            shown: Vec::new(),
            error_count: 0,
            line_count: 0,
        })
    }

    /// Checks one line and, while every line so far is good, writes it.
    pub async fn line(&mut self, line_no: i32, raw: RawLine<'_>) -> Result<(), AppError> {
        self.line_count += 1;
        match self.checker.check(line_no, raw) {
            Ok(line) => {
                if let Sink::Unopened = self.sink {
                    let writer = LineWriter::open(
                        self.tx,
                        self.merchant,
                        self.batch,
                        PayoutState::Validated,
                    )
                    .await
                    .map_err(AppError::internal)?;
                    self.sink = Sink::Lines(writer);
                }
                if let Sink::Lines(writer) = &mut self.sink {
                    writer.write(&line).await.map_err(AppError::internal)?;
                }
                Ok(())
            }
            Err(errors) => self.refuse(errors).await,
        }
    }

    /// Counts a line that could not even be split into its columns, with why.
    pub async fn unreadable_line(&mut self, line_no: i32, reason: String) -> Result<(), AppError> {
        self.line_count += 1;
        let error = LineError {
            line: line_no,
            field: "line".into(),
            reason,
        };
        self.refuse(vec![error]).await
    }

    /// Records a bad line's errors, switching from lines to the report at the first.
    async fn refuse(&mut self, errors: Vec<LineError>) -> Result<(), AppError> {
        self.error_count += 1;
        if !matches!(self.sink, Sink::Errors(_)) {
            if let Sink::Lines(writer) = std::mem::replace(&mut self.sink, Sink::Unopened) {
                // Ending the COPY and rolling back to the savepoint drops the lines
                // without the error that aborting a COPY writes into PostgreSQL's log.
                writer.finish().await.map_err(AppError::internal)?;
                self.tx
                    .batch_execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                    .await
                    .map_err(AppError::internal)?;
            }
            let report = ErrorWriter::open(self.tx, self.merchant, self.batch)
                .await
                .map_err(AppError::internal)?;
            self.sink = Sink::Errors(report);
        }
        if let Sink::Errors(report) = &mut self.sink {
            for error in &errors {
                report.write(error).await.map_err(AppError::internal)?;
            }
        }
        let room = INLINE_ERRORS_MAX.saturating_sub(self.shown.len());
        self.shown.extend(errors.into_iter().take(room));
        Ok(())
    }

    /// Ends the upload: the lines are kept when every one is good; otherwise the batch is
    /// `invalid` with its report. Either way the batch is counted and summed.
    pub async fn finish(mut self) -> Result<Uploaded, AppError> {
        if self.line_count == 0 {
            return Err(AppError::invalid_field(
                "lines",
                "the upload has no payout lines",
            ));
        }
        match std::mem::replace(&mut self.sink, Sink::Unopened) {
            Sink::Lines(writer) => {
                writer.finish().await.map_err(AppError::internal)?;
                self.tx
                    .batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                    .await
                    .map_err(AppError::internal)?;
            }
            Sink::Errors(report) => {
                report.finish().await.map_err(AppError::internal)?;
            }
            Sink::Unopened => {}
        }
        self.record().await
    }

    /// Ends the COPY of a file refused as a whole, so that the transaction rolls back
    /// without an aborted COPY in the server's log.
    pub async fn abandon(mut self) {
        let ended = match std::mem::replace(&mut self.sink, Sink::Unopened) {
            Sink::Lines(writer) => writer.finish().await,
            Sink::Errors(report) => report.finish().await,
            Sink::Unopened => Ok(0),
        };
        if let Err(error) = ended {
            tracing::debug!(%error, "ending the COPY of a refused upload");
        }
    }

    async fn record(self) -> Result<Uploaded, AppError> {
        let (tx, merchant, id) = (self.tx, self.merchant, self.batch);
        let batch = batches::finish_upload(tx, merchant, id)
            .await
            .map_err(AppError::internal)?;
        if self.error_count == 0 {
            return Ok(Uploaded::Valid(batch));
        }
        batch_decisions::invalidate(tx, merchant, id, self.line_count, self.error_count)
            .await
            .map_err(AppError::internal)?;
        metrics::counter!(crate::metrics::BATCHES, "outcome" => "invalid").increment(1);
        let batch = batches::get(tx, merchant, id)
            .await
            .map_err(AppError::internal)?;
        Ok(Uploaded::Invalid {
            batch,
            errors: self.shown,
        })
    }
}
