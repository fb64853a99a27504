//! Submitting a payroll: a file (CSV by `payroll_csv`'s rules, or a JSON list) read as a
//! stream, each line checked and written as it arrives (`writer`), the file hashed as it
//! passes so that the same file twice is recognised, and the batch then either waiting for
//! approval, scheduled, or refused as `invalid` with its whole report. The same use case
//! serves the API, the portal and `payrail batch submit`.
//!
//! - `writer`: lines into one COPY, or errors into the report
//! - `csv`: a CSV body's lines, by the strict rules
//! - `json`: a JSON body's lines, parsed on a blocking thread
//! - `preview`: a file checked without keeping anything, for the portal's preview

mod csv;
mod json;
mod preview;
mod writer;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

pub use self::json::JSON_LINE_MAX_BYTES;
pub use self::preview::{PayrollPreview, PreviewLine, draft_format};
use self::writer::{Upload, Uploaded};
use super::batches::BatchSummary;
use super::caller::Caller;
use super::idempotency::{self, Answered, IdempotencyKey, Lookup, Render};
use super::lines::{LineChecker, LineRules};
use super::{App, AppError};
use crate::api_key::Role;
use crate::ids::{ApiKeyId, MerchantId};
use crate::state::batch::{BatchEvent, BatchState};
use crate::store::batches::{self, Batch, BatchKind, NewBatch};
use crate::store::line_errors::LineError;
use crate::store::merchants::{self, Merchant};
pub use crate::store::payout_lines::RouteTotal;

/// The largest payroll file: a million lines fit in well under this.
pub const UPLOAD_LIMIT_BYTES: usize = 512 * 1024 * 1024;

/// How a payroll file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayrollFormat {
    Csv,
    Json,
}

impl PayrollFormat {
    fn name(self) -> &'static str {
        match self {
            PayrollFormat::Csv => "csv",
            PayrollFormat::Json => "json",
        }
    }
}

/// Who submits a payroll: a merchant's maker key (the API, the portal), or the node's
/// operator on the command line, who has no key (any checker may then approve it).
#[derive(Clone, Copy, Debug)]
pub enum Submitter {
    Caller(Caller),
    Operator(MerchantId),
}

impl Submitter {
    fn merchant(&self) -> MerchantId {
        match self {
            Submitter::Caller(caller) => caller.merchant,
            Submitter::Operator(merchant) => *merchant,
        }
    }

    fn key(&self) -> Option<ApiKeyId> {
        match self {
            Submitter::Caller(caller) => Some(caller.key),
            Submitter::Operator(_) => None,
        }
    }
}

/// A payroll as submitted.
#[derive(Clone, Debug)]
pub struct Payroll {
    pub format: PayrollFormat,
    /// Accept a file already submitted in the last 30 days.
    pub allow_duplicate: bool,
    pub key: Option<IdempotencyKey>,
}

/// What came of a submission.
#[derive(Clone, Debug)]
pub enum Submitted {
    /// Every line is good: the batch waits for approval or is scheduled.
    Valid(BatchSummary),
    /// Some lines are bad: the batch is `invalid`; these are its first errors.
    Invalid {
        batch: Batch,
        errors: Vec<LineError>,
    },
}

impl App {
    /// Reads, checks and writes a payroll in one transaction that also stores the answer
    /// under the key; a batch that may run now goes to the engine.
    pub async fn submit_payroll(
        &self,
        submitter: Submitter,
        payroll: &Payroll,
        file: impl AsyncRead + Send + Unpin + 'static,
        render: Render<Submitted>,
    ) -> Result<Answered, AppError> {
        if let Submitter::Caller(caller) = submitter {
            caller.require(&[Role::Maker])?;
        }
        let merchant = merchants::get(&self.pool.get().await?, submitter.merchant()).await?;
        let claim = match &payroll.key {
            None => None,
            Some(key) => match idempotency::claim(&self.pool, merchant.id, key).await? {
                Lookup::Done(stored) => {
                    let sha = hash_only(file).await?;
                    return stored.replay(&fingerprint(payroll, &sha));
                }
                Lookup::Claimed(claim) => Some(claim),
            },
        };
        match self
            .write_payroll(submitter, &merchant, payroll, file, render, claim.as_ref())
            .await
        {
            Ok((answered, scheduled)) => {
                if let Some(batch) = scheduled {
                    self.engine.run_batch(merchant.id, batch.batch.id);
                }
                Ok(answered)
            }
            Err(error) => {
                if let Some(claim) = claim {
                    claim.release(&self.pool).await;
                }
                Err(error)
            }
        }
    }

