//! Exports made in the background: the job (which report, its parameters, its format),
//! claimed by one node at a time under a lease; the file kept in chunks, written with the
//! job's `ready` in one transaction (a file is whole or absent), and removed at expiry.

use deadpool_postgres::{Client, GenericClient, Transaction};
use jiff::Timestamp;
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::StoreError;
use crate::ids::{ApiKeyId, ExportId, MerchantId};

/// A read-only snapshot in which a report file is written, so that its header, lines and
/// totals agree. (Like every connection of the pools, without JIT: compiling a report's
/// queries cost about half a second of a one-million-line statement, docs/benchmarks.md.)
pub async fn report_snapshot(client: &mut Client) -> Result<Transaction<'_>, StoreError> {
    Ok(client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    pub id: ExportId,
    pub merchant: MerchantId,
    /// `statement`, `transactions`, `batch_statement` or `analytics`.
    pub report: String,
    /// `csv`, `xlsx` or `pdf`.
    pub format: String,
    pub parameters: Value,
    /// `queued`, `running`, `ready`, `failed` or `expired`.
    pub state: String,
    pub attempts: i32,
    pub failure: Option<String>,
    pub file_name: Option<String>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

/// A new job.
#[derive(Clone, Debug)]
pub struct NewExport {
    pub id: ExportId,
    pub merchant: MerchantId,
    pub report: &'static str,
    pub format: &'static str,
    pub parameters: Value,
    pub created_by: Option<ApiKeyId>,
}

/// A finished file: its name, rows, size and digest, and where to read it.
#[derive(Debug)]
pub struct ExportFile<'a> {
    pub name: &'a str,
    pub rows: i64,
    pub bytes: i64,
    pub sha256: &'a [u8],
}

/// The size of one stored chunk of a file.
pub const CHUNK_BYTES: usize = 1 << 20;

const COLUMNS: &str = "id, merchant_id, report, format, parameters, state, attempts, failure,
                       file_name, rows, bytes, created_at, finished_at, expires_at";

pub async fn insert(client: &impl GenericClient, new: &NewExport) -> Result<Export, StoreError> {
    let sql = format!(
        "INSERT INTO exports (id, merchant_id, report, format, parameters, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let row = client
        .query_one(
            &sql,
            &[
                &new.id,
                &new.merchant,
                &new.report,
                &new.format,
                &new.parameters,
                &new.created_by,
            ],
        )
        .await?;
    from_row(&row)
}

/// One of the merchant's exports.
pub async fn get(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: ExportId,
) -> Result<Export, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM exports WHERE merchant_id = $1 AND id = $2");
    let row = client
        .query_opt(&sql, &[&merchant, &id])
        .await?
        .ok_or(StoreError::NotFound { what: "export" })?;
    from_row(&row)
}

/// The merchant's exports, newest first, before `before`.
pub async fn list(
    client: &impl GenericClient,
    merchant: MerchantId,
    before: Option<ExportId>,
    limit: i64,
) -> Result<Vec<Export>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exports
          WHERE merchant_id = $1 AND ($2::uuid IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3"
    );
    let rows = client.query(&sql, &[&merchant, &before, &limit]).await?;
    rows.iter().map(from_row).collect()
}

/// Takes the oldest job waiting, or one whose node stopped holding it (its lease ran out),
/// for `lease_seconds`; counts the attempt.
pub async fn claim(
    client: &impl GenericClient,
    lease_seconds: i32,
) -> Result<Option<Export>, StoreError> {
    let sql = format!(
        "UPDATE exports SET state = 'running', attempts = attempts + 1,
                lease_until = now() + make_interval(secs => $1::int)
          WHERE id = (SELECT id FROM exports
                       WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}"
    );
    let row = client.query_opt(&sql, &[&lease_seconds]).await?;
    row.as_ref().map(from_row).transpose()
}

/// Ends a job that cannot be made, with why.
pub async fn fail(
    client: &impl GenericClient,
    merchant: MerchantId,
    id: ExportId,
    failure: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE exports SET state = 'failed', failure = $2, finished_at = now(),
                    lease_until = NULL
              WHERE id = $1 AND merchant_id = $3 AND state = 'running'",
            &[&id, &failure, &merchant],
        )
        .await?;
    Ok(())
}

