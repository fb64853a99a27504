//! The statement page: the account statement of a period (by default the current month so
//! far, in the merchant's time zone): its header, the opening balance, each movement with
//! the balance after it (a page at a time, after the API's cursor), the totals and the
//! closing balance; and the whole statement offered as a file.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};
use payrail_engine::app::AppError;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::statement::{StatementCursor, StatementHead, StatementLine};
use serde::Deserialize;

use super::error::PortalError;
use super::exports::ExportOffer;
use super::form::FormErrors;
use super::page::Page;
use super::session::Session;
use super::transactions::{clock, day, given};
use crate::AppState;
use crate::pagination::{Key, PageQuery, encode};

/// Lines shown per page; the file has them all.
const LINES_PER_PAGE: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/statement", get(show))
}

/// The period asked for (blank: the current month so far), and the page.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StatementQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/statement.html")]
pub struct StatementPage {
    page: Page,
    from: String,
    to: String,
    errors: FormErrors,
    statement: Option<Statement>,
    export: ExportOffer,
}

/// An accepted period's statement, with a page of its lines.
#[derive(Clone, Debug)]
pub struct Statement {
    head: StatementHead,
    /// The period's first and last moments as people read them (days, or times).
    first: String,
    last: String,
    lines: Vec<StatementLine>,
    /// Whether this page starts at the opening balance, and ends at the closing one.
    at_start: bool,
    at_end: bool,
    next: Option<String>,
    first_page: Option<String>,
}

impl StatementPage {
    fn day(&self, at: &Timestamp) -> String {
        day(&self.page, at)
    }

    fn clock(&self, at: &Timestamp) -> String {
        clock(&self.page, at)
    }

    fn kind(&self, line: &StatementLine) -> String {
        self.page
            .t(&format!("type-{}", line.movement.kind.as_str()))
    }
}

/// `GET /statement`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<StatementQuery>,
) -> Result<(StatusCode, StatementPage), PortalError> {
    let page = Page::new(&session, "statement", "statement-title");
    let today = Timestamp::now().to_zoned(page.zone.clone()).date();
    let from = given(&query.from).unwrap_or_else(|| today.first_of_month().to_string());
    let to = given(&query.to).unwrap_or_else(|| today.to_string());
    let reader = Reader::Key(*session.caller());
    let result = match cursor(&query) {
        Ok(cursor) => statement(&state, &page, reader, &from, &to, cursor).await,
        Err(refused) => Err(refused),
    };
    let (status, statement, errors) = match result {
        Ok(statement) => (StatusCode::OK, Some(statement), FormErrors::default()),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            FormErrors::from_app(error)?,
        ),
    };
    Ok((
        status,
        StatementPage {
            export: ExportOffer {
                report: "statement",
                fields: vec![("from", from.clone()), ("to", to.clone())],
            },
            page,
            from,
            to,
            errors,
            statement,
        },
    ))
}

async fn statement(
    state: &AppState,
    page: &Page,
    reader: Reader,
    from: &str,
    to: &str,
    cursor: Option<StatementCursor>,
) -> Result<Statement, AppError> {
    let head = state.app.statement_head(reader, from, to).await?;
    let mut lines = state
        .app
        .statement_lines(&head, cursor, LINES_PER_PAGE + 1)
        .await?;
    let more = lines.len() > LINES_PER_PAGE as usize;
    lines.truncate(LINES_PER_PAGE as usize);
    let link = |cursor: Option<String>| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("from", from).append_pair("to", to);
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor);
        }
        format!("/statement?{}", query.finish())
    };
    let next = more
        .then(|| lines.last())
        .flatten()
        .map(|last| link(Some(encode(Key::Movement(last.movement.key, last.balance)))));
    let (first, last) = period_ends(page, &head);
    Ok(Statement {
        first,
        last,
        at_start: cursor.is_none(),
        at_end: next.is_none(),
        first_page: cursor.map(|_| link(None)),
        next,
        lines,
        head,
    })
}

/// The period's first and last days; its first and last moments when it does not start
/// and end at midnight.
fn period_ends(page: &Page, head: &StatementHead) -> (String, String) {
    let period = &head.period;
    let midnight = |at: Timestamp| period.local(at).time() == jiff::civil::Time::midnight();
    if midnight(period.from) && midnight(period.to) {
        let last_day = period.to - SignedDuration::from_nanos(1);
        (day(page, &period.from), day(page, &last_day))
    } else {
        (page.time(&period.from), page.time(&period.to))
    }
}

/// The line the page continues after, from the API's cursor.
fn cursor(query: &StatementQuery) -> Result<Option<StatementCursor>, AppError> {
    let refused = || AppError::invalid_field("cursor", "not a page this statement gave out");
    let bounds = PageQuery {
        limit: None,
        cursor: given(&query.cursor),
    }
    .bounds()
    .map_err(|_| refused())?;
    match bounds.after {
        None => Ok(None),
        Some(Key::Movement(after, balance)) => Ok(Some(StatementCursor { after, balance })),
        Some(_) => Err(refused()),
    }
}
