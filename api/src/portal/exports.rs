//! The exports page: the merchant's background exports, newest first, refreshed every two
//! seconds (htmx) while one is queued or running; `POST /exports`, where every report
//! page's CSV, XLSX and PDF buttons ask for a file of what it shows; and the download of
//! a ready file, streamed chunk by chunk as the API's download is.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use payrail_engine::app::AppError;
use payrail_engine::app::exports::Export;
use payrail_engine::app::reports::ReportRequest;
use payrail_engine::export::Format;
use payrail_engine::ids::ExportId;
use serde::Deserialize;

use super::error::{PortalError, encode};
use super::page::Page;
use super::session::Session;
use super::transactions::{Filters, clock, day};
use crate::AppState;
use crate::pagination::{Key, PageQuery};
use crate::report_files;

/// Exports listed per page.
const EXPORTS_PER_PAGE: i64 = 25;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exports", get(show).post(request))
        .route("/exports/rows", get(rows))
        .route("/exports/{id}/download", get(download))
}

/// A report page's export buttons: the report and its parameters, posted as hidden
/// fields (the names `ExportForm` reads).
#[derive(Clone, Debug)]
pub struct ExportOffer {
    pub report: &'static str,
    pub fields: Vec<(&'static str, String)>,
}

/// What an export button posts.
#[derive(Clone, Debug, Deserialize)]
struct ExportForm {
    csrf: String,
    report: String,
    format: String,
    granularity: Option<String>,
    /// The transaction report's filters; `from`, `to` and `batch` serve the others too.
    #[serde(flatten)]
    filters: Filters,
}

impl ExportForm {
    fn report_request(&self) -> Result<ReportRequest, AppError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let filters = &self.filters;
        Ok(match self.report.as_str() {
            "statement" => ReportRequest::Statement {
                from: text(&filters.from),
                to: text(&filters.to),
            },
            "transactions" => ReportRequest::Transactions {
                filters: Box::new(filters.query()),
            },
            "analytics" => ReportRequest::Analytics {
                from: text(&filters.from),
                to: text(&filters.to),
                granularity: self.granularity.clone().unwrap_or_else(|| "day".into()),
            },
            "batch_statement" => ReportRequest::BatchStatement {
                batch: text(&filters.batch)
                    .parse()
                    .map_err(|_| AppError::NotFound("batch"))?,
            },
            other => {
                return Err(AppError::invalid_field(
                    "report",
                    format!("{other:?} is not a report"),
                ));
            }
        })
    }
}

/// `POST /exports`: asks for the file, then shows the history where it will be ready.
async fn request(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ExportForm>,
) -> Result<Redirect, PortalError> {
    session.check_csrf(&form.csrf)?;
    let request = form.report_request()?;
    let format: Format = form.format.parse().map_err(|_| {
        AppError::invalid_field(
            "format",
            format!("{:?} is not one of csv, xlsx, pdf", form.format),
        )
    })?;
    let export = state
        .app
        .request_export(session.caller(), &request, format)
        .await?;
    Ok(Redirect::to(&format!("/exports?requested={}", export.id)))
}

/// The history's query: the page (after an export) and the export just asked for.
#[derive(Clone, Debug, Default, Deserialize)]
struct HistoryQuery {
    cursor: Option<String>,
    requested: Option<String>,
}

/// One export as the history shows it.
#[derive(Clone, Debug)]
struct ExportRow {
    id: String,
    report: String,
    parameters: String,
    format: String,
    state: String,
    failure: Option<String>,
    /// When it was asked for, and until when its file is kept: (day, time of day).
    requested: (String, String),
    rows: Option<i64>,
    size: Option<String>,
    expires: Option<(String, String)>,
}

