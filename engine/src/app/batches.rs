//! Payroll batches after they are submitted (`uploads`): read with their counts per line
//! state, listed, approved by a second person (never the key that created them), cancelled
//! (lines not yet sent stop and their funds return), their validation report read a page
//! at a time or whole, and their payouts listed. A batch that carries single payouts is
//! the engine's, not the merchant's: it is cancelled payout by payout.

use deadpool_postgres::GenericClient;
use futures_util::{Stream, TryStreamExt};

use super::caller::{Caller, READERS};
use super::idempotency::{self, Answered, IdempotencyKey, Render};
use super::{App, AppError};
use crate::api_key::Role;
use crate::ids::{BatchId, MerchantId};
use crate::msisdn::Msisdn;
use crate::state::batch::BatchState;
use crate::state::payout::PayoutState;
use crate::store::StoreError;
use crate::store::batch_decisions::{self, ApprovalError};
use crate::store::batches;
pub use crate::store::batches::{Batch, BatchKind};
use crate::store::line_errors;
pub use crate::store::line_errors::{ErrorCursor, LineError};
use crate::store::payout_lines;
pub use crate::store::payout_lines::{RouteTotal, StateCount};
use crate::store::payouts::{self, LineFilter, Payout};

/// A batch with its lines' counts and totals per state.
#[derive(Clone, Debug)]
pub struct BatchSummary {
    pub batch: Batch,
    pub counts: Vec<StateCount>,
}

impl BatchSummary {
    pub(crate) async fn read(
        client: &impl GenericClient,
        merchant: MerchantId,
        id: BatchId,
    ) -> Result<BatchSummary, AppError> {
        let batch = batches::get(client, merchant, id)
            .await
            .map_err(not_found)?;
        let counts = payout_lines::count_by_state(client, merchant, id).await?;
        Ok(BatchSummary { batch, counts })
    }
}

/// Which of a batch's payouts to list, as a front end received it.
#[derive(Clone, Debug, Default)]
pub struct PayoutQuery {
    pub state: Option<String>,
    /// Written any way a number may be written.
    pub msisdn: Option<String>,
    pub reference: Option<String>,
}

