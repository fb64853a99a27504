//! Background exports: a report too large to answer at once is asked for, made by
//! whichever node's runner claims it, kept seven days and listed meanwhile (the portal's
//! history page). A job is claimed under a lease: a node that dies mid-file leaves it to be
//! claimed again, and the file is stored with its `ready` in one transaction, so a
//! half-written file is never served. A merchant's exports are its own: another's are not
//! found.

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

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
            exports::fail(&client, export.id, &why).await?;
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
                exports::fail(&client, export.id, &refused.to_string()).await?;
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

    /// Writes the file to a temporary file, then stores it in chunks and marks it ready in
    /// one transaction. (Storing chunks while the writer went on was slower: on two cores
    /// the writer, the report's query and the inserts then compete.)
    async fn make_export(&self, export: &Export) -> Result<Export, AppError> {
        let request: ReportRequest =
            serde_json::from_value(export.parameters.clone()).map_err(AppError::internal)?;
        let format: Format = export.format.parse().map_err(AppError::internal)?;
        let file = tempfile::tempfile().map_err(AppError::internal)?;
        let out = file.try_clone().map_err(AppError::internal)?;
        let written = self
            .write_report(
                Reader::Operator(export.merchant),
                &request,
                format,
                out,
                &|_| {},
            )
            .await?;
        let mut contents = tokio::fs::File::from_std(file);
        contents.rewind().await.map_err(AppError::internal)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut hasher = Sha256::new();
        let (mut seq, mut bytes) = (0, 0_i64);
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_BYTES);
            let read = (&mut contents)
                .take(u64::try_from(CHUNK_BYTES).unwrap_or(u64::MAX))
                .read_to_end(&mut chunk)
                .await
                .map_err(AppError::internal)?;
            if read == 0 {
                break;
            }
            hasher.update(&chunk);
            exports::store_chunk(&tx, export.id, seq, &chunk).await?;
            bytes += i64::try_from(read).unwrap_or(i64::MAX);
            seq += 1;
        }
        let sha256 = hasher.finalize().to_vec();
        let file = ExportFile {
            name: &written.file_name,
            rows: i64::try_from(written.rows).unwrap_or(i64::MAX),
            bytes,
            sha256: &sha256,
        };
        let ready = exports::finish(&tx, export, file, EXPORT_KEEP_DAYS).await?;
        tx.commit().await?;
        tracing::info!(export = %ready.id, rows = written.rows, bytes, "export ready");
        Ok(ready)
    }
}
