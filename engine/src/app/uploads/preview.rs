//! A payroll previewed before it is submitted: the file is checked by the same reader and
//! line checks as a submission, in a transaction that is rolled back, so nothing is kept
//! but the file itself (a draft, for its submission). The preview shows the first lines,
//! the totals and fees per route, whether it will wait for approval, and every bad line.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::writer::{Upload, Uploaded};
use super::{App, AppError, Caller, PayrollFormat, csv, json, needs_approval};
use crate::api_key::Role;
use crate::app::lines::{LineChecker, LineRules};
use crate::ids::{BatchId, MerchantId};
use crate::money::{Amount, Currency};
use crate::store::batches::{self, BatchKind, NewBatch};
use crate::store::line_errors::{self, ErrorCursor, LineError};
use crate::store::payout_lines::RouteTotal;
use crate::store::{merchants, payout_lines, payroll_drafts};

/// How a kept file is read: JSON when its name says so, CSV otherwise.
pub fn draft_format(file_name: &str) -> PayrollFormat {
    if file_name.to_ascii_lowercase().ends_with(".json") {
        PayrollFormat::Json
    } else {
        PayrollFormat::Csv
    }
}

/// The lines a preview shows.
pub const PREVIEW_LINES: i64 = 20;
/// The most bad lines a preview lists (the file is refused whole however many there are).
pub const PREVIEW_ERRORS: i64 = 5_000;

/// One good line as it will be paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewLine {
    pub line: i32,
    pub msisdn: String,
    pub amount: Amount,
    pub fee: Amount,
    pub route: String,
    pub name: Option<String>,
    pub reference: Option<String>,
}

/// What a submission of the file would do.
#[derive(Clone, Debug)]
pub struct PayrollPreview {
    /// The kept file, to submit.
    pub draft: Uuid,
    pub format: PayrollFormat,
    pub file_name: String,
    pub currency: Currency,
    pub line_count: i32,
    pub total_amount: Amount,
    pub total_fee: Amount,
    /// A four-eyes approval will be needed.
    pub needs_approval: bool,
    pub lines: Vec<PreviewLine>,
    pub routes: Vec<RouteTotal>,
    /// Every bad line (up to `PREVIEW_ERRORS`); the file can be submitted only when empty.
    pub errors: Vec<LineError>,
    pub error_count: i32,
    /// The same file was submitted in the last 30 days as this batch.
    pub duplicate_of: Option<BatchId>,
}

impl App {
    /// Keeps a payroll file for its preview and its submission (a day at most).
    pub async fn keep_payroll_draft(
        &self,
        caller: &Caller,
        file_name: &str,
        body: &[u8],
    ) -> Result<Uuid, AppError> {
        caller.require(&[Role::Maker])?;
        let client = self.pool.get().await?;
        Ok(payroll_drafts::keep(&client, caller.merchant, caller.key, file_name, body).await?)
    }

    /// Checks a kept payroll file as a submission would, keeping nothing, and answers
    /// what submitting it would do.
    pub async fn preview_payroll(
        &self,
        caller: &Caller,
        draft: Uuid,
    ) -> Result<PayrollPreview, AppError> {
        caller.require(&[Role::Maker])?;
        let mut client = self.bulk_pool.get().await?;
        let kept = payroll_drafts::get(&client, caller.merchant, caller.key, draft).await?;
        let format = draft_format(&kept.file_name);
        let body = kept.body;
        let merchant = merchants::get(&client, caller.merchant).await?;
        let file_sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
        let tx = client.transaction().await?;
        let new = NewBatch {
            kind: BatchKind::Batch,
            created_by: Some(caller.key),
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
        let reader = std::io::Cursor::new(body);
        let read = match format {
            PayrollFormat::Csv => csv::read(reader, &mut upload).await,
            PayrollFormat::Json => json::read(reader, &mut upload).await,
        };
        if let Err(refused) = read {
            upload.abandon().await;
            return Err(refused);
        }
        let (batch, error_count) = match upload.finish().await? {
            Uploaded::Valid(batch) => (batch, 0),
            Uploaded::Invalid { batch, .. } => {
                let count = batch.error_count;
                (batch, count)
            }
        };
        let first = ErrorCursor {
            line: 0,
            field: String::new(),
        };
        let errors = line_errors::page(&tx, merchant.id, new.id, &first, PREVIEW_ERRORS).await?;
        let lines = first_lines(&tx, merchant.id, new.id).await?;
        let routes = payout_lines::route_totals(&tx, merchant.id, new.id).await?;
        let duplicate_of = batches::same_file(&tx, merchant.id, &file_sha256, new.id).await?;
        tx.rollback().await?;
        Ok(PayrollPreview {
            draft,
            format,
            file_name: kept.file_name,
            currency: merchant.currency,
            line_count: batch.line_count,
            total_amount: batch.total_amount,
            total_fee: batch.total_fee,
            needs_approval: error_count == 0 && needs_approval(&merchant, &batch),
            lines,
            routes,
            errors,
            error_count,
            duplicate_of,
        })
    }

    /// The file of a preview, for its submission (which removes it).
    pub async fn payroll_draft(
        &self,
        caller: &Caller,
        draft: Uuid,
    ) -> Result<payroll_drafts::Draft, AppError> {
        caller.require(&[Role::Maker])?;
        let client = self.pool.get().await?;
        Ok(payroll_drafts::get(&client, caller.merchant, caller.key, draft).await?)
    }

    /// Forgets a preview's file (submitted, or abandoned), and every day-old one.
    pub async fn forget_payroll_draft(&self, caller: &Caller, draft: Uuid) -> Result<(), AppError> {
        let client = self.pool.get().await?;
        payroll_drafts::remove(&client, caller.merchant, draft).await?;
        Ok(())
    }
}

const FIRST_LINES: &str = "
    SELECT line_no, msisdn, amount, fee, route, name, client_reference FROM payout_lines
     WHERE batch_id = $1 AND merchant_id = $3 ORDER BY line_no LIMIT $2";

async fn first_lines(
    client: &impl GenericClient,
    merchant: MerchantId,
    batch: BatchId,
) -> Result<Vec<PreviewLine>, AppError> {
    let rows = client
        .query(FIRST_LINES, &[&batch, &PREVIEW_LINES, &merchant])
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PreviewLine {
                line: row.try_get(0)?,
                msisdn: row.try_get(1)?,
                amount: row.try_get(2)?,
                fee: row.try_get(3)?,
                route: row.try_get(4)?,
                name: row.try_get(5)?,
                reference: row.try_get(6)?,
            })
        })
        .collect()
}
