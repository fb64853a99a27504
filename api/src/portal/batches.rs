//! Payroll batches: the list (newest first, by state), and one batch's page: its live
//! progress (counts and amounts per state, a progress bar and throughput, refreshed by
//! htmx until it ends; counted at most every two seconds per batch), its lines with a state filter, the decisions a role may take
//! (approve or reject with a note, cancel the unsent lines), and its reconciliation
//! statement as CSV, XLSX or PDF.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use payrail_engine::app::AppError;
use payrail_engine::app::batches::{Batch, BatchSummary, PayoutQuery, StateCount};
use payrail_engine::app::caller::Reader;
use payrail_engine::app::idempotency::Answer;
use payrail_engine::app::payouts::Payout;
use payrail_engine::app::reports::{DIRECT_ROWS_MAX, ReportRequest};
use payrail_engine::export::Format;
use payrail_engine::ids::BatchId;
use payrail_engine::state::batch::BatchState;
use payrail_engine::state::payout::PayoutState;
use serde::Deserialize;

use super::error::PortalError;
use super::form::FormErrors;
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// Batches and lines per page.
const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    before: Option<uuid::Uuid>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/batches.html")]
pub struct BatchesPage {
    page: Page,
    batches: Vec<Batch>,
    state: String,
    states: Vec<(&'static str, String)>,
    next: Option<String>,
}

/// `GET /batches`
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Result<BatchesPage, PortalError> {
    let page = Page::new(&session, "batches", "batches-title");
    let wanted: Vec<BatchState> = match query.state.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => vec![
            name.parse()
                .map_err(|_| AppError::NotFound("batch state"))?,
        ],
        None => Vec::new(),
    };
    let mut batches = state
        .app
        .newest_batches(session.caller(), &wanted, query.before, PAGE_SIZE + 1)
        .await?;
    let more = batches.len() as i64 > PAGE_SIZE;
    batches.truncate(PAGE_SIZE as usize);
    let state_name = query.state.unwrap_or_default();
    let next = more
        .then(|| batches.last())
        .flatten()
        .map(|last| format!("/batches?state={state_name}&before={}", last.id));
    let states = BatchState::ALL
        .iter()
        .map(|state| (state.as_str(), page.state(state.as_str())))
        .collect();
    Ok(BatchesPage {
        page,
        batches,
        state: state_name,
        states,
        next,
    })
}

/// A batch's progress, as its live part shows it.
#[derive(Clone, Debug)]
pub struct Progress {
    pub counts: Vec<StateCount>,
    pub lines: i64,
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Lines ended per second since the batch was approved or made.
    pub per_second: Option<i64>,
}