/// Stores a file's chunks, as they come from `chunks`, in one binary COPY: no round trip
/// per chunk. Returns the number of chunks.
pub async fn store_chunks<E>(
    tx: &Transaction<'_>,
    id: ExportId,
    chunks: impl futures_util::Stream<Item = Result<Vec<u8>, E>>,
) -> Result<i32, E>
where
    E: From<StoreError>,
{
    let sink = tx
        .copy_in("COPY export_chunks (export_id, seq, data) FROM STDIN (FORMAT binary)")
        .await
        .map_err(StoreError::from)?;
    let types = [Type::UUID, Type::INT4, Type::BYTEA];
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
    let mut chunks = std::pin::pin!(chunks);
    let mut seq = 0_i32;
    while let Some(chunk) = futures_util::StreamExt::next(&mut chunks).await {
        let chunk = chunk?;
        let row: [&(dyn ToSql + Sync); 3] = [&id, &seq, &chunk];
        writer
            .as_mut()
            .write(&row)
            .await
            .map_err(StoreError::from)?;
        seq += 1;
    }
    writer.as_mut().finish().await.map_err(StoreError::from)?;
    Ok(seq)
}

/// Marks the job ready, its chunks stored in this transaction, until `keep_days` from now,
/// with an `export.ready` webhook for a merchant that has an endpoint. Nothing is written
/// if the job is no longer this node's (`StaleState`).
pub async fn finish(
    tx: &Transaction<'_>,
    export: &Export,
    file: ExportFile<'_>,
    keep_days: i32,
) -> Result<Export, StoreError> {
    let bytes = file.bytes;
    let sql = format!(
        "UPDATE exports SET state = 'ready', file_name = $2, rows = $3, bytes = $4,
                sha256 = $5, finished_at = clock_timestamp(), lease_until = NULL,
                expires_at = clock_timestamp() + make_interval(days => $6)
          WHERE id = $1 AND merchant_id = $8 AND state = 'running' AND attempts = $7
         RETURNING {COLUMNS}"
    );
    let row = tx
        .query_opt(
            &sql,
            &[
                &export.id,
                &file.name,
                &file.rows,
                &bytes,
                &file.sha256,
                &keep_days,
                &export.attempts,
                &export.merchant,
            ],
        )
        .await?
        .ok_or(StoreError::StaleState {
            what: "export",
            expected: "running",
        })?;
    let ready = from_row(&row)?;
    tx.execute(
        "INSERT INTO webhook_events (merchant_id, event_type, payload)
         SELECT m.id, 'export.ready',
                jsonb_build_object(
                    'type', 'export.ready',
                    'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    'data', jsonb_build_object(
                        'id', $2::uuid, 'report', $3::text, 'format', $4::text,
                        'rows', $5::bigint, 'bytes', $6::bigint,
                        'download_url', '/v1/exports/' || $2::text || '/file',
                        'expires_at', to_char($7::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')))
           FROM merchants m WHERE m.id = $1 AND m.webhook_url IS NOT NULL",
        &[
            &ready.merchant,
            &ready.id,
            &ready.report,
            &ready.format,
            &file.rows,
            &bytes,
            &ready.expires_at,
        ],
    )
    .await?;
    Ok(ready)
}

/// The file's chunks, in order.
pub async fn chunk(
    client: &impl GenericClient,
    id: ExportId,
    seq: i32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = client
        .query_opt(
            "SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2",
            &[&id, &seq],
        )
        .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

/// Removes the files of exports past their expiry; returns how many.
pub async fn expire(client: &impl GenericClient) -> Result<u64, StoreError> {
    let rows = client
        .query(
            "UPDATE exports SET state = 'expired'
              WHERE state = 'ready' AND expires_at < now() RETURNING id",
            &[],
        )
        .await?;
    let ids: Vec<ExportId> = rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    if !ids.is_empty() {
        client
            .execute(
                "DELETE FROM export_chunks WHERE export_id = ANY($1)",
                &[&ids],
            )
            .await?;
    }
    Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
}

fn from_row(row: &Row) -> Result<Export, StoreError> {
    Ok(Export {
        id: row.try_get(0)?,
        merchant: row.try_get(1)?,
        report: row.try_get(2)?,
        format: row.try_get(3)?,
        parameters: row.try_get(4)?,
        state: row.try_get(5)?,
        attempts: row.try_get(6)?,
        failure: row.try_get(7)?,
        file_name: row.try_get(8)?,
        rows: row.try_get(9)?,
        bytes: row.try_get(10)?,
        created_at: row.try_get(11)?,
        finished_at: row.try_get(12)?,
        expires_at: row.try_get(13)?,
    })
}