impl App {
    /// One of the caller's merchant's batches.
    pub async fn batch(&self, caller: &Caller, id: BatchId) -> Result<BatchSummary, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        BatchSummary::read(&client, caller.merchant, id).await
    }

    /// Any merchant's batch, for the node's operator (the command line).
    pub async fn batch_of_any_merchant(&self, id: BatchId) -> Result<BatchSummary, AppError> {
        let client = self.pool.get().await?;
        let merchant = batches::merchant_of(&client, id).await.map_err(not_found)?;
        BatchSummary::read(&client, merchant, id).await
    }

    /// Up to `limit` of the merchant's batches after id `after`, optionally in one state.
    pub async fn batches(
        &self,
        caller: &Caller,
        state: Option<&str>,
        after: Option<uuid::Uuid>,
        limit: i64,
    ) -> Result<Vec<BatchSummary>, AppError> {
        caller.require(READERS)?;
        let wanted = state
            .map(|name| {
                name.parse::<BatchState>().map_err(|_| {
                    AppError::invalid_field("state", format!("no batch state is called {name:?}"))
                })
            })
            .transpose()?;
        let client = self.pool.get().await?;
        let rows = batches::list(&client, caller.merchant, after, wanted, limit).await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for batch in rows {
            let counts = payout_lines::count_by_state(&client, caller.merchant, batch.id).await?;
            summaries.push(BatchSummary { batch, counts });
        }
        Ok(summaries)
    }

    /// Approves a batch awaiting approval (a checker other than the key that created it);
    /// it is then scheduled and goes to the engine.
    pub async fn approve_batch(
        &self,
        caller: &Caller,
        id: BatchId,
        note: Option<&str>,
        key: Option<&IdempotencyKey>,
        render: Render<BatchSummary>,
    ) -> Result<Answered, AppError> {
        caller.require(&[Role::Checker])?;
        let note = checked_note(note)?;
        let fingerprint = idempotency::fingerprint("POST /v1/batches/approve", &id)?;
        let merchant = caller.merchant;
        let (approved, answered) =
            idempotency::once(&self.pool, merchant, key, fingerprint, render, async |tx| {
                batch_decisions::approve(tx, merchant, id, caller.key)
                    .await
                    .map_err(|error| match error {
                        ApprovalError::OwnBatch => AppError::Forbidden {
                            role: caller.role,
                            needed: "a checker key other than the one that created the batch"
                                .into(),
                        },
                        ApprovalError::Store(store) => decision_error(store, "approved"),
                    })?;
                if let Some(note) = note {
                    batches::record_note(tx, merchant, id, note).await?;
                }
                BatchSummary::read(tx, merchant, id).await
            })
            .await?;
        if approved.is_some() {
            self.engine.run_batch(merchant, id);
        }
        Ok(answered)
    }

    /// A batch's lines, amounts and fees per route (what a checker looks at before deciding).
    pub async fn batch_routes(
        &self,
        caller: &Caller,
        id: BatchId,
    ) -> Result<Vec<RouteTotal>, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        batches::get(&client, caller.merchant, id)
            .await
            .map_err(not_found)?;
        Ok(payout_lines::route_totals(&client, caller.merchant, id).await?)
    }

    /// Rejects a batch awaiting approval, with the checker's reason: it is cancelled and
    /// nothing of it is paid. Like an approval, it takes a checker other than its maker.
    pub async fn reject_batch(
        &self,
        caller: &Caller,
        id: BatchId,
        note: &str,
    ) -> Result<BatchSummary, AppError> {
        caller.require(&[Role::Checker])?;
        let note = checked_note(Some(note))?
            .ok_or_else(|| AppError::invalid_field("note", "say why the batch is rejected"))?;
        let merchant = caller.merchant;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let batch = batches::get(&tx, merchant, id).await.map_err(not_found)?;
        if batch.kind == BatchKind::Single {
            return Err(AppError::NotFound("batch"));
        }
        if batch.created_by == Some(caller.key) {
            return Err(AppError::Forbidden {
                role: caller.role,
                needed: "a checker other than the one who made the batch".into(),
            });
        }
        if batch.state != BatchState::AwaitingApproval {
            return Err(AppError::conflict(
                "batch-state",
                format!(
                    "this batch is {}: only a batch awaiting approval can be rejected",
                    batch.state.as_str()
                ),
            ));
        }
        batch_decisions::cancel(&tx, merchant, id, caller.key)
            .await
            .map_err(|error| decision_error(error, "rejected"))?;
        batches::record_note(&tx, merchant, id, note).await?;
        let summary = BatchSummary::read(&tx, merchant, id).await?;
        tx.commit().await?;
        metrics::counter!(crate::metrics::BATCHES, "outcome" => "cancelled").increment(1);
        tracing::info!(batch_id = %id, "batch rejected");
        Ok(summary)
    }

    /// Cancels a payroll batch: lines not yet sent are cancelled and their funds released;
    /// lines already sent still end as the operator decides.
    pub async fn cancel_batch(
        &self,
        caller: &Caller,
        id: BatchId,
        key: Option<&IdempotencyKey>,
        render: Render<BatchSummary>,
    ) -> Result<Answered, AppError> {
        caller.require(&[Role::Maker, Role::Checker])?;
        let fingerprint = idempotency::fingerprint("POST /v1/batches/cancel", &id)?;
        let merchant = caller.merchant;
        let (_, answered) =
            idempotency::once(&self.pool, merchant, key, fingerprint, render, async |tx| {
                let batch = batches::get(tx, merchant, id).await.map_err(not_found)?;
                if batch.kind == BatchKind::Single {
                    return Err(AppError::conflict(
                        "batch-state",
                        "this batch carries single payouts: cancel each one with POST /v1/payouts/{id}/cancel",
                    ));
                }
                let cancelled = batch_decisions::cancel(tx, merchant, id, caller.key)
                    .await
                    .map_err(|error| decision_error(error, "cancelled"))?;
                tracing::info!(batch_id = %id, lines = cancelled.lines, released = cancelled.released.minor(), "batch cancelled");
                metrics::counter!(crate::metrics::BATCHES, "outcome" => "cancelled").increment(1);
                BatchSummary::read(tx, merchant, id).await
            })
            .await?;
        Ok(answered)
    }

    /// Up to `limit` errors of the batch's validation report after `after`, in line and
    /// field order.
    pub async fn batch_errors(
        &self,
        caller: &Caller,
        id: BatchId,
        after: &ErrorCursor,
        limit: i64,
    ) -> Result<Vec<LineError>, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        batches::get(&client, caller.merchant, id)
            .await
            .map_err(not_found)?;
        Ok(line_errors::page(&client, caller.merchant, id, after, limit).await?)
    }

    /// The batch's whole validation report, streamed from the database as it is read: a
    /// report of a million lines is never held in memory. The connection stays with the
    /// stream until it ends.
    pub async fn batch_error_report(
        &self,
        caller: &Caller,
        id: BatchId,
    ) -> Result<impl Stream<Item = Result<LineError, AppError>> + Send + 'static, AppError> {
        caller.require(READERS)?;
        let client = self.pool.get().await?;
        batches::get(&client, caller.merchant, id)
            .await
            .map_err(not_found)?;
        let report = line_errors::stream_all(&client, caller.merchant, id).await?;
        Ok(report.map_err(AppError::from).map_ok(move |error| {
            let _connection = &client;
            error
        }))
    }

    /// Up to `limit` of the batch's payouts after line `after_line`, in line order.
    pub async fn batch_payouts(
        &self,
        caller: &Caller,
        id: BatchId,
        query: &PayoutQuery,
        after_line: i32,
        limit: i64,
    ) -> Result<Vec<Payout>, AppError> {
        caller.require(READERS)?;
        let state = query
            .state
            .as_deref()
            .map(|name| {
                name.parse::<PayoutState>().map_err(|_| {
                    AppError::invalid_field("state", format!("no payout state is called {name:?}"))
                })
            })
            .transpose()?;
        let msisdn = query
            .msisdn
            .as_deref()
            .map(|text| {
                Msisdn::parse(text, self.settings.country)
                    .map(|msisdn| msisdn.as_str().to_owned())
                    .map_err(|error| AppError::invalid_field("msisdn", error.to_string()))
            })
            .transpose()?;
        let filter = LineFilter {
            state,
            msisdn,
            reference: query.reference.clone(),
        };
        let client = self.pool.get().await?;
        batches::get(&client, caller.merchant, id)
            .await
            .map_err(not_found)?;
        Ok(payouts::in_batch(&client, caller.merchant, id, &filter, after_line, limit).await?)
    }
}

/// A batch that is not the caller's (or does not exist).
fn not_found(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound { .. } => AppError::NotFound("batch"),
        other => other.into(),
    }
}

/// A decision the batch's state does not allow is a conflict naming the state.
fn decision_error(error: StoreError, done: &'static str) -> AppError {
    match error {
        StoreError::NotFound { .. } => AppError::NotFound("batch"),
        StoreError::StaleState { expected, .. } => AppError::conflict(
            "batch-state",
            format!("only a batch that is {expected} can be {done}"),
        ),
        StoreError::Transition(transition) => AppError::conflict(
            "batch-state",
            format!("a batch that is {} cannot be {done}", transition.state),
        ),
        other => other.into(),
    }
}

/// The longest note on a decision.
pub const NOTE_MAX_CHARS: usize = 500;

/// A decision's note, trimmed; `None` when empty.
fn checked_note(note: Option<&str>) -> Result<Option<&str>, AppError> {
    let note = note.map(str::trim).filter(|note| !note.is_empty());
    if note.is_some_and(|note| note.chars().count() > NOTE_MAX_CHARS) {
        return Err(AppError::invalid_field(
            "note",
            format!("at most {NOTE_MAX_CHARS} characters"),
        ));
    }
    Ok(note)
}