    /// The submission's transaction; returns the answer and the batch when it may run now.
    async fn write_payroll(
        &self,
        submitter: Submitter,
        merchant: &Merchant,
        payroll: &Payroll,
        file: impl AsyncRead + Send + Unpin + 'static,
        render: Render<Submitted>,
        claim: Option<&idempotency::Claim>,
    ) -> Result<(Answered, Option<BatchSummary>), AppError> {
        // The whole file is written on one connection: a bulk one.
        let mut client = self.bulk_pool.get().await?;
        let tx = client.transaction().await?;
        // It waits on the client's upload between its statements.
        tx.batch_execute(crate::store::pool::LONG_TRANSACTION)
            .await?;
        let new = NewBatch {
            kind: BatchKind::Batch,
            created_by: submitter.key(),
            ..NewBatch::new(merchant.id, merchant.currency)
        };
        batches::insert(&tx, &new).await?;
        let rules = LineRules {
            country: self.settings.country,
            routes: &self.settings.routes,
            currency: merchant.currency,
            fee: merchant.fees.payout_fee(),
        };
        let mut upload = Upload::start(&tx, merchant.id, new.id, LineChecker::new(rules)).await?;
        let hash = FileHash::default();
        let reader = Hashed {
            inner: file,
            hash: hash.clone(),
        };
        let read = match payroll.format {
            PayrollFormat::Csv => csv::read(reader, &mut upload).await,
            PayrollFormat::Json => json::read(reader, &mut upload).await,
        };
        if let Err(refused) = read {
            upload.abandon().await;
            return Err(refused);
        }
        let file_sha256 = hash.finish();
        let uploaded = upload.finish().await?;
        if !payroll.allow_duplicate
            && let Some(first) = batches::same_file(&tx, merchant.id, &file_sha256, new.id).await?
        {
            return Err(AppError::Conflict {
                name: "duplicate-file",
                detail: format!(
                    "this file was already uploaded as batch {first} in the last 30 days; upload it again with ?allow_duplicate=true if you mean to pay it twice"
                ),
                link: Some(format!("/v1/batches/{first}")),
            });
        }
        batches::record_file(&tx, merchant.id, new.id, &file_sha256).await?;
        let (submitted, scheduled) = match uploaded {
            Uploaded::Valid(batch) => {
                let event = if needs_approval(merchant, &batch) {
                    BatchEvent::RequireApproval
                } else {
                    BatchEvent::Schedule
                };
                batches::transition(&tx, merchant.id, batch.id, batch.state, event).await?;
                let summary = BatchSummary::read(&tx, merchant.id, batch.id).await?;
                let scheduled =
                    (summary.batch.state == BatchState::Scheduled).then(|| summary.clone());
                (Submitted::Valid(summary), scheduled)
            }
            Uploaded::Invalid { batch, errors } => (Submitted::Invalid { batch, errors }, None),
        };
        let answer = render(&submitted)?;
        if let Some(claim) = claim {
            claim
                .finish(&tx, &fingerprint(payroll, &file_sha256), &answer)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(batch_id = %new.id, status = answer.status, "batch uploaded");
        Ok((
            Answered {
                answer,
                replayed: false,
            },
            scheduled,
        ))
    }
}

/// Four eyes: `approval_threshold` unset never asks; otherwise a total above it does
/// (zero: every batch).
fn needs_approval(merchant: &Merchant, batch: &Batch) -> bool {
    merchant
        .approval_threshold
        .is_some_and(|threshold| batch.total_amount > threshold)
}

/// What makes two submissions "the same request" for their idempotency key.
fn fingerprint(payroll: &Payroll, file_sha256: &[u8; 32]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"POST /v1/batches\0");
    hash.update(payroll.format.name());
    hash.update([u8::from(payroll.allow_duplicate)]);
    hash.update(file_sha256);
    hash.finalize().into()
}

/// Reads a file to its end only to hash it (a replayed submission is compared, not read).
async fn hash_only(file: impl AsyncRead + Unpin) -> Result<[u8; 32], AppError> {
    let hash = FileHash::default();
    let mut reader = Hashed {
        inner: file,
        hash: hash.clone(),
    };
    tokio::io::copy(&mut reader, &mut tokio::io::sink())
        .await
        .map_err(read_error)?;
    Ok(hash.finish())
}

/// The refusal for a file that could not be read.
fn read_error(error: io::Error) -> AppError {
    if error.kind() == io::ErrorKind::FileTooLarge {
        AppError::TooLarge(format!(
            "a payroll file may be at most {} MiB",
            UPLOAD_LIMIT_BYTES / (1024 * 1024)
        ))
    } else {
        AppError::malformed(
            "unreadable-body",
            format!("the file could not be read: {error}"),
        )
    }
}

/// The file's SHA-256, taken as it is read.
#[derive(Clone, Debug, Default)]
struct FileHash(Arc<Mutex<Sha256>>);

impl FileHash {
    fn finish(&self) -> [u8; 32] {
        match self.0.lock() {
            Ok(hash) => hash.clone().finalize().into(),
            Err(poisoned) => poisoned.into_inner().clone().finalize().into(),
        }
    }

    fn update(&self, bytes: &[u8]) {
        match self.0.lock() {
            Ok(mut hash) => hash.update(bytes),
            Err(poisoned) => poisoned.into_inner().update(bytes),
        }
    }
}

/// A reader that hashes what passes through it.
struct Hashed<R> {
    inner: R,
    hash: FileHash,
}

impl<R: AsyncRead + Unpin> AsyncRead for Hashed<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            self.hash.update(&buf.filled()[before..]);
        }
        polled
    }
}
