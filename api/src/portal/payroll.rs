//! Mass payment: a CSV uploaded (or a few lines typed), kept as a draft and checked by the
//! same use case as a submission, without keeping anything else; the preview shows the
//! totals, fees and first lines, or every bad line with its number and reason (and a file
//! of them). Only a clean file can be submitted; it then runs, or waits for approval.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use payrail_engine::app::AppError;
use payrail_engine::app::idempotency::{Answer, IdempotencyKey};
use payrail_engine::app::uploads::{Payroll, PayrollPreview, Submitted, Submitter, draft_format};
use payrail_engine::payroll_csv::COLUMNS;
use serde::Deserialize;
use uuid::Uuid;

use super::error::PortalError;
use super::form::{FormErrors, new_key};
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// The largest file the portal takes (PayPal's web upload stops at 5,000 rows; this is
/// about 100,000). Larger payrolls go through the API.
pub const UPLOAD_LIMIT_BYTES: usize = 10 * 1024 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "portal/payroll.html")]
pub struct PayrollPage {
    page: Page,
    errors: FormErrors,
    typed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/payroll_preview.html")]
pub struct PreviewPage {
    page: Page,
    preview: PayrollPreview,
    key: String,
    total_debit: i64,
    more_lines: i64,
}

/// `GET /payroll`
pub async fn show(session: Session) -> PayrollPage {
    PayrollPage {
        page: Page::new(&session, "payroll", "payroll-title"),
        errors: FormErrors::default(),
        typed: String::new(),
    }
}

/// `GET /payroll/template.csv`: the columns, and two example lines.
pub async fn template() -> Response {
    let body = format!(
        "{}\n0788123456,15000,Alice Uwase,INV-001,November salary\n0731234567,22500,Jean Habimana,INV-002,November salary\n",
        COLUMNS.join(",")
    );
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"payroll-template.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// `POST /payroll/upload` (multipart: `csrf`, then `file`)
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    mut multipart: Multipart,
) -> Result<Response, PortalError> {
    let mut csrf_checked = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => {
                session.check_csrf(&field.text().await.map_err(unreadable)?)?;
                csrf_checked = true;
            }
            Some("file") if csrf_checked => {
                let name = field.file_name().unwrap_or("payroll.csv").to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    if !csrf_checked {
        return Err(PortalError::CrossSite);
    }
    let page = Page::new(&session, "payroll", "payroll-title");
    match file.filter(|(_, body)| !body.is_empty()) {
        Some((name, body)) => preview(&state, &session, &name, &body).await,
        None => Ok(refused(
            page,
            FormErrors::one("file", page_text(&session, "payroll-no-file")),
            String::new(),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct TypedForm {
    csrf: String,
    lines: String,
}

/// `POST /payroll/typed`: a few lines typed or pasted, in the template's columns (the
/// header line may be left out).
pub async fn typed(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<TypedForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let text = form.lines.trim();
    if text.is_empty() {
        let page = Page::new(&session, "payroll", "payroll-title");
        return Ok(refused(
            page,
            FormErrors::one("lines", page_text(&session, "payroll-no-lines")),
            String::new(),
        ));
    }
    let body = if text.to_ascii_lowercase().starts_with("msisdn") {
        format!("{text}\n")
    } else {
        format!("{}\n{text}\n", COLUMNS.join(","))
    };
    preview(&state, &session, "typed.csv", body.as_bytes()).await
}

fn page_text(session: &Session, id: &str) -> String {
    session.language.text(id)
}

fn unreadable(error: axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(format!(
            "the portal takes files of up to {} MiB; send larger payrolls through the API",
            UPLOAD_LIMIT_BYTES / (1024 * 1024)
        ))
    } else {
        AppError::malformed("upload", format!("the upload could not be read: {error}"))
    }
}

fn refused(page: Page, errors: FormErrors, typed: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        PayrollPage {
            page,
            errors,
            typed,
        },
    )
        .into_response()
}

async fn preview(
    state: &AppState,
    session: &Session,
    name: &str,
    body: &[u8],
) -> Result<Response, PortalError> {
    let caller = session.caller();
    let draft = state.app.keep_payroll_draft(caller, name, body).await?;
    let page = Page::new(session, "payroll", "payroll-preview-title");
    let preview = match state.app.preview_payroll(caller, draft).await {
        Ok(preview) => preview,
        Err(error) => {
            let field = if name == "typed.csv" { "lines" } else { "file" };
            let errors = match FormErrors::from_app(error)? {
                FormErrors(mut errors) => {
                    for error in &mut errors {
                        error.field = field.to_owned();
                    }
                    FormErrors(errors)
                }
            };
            let typed = if field == "lines" {
                String::from_utf8_lossy(body).into_owned()
            } else {
                String::new()
            };
            return Ok(refused(
                Page::new(session, "payroll", "payroll-title"),
                errors,
                typed,
            ));
        }
    };
    let status = if preview.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let total_debit = preview.total_amount.minor() + preview.total_fee.minor();
    let more_lines = i64::from(preview.line_count) - preview.lines.len() as i64;
    Ok((
        status,
        PreviewPage {
            page,
            preview,
            key: new_key(),
            total_debit,
            more_lines,
        },
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SubmitForm {
    csrf: String,
    draft: Uuid,
    idempotency_key: String,
    #[serde(default)]
    allow_duplicate: Option<String>,
}

/// The stored answer of a portal submission: where the batch is.
fn answer(submitted: &Submitted) -> Result<Answer, AppError> {
    let batch = match submitted {
        Submitted::Valid(summary) => summary.batch.id,
        Submitted::Invalid { batch, .. } => batch.id,
    };
    Ok(Answer {
        status: 303,
        body: serde_json::json!({ "batch": batch }),
    })
}

/// `POST /payroll/submit`: submits a previewed file, once per form.
pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SubmitForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let caller = session.caller();
    let kept = state.app.payroll_draft(caller, form.draft).await?;
    let payroll = Payroll {
        format: draft_format(&kept.file_name),
        allow_duplicate: form.allow_duplicate.is_some(),
        key: Some(IdempotencyKey::parse(&form.idempotency_key)?),
    };
    let answered = state
        .app
        .submit_payroll(
            Submitter::Caller(*caller),
            &payroll,
            std::io::Cursor::new(kept.body),
            answer,
        )
        .await?;
    state.app.forget_payroll_draft(caller, form.draft).await?;
    let batch = answered.answer.body["batch"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(Redirect::to(&format!("/batches/{batch}")).into_response())
}

/// `GET /payroll/drafts/{id}/errors.csv`: every bad line of a previewed file.
pub async fn error_file(
    State(state): State<AppState>,
    session: Session,
    Path(draft): Path<Uuid>,
) -> Result<Response, PortalError> {
    let preview = state.app.preview_payroll(session.caller(), draft).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, record: [&str; 3]| {
        writer.write_record(record).map_err(AppError::internal)
    };
    write(&mut writer, ["line", "field", "reason"])?;
    for error in &preview.errors {
        write(
            &mut writer,
            [&error.line.to_string(), &error.field, &error.reason],
        )?;
    }
    let body = writer.into_inner().map_err(AppError::internal)?;
    let name = format!(
        "attachment; filename=\"{}-errors.csv\"",
        preview
            .file_name
            .trim_end_matches(".csv")
            .replace(['"', '\\'], "")
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