/// The history's table, its polling while an export is pending, and the older page.
#[derive(Clone, Debug)]
struct History {
    exports: Vec<ExportRow>,
    pending: bool,
    /// This page's query, for the refresh.
    query: String,
    older: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/exports.html")]
struct ExportsPage {
    page: Page,
    history: History,
    /// What was just asked for, when it is on this page.
    requested: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/exports_rows.html")]
struct ExportRows {
    page: Page,
    history: History,
}

/// `GET /exports`
async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HistoryQuery>,
) -> Result<ExportsPage, PortalError> {
    let page = Page::new(&session, "exports", "exports-title");
    let history = history(&state, &session, &page, &query).await?;
    let requested = query.requested.as_ref().and_then(|id| {
        let export = history.exports.iter().find(|export| export.id == *id)?;
        Some(page.language.text_with(
            "exports-requested",
            &[
                ("report", export.report.clone()),
                ("format", export.format.clone()),
            ],
        ))
    });
    Ok(ExportsPage {
        page,
        history,
        requested,
    })
}

/// `GET /exports/rows`: the history's table alone, for htmx to swap in.
async fn rows(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HistoryQuery>,
) -> Result<ExportRows, PortalError> {
    let page = Page::new(&session, "exports", "exports-title");
    let history = history(&state, &session, &page, &query).await?;
    Ok(ExportRows { page, history })
}

async fn history(
    state: &AppState,
    session: &Session,
    page: &Page,
    query: &HistoryQuery,
) -> Result<History, PortalError> {
    let cursor = query.cursor.clone().filter(|text| !text.is_empty());
    let before = PageQuery {
        limit: None,
        cursor: cursor.clone(),
    }
    .bounds()
    .and_then(|bounds| bounds.after_id())
    .map_err(|_| AppError::invalid_field("cursor", "not a page this list gave out"))?
    .map(ExportId::from_uuid);
    let mut exports = state
        .app
        .exports(session.caller(), before, EXPORTS_PER_PAGE + 1)
        .await?;
    let more = exports.len() > EXPORTS_PER_PAGE as usize;
    exports.truncate(EXPORTS_PER_PAGE as usize);
    let older = more.then(|| exports.last()).flatten().map(|last| {
        let cursor = crate::pagination::encode(Key::Id(*last.id.as_uuid()));
        format!("/exports?cursor={cursor}")
    });
    Ok(History {
        pending: exports
            .iter()
            .any(|export| matches!(export.state.as_str(), "queued" | "running")),
        query: cursor.map_or_else(String::new, |cursor| format!("?cursor={}", encode(&cursor))),
        older,
        exports: exports.iter().map(|export| row(page, export)).collect(),
    })
}

fn row(page: &Page, export: &Export) -> ExportRow {
    ExportRow {
        id: export.id.to_string(),
        report: page.t(&format!(
            "exports-report-{}",
            export.report.replace('_', "-")
        )),
        parameters: serde_json::from_value(export.parameters.clone())
            .map(|request| describe(page, &request))
            .unwrap_or_default(),
        format: export.format.to_uppercase(),
        state: export.state.clone(),
        failure: export.failure.clone(),
        requested: (
            day(page, &export.created_at),
            clock(page, &export.created_at),
        ),
        rows: export.rows,
        size: export.bytes.map(|bytes| size(page, bytes)),
        expires: export
            .expires_at
            .map(|at| (day(page, &at), clock(page, &at))),
    }
}

/// What an export covers, in a few words: its period, or the filters it was asked with.
fn describe(page: &Page, request: &ReportRequest) -> String {
    match request {
        ReportRequest::Statement { from, to } => {
            format!("{} – {}", date(page, from), date(page, to))
        }
        ReportRequest::Analytics {
            from,
            to,
            granularity,
        } => format!(
            "{} – {}, {}",
            date(page, from),
            date(page, to),
            page.t(&format!("exports-per-{granularity}"))
        ),
        ReportRequest::Transactions { filters } => {
            let given = Filters::from(filters.as_ref()).pairs();
            if given.is_empty() {
                return page.t("exports-all-transactions");
            }
            given
                .into_iter()
                .map(|(name, value)| {
                    let label = page.t(&format!("transactions-filter-{}", name.replace('_', "-")));
                    let value = match name {
                        "type" => value
                            .split(',')
                            .map(|kind| page.t(&format!("type-{}", kind.trim())))
                            .collect::<Vec<_>>()
                            .join(", "),
                        "state" => page.state(&value),
                        _ => value,
                    };
                    format!("{label}: {value}")
                })
                .collect::<Vec<_>>()
                .join(" · ")
        }
        ReportRequest::BatchStatement { batch } => {
            page.t1("exports-batch", "batch", batch.to_string())
        }
    }
}

/// A period's end as the export was asked for: a date as the reader writes dates, else
/// as given (a time).
fn date(page: &Page, text: &str) -> String {
    text.parse::<jiff::civil::Date>()
        .map(|date| date.strftime(&page.t("date-format")).to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// A file's size as people read it: "840 kB", "12.4 MB".
fn size(page: &Page, bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    if bytes < MB {
        let kb = (bytes + KB - 1) / KB;
        return page.t1("exports-size-kb", "size", page.count(&kb.max(1)));
    }
    let tenths = bytes * 10 / MB;
    let text = format!(
        "{}{}{}",
        page.count(&(tenths / 10)),
        page.t("number-decimal"),
        tenths % 10
    );
    page.t1("exports-size-mb", "size", text)
}

/// `GET /exports/{id}/download`: a ready export's file, as an attachment.
async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id: ExportId = id.parse().map_err(|_| AppError::NotFound("export"))?;
    Ok(report_files::ready_export(&state, session.caller(), id).await?)
}
