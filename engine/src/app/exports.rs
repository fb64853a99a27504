//! Background exports: a report too large to answer at once is asked for, made by
//! whichever node's runner claims it, kept seven days and listed meanwhile (the portal's
//! history page). A job is claimed under a lease: a node that dies mid-file leaves it to be
//! claimed again, and the file is stored with its `ready` in one transaction, so a
//! half-written file is never served. A merchant's exports are its own: another's are not
//! found.

use std::io::Write;

use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::caller::{Caller, READERS, Reader};
use super::reports::ReportRequest;
use super::{App, AppError};
use crate::export::Format;
use crate::ids::ExportId;
pub use crate::store::exports::Export;
use crate::store::exports::{self, CHUNK_BYTES, ExportFile, NewExport};

/// Days a file is kept before it is removed.
pub const EXPORT_KEEP_DAYS: i32 = 7;

/// How long a node holds a job before another may take it over: far longer than the
/// largest file takes (a million rows as XLSX: about 15 s).
pub const EXPORT_LEASE_SECONDS: i32 = 600;

/// Attempts at one job before it is given up as failed.
pub const EXPORT_ATTEMPTS_MAX: i32 = 3;

impl App {
    /// Asks for a report file made in the background; the request is checked now (period,
    /// filters, the batch being the merchant's), so a bad one is refused at once.
    pub async fn request_export(
        &self,
        caller: &Caller,
        request: &ReportRequest,
        format: Format,
    ) -> Result<Export, AppError> {
        caller.require(READERS)?;
        self.check_report(Reader::Key(*caller), request).await?;
        let parameters = serde_json::to_value(request).map_err(AppError::internal)?;
        let new = NewExport {
            id: ExportId::new(),
            merchant: caller.merchant,
            report: request.name(),
            format: format.extension(),
            parameters,
            created_by: Some(caller.key),
        };
        let export = exports::insert(&self.pool.get().await?, &new).await?;
        self.export_asked.notify_one();
        Ok(export)
    }

    /// Returns when this process has asked for an export since the last call.
    pub async fn export_asked(&self) {
        self.export_asked.notified().await;
    }

    /// One of the caller's merchant's exports.
    pub async fn export(&self, caller: &Caller, id: ExportId) -> Result<Export, AppError> {
        caller.require(READERS)?;
        Ok(exports::get(&self.pool.get().await?, caller.merchant, id).await?)
    }

    /// The merchant's exports, newest first, before `before`.
    pub async fn exports(
        &self,
        caller: &Caller,
        before: Option<ExportId>,
        limit: i64,
    ) -> Result<Vec<Export>, AppError> {
        caller.require(READERS)?;
        Ok(exports::list(&self.pool.get().await?, caller.merchant, before, limit).await?)
    }

    /// Chunk `seq` of a ready export's file (`None` past the last).
    pub async fn export_chunk(
        &self,
        export: &Export,
        seq: i32,
    ) -> Result<Option<Vec<u8>>, AppError> {
        Ok(exports::chunk(&self.pool.get().await?, export.id, seq).await?)
    }

    /// Makes the oldest waiting export, if any; returns it as it ended.
    pub async fn run_next_export(&self) -> Result<Option<Export>, AppError> {
        let client = self.pool.get().await?;
        let Some(export) = exports::claim(&client, EXPORT_LEASE_SECONDS).await? else {
            return Ok(None);
        };
        if export.attempts > EXPORT_ATTEMPTS_MAX {
            let why = format!("given up after {EXPORT_ATTEMPTS_MAX} attempts");
            exports::fail(&client, export.merchant, export.id, &why).await?;
            return Ok(Some(
                exports::get(&client, export.merchant, export.id).await?,
            ));
        }
        drop(client);
        match self.make_export(&export).await {
            Ok(ready) => Ok(Some(ready)),
            Err(AppError::Internal(cause)) => {
                // Leave it to its lease: another attempt may succeed where this one broke.
                tracing::error!(export = %export.id, error = %cause, "an export failed; it will be tried again");
                Err(AppError::Internal(cause))
            }
            Err(refused) => {
                let client = self.pool.get().await?;
                exports::fail(&client, export.merchant, export.id, &refused.to_string()).await?;
                Ok(Some(
                    exports::get(&client, export.merchant, export.id).await?,
                ))
            }
        }
    }

    /// Removes the files of exports past their keeping; returns how many.
    pub async fn expire_exports(&self) -> Result<u64, AppError> {
        Ok(exports::expire(&self.pool.get().await?).await?)
    }

    /// Writes the file and stores it in chunks as it is written (one COPY, on a second
    /// connection), then marks it ready in the transaction that stored the chunks.
    async fn make_export(&self, export: &Export) -> Result<Export, AppError> {
        let request: ReportRequest =
            serde_json::from_value(export.parameters.clone()).map_err(AppError::internal)?;
        let format: Format = export.format.parse().map_err(AppError::internal)?;
        let started = std::time::Instant::now();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // It waits on the report's rendering between its statements.
        tx.batch_execute(crate::store::pool::LONG_TRANSACTION)
            .await?;
        let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let mut hasher = Sha256::new();
        let mut bytes = 0_i64;
        let chunks = stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
        .inspect(|chunk: &Vec<u8>| {
            hasher.update(chunk);
            bytes += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        })
        .map(Ok::<_, AppError>);
        let (written, stored) = tokio::join!(
            self.write_report(
                Reader::Operator(export.merchant),
                &request,
                format,
                ChunkSink::new(sender),
                &|_| {},
            ),
            exports::store_chunks(&tx, export.id, chunks),
        );
        // A failed COPY fails the writer too (its chunks have nowhere to go): its own error
        // is the cause, so it comes first.
        stored?;
        let written = written?;
        let sha256 = hasher.finalize().to_vec();
        let file = ExportFile {
            name: &written.file_name,
            rows: i64::try_from(written.rows).unwrap_or(i64::MAX),
            bytes,
            sha256: &sha256,
        };
        let ready = exports::finish(&tx, export, file, EXPORT_KEEP_DAYS).await?;
        tx.commit().await?;
        tracing::info!(
            export = %ready.id,
            rows = written.rows,
            bytes,
            seconds = started.elapsed().as_secs_f64(),
            "export ready"
        );
        Ok(ready)
    }
}

/// Chunks on their way from the file's writer to the COPY that stores them.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The file's writer's output, cut into `CHUNK_BYTES` chunks and handed to the COPY; the
/// last, shorter chunk goes when the writer is done with it (dropped). Used from the
/// writer's blocking thread.
struct ChunkSink {
    chunk: Vec<u8>,
    sender: mpsc::Sender<Vec<u8>>,
}

impl ChunkSink {
    fn new(sender: mpsc::Sender<Vec<u8>>) -> ChunkSink {
        ChunkSink {
            chunk: Vec::with_capacity(CHUNK_BYTES),
            sender,
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK_BYTES));
        self.sender
            .blocking_send(full)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the COPY ended"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let taken = bytes.len().min(CHUNK_BYTES - self.chunk.len());
        self.chunk.extend_from_slice(&bytes[..taken]);
        if self.chunk.len() == CHUNK_BYTES {
            self.send()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ChunkSink {
    fn drop(&mut self) {
        if !self.chunk.is_empty() {
            // A failure here ended the COPY too, and the export fails with it.
            let _ = self.send();
        }
    }
}