impl Progress {
    fn of(summary: &BatchSummary) -> Progress {
        let lines: i64 = summary.counts.iter().map(|count| count.lines).sum();
        let ended = |state: PayoutState| {
            summary
                .counts
                .iter()
                .filter(|count| count.state == state)
                .map(|count| count.lines)
                .sum::<i64>()
        };
        let done: i64 = summary
            .counts
            .iter()
            .filter(|count| count.state.is_final())
            .map(|count| count.lines)
            .sum();
        let batch = &summary.batch;
        let started = batch.approved_at.unwrap_or(batch.created_at);
        let until = if batch.state.is_final() {
            batch.updated_at
        } else {
            Timestamp::now()
        };
        let seconds = until.duration_since(started).as_secs_f64();
        Progress {
            counts: summary.counts.clone(),
            lines,
            done,
            succeeded: ended(PayoutState::Succeeded),
            failed: ended(PayoutState::Failed),
            per_second: (done > 0 && seconds >= 1.0)
                .then(|| (done as f64 / seconds).round() as i64),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/batch.html")]
pub struct BatchPage {
    page: Page,
    batch: Batch,
    progress: Progress,
    lines: Vec<Payout>,
    line_state: String,
    next_lines: Option<String>,
    own: bool,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/batch_progress.html")]
pub struct ProgressPart {
    page: Page,
    batch: Batch,
    progress: Progress,
}

#[derive(Debug, Default, Deserialize)]
pub struct LinesQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    after: Option<i32>,
}

fn batch_id(id: &str) -> Result<BatchId, AppError> {
    id.parse().map_err(|_| AppError::NotFound("batch"))
}

/// `GET /batches/{id}`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<LinesQuery>,
) -> Result<BatchPage, PortalError> {
    batch_page(
        &state,
        &session,
        batch_id(&id)?,
        query,
        FormErrors::default(),
    )
    .await
}

async fn batch_page(
    state: &AppState,
    session: &Session,
    id: BatchId,
    query: LinesQuery,
    errors: FormErrors,
) -> Result<BatchPage, PortalError> {
    let caller = session.caller();
    let summary = state.app.batch_progress(caller, id).await?;
    let line_state = query.state.unwrap_or_default();
    let filter = PayoutQuery {
        state: Some(line_state.clone()).filter(|state| !state.is_empty()),
        msisdn: None,
        reference: None,
    };
    let mut lines = state
        .app
        .batch_payouts(caller, id, &filter, query.after.unwrap_or(0), PAGE_SIZE + 1)
        .await?;
    let more = lines.len() as i64 > PAGE_SIZE;
    lines.truncate(PAGE_SIZE as usize);
    let next_lines = more.then(|| lines.last()).flatten().map(|last| {
        format!(
            "/batches/{id}?state={line_state}&after={}#lines",
            last.line_no
        )
    });
    let mut page = Page::new(session, "batches", "batch-title");
    if summary.batch.state == BatchState::AwaitingApproval {
        page = Page::new(session, "approvals", "batch-title");
    }
    Ok(BatchPage {
        progress: Progress::of(&summary),
        own: summary.batch.created_by == Some(caller.key),
        batch: summary.batch,
        lines,
        line_state,
        next_lines,
        errors,
        page,
    })
}

/// `GET /batches/{id}/progress`: the live part of the batch's page.
pub async fn progress(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<ProgressPart, PortalError> {
    let summary = state
        .app
        .batch_progress(session.caller(), batch_id(&id)?)
        .await?;
    Ok(ProgressPart {
        page: Page::new(&session, "batches", "batch-title"),
        progress: Progress::of(&summary),
        batch: summary.batch,
    })
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

fn decided(_: &BatchSummary) -> Result<Answer, AppError> {
    Ok(Answer {
        status: 303,
        body: serde_json::Value::Null,
    })
}

/// Back to the batch, or its page again with why the decision was refused.
async fn after_decision(
    state: &AppState,
    session: &Session,
    id: BatchId,
    outcome: Result<(), AppError>,
) -> Result<Response, PortalError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/batches/{id}")).into_response()),
        Err(error @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let errors = FormErrors::from_app(error)?;
            let page = batch_page(state, session, id, LinesQuery::default(), errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /batches/{id}/{decision}`: `approve` or `reject` (with the note), or `cancel`
/// the lines not yet sent.
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let id = batch_id(&id)?;
    let (app, caller) = (&state.app, session.caller());
    let outcome = match decision.as_str() {
        "approve" => app
            .approve_batch(caller, id, Some(&form.note), None, decided)
            .await
            .map(|_| ()),
        "reject" => app.reject_batch(caller, id, &form.note).await.map(|_| ()),
        "cancel" => app
            .cancel_batch(caller, id, None, decided)
            .await
            .map(|_| ()),
        _ => return Err(AppError::NotFound("batch decision").into()),
    };
    after_decision(&state, &session, id, outcome).await
}

/// `GET /batches/{id}/statement.{csv|xlsx|pdf}`: the reconciliation statement, at once
/// when small enough, else made in the background (and then found under Exports).
pub async fn statement(
    State(state): State<AppState>,
    session: Session,
    Path((id, extension)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let format: Format = extension
        .parse()
        .map_err(|_| AppError::NotFound("statement format"))?;
    let caller = session.caller();
    let request = ReportRequest::BatchStatement {
        batch: batch_id(&id)?,
    };
    if state
        .app
        .report_rows(Reader::Key(*caller), &request)
        .await?
        > DIRECT_ROWS_MAX
    {
        state.app.request_export(caller, &request, format).await?;
        return Ok(Redirect::to("/exports").into_response());
    }
    Ok(crate::report_files::send(&state, caller, &request, format)
        .await
        .unwrap_or_else(IntoResponse::into_response))
}
