//! The transactions page: the transaction report filtered by a GET form (exactly the
//! filters of `TransactionQuery`), a page of rows at a time after a keyset cursor (the
//! API's), with the totals of the whole filter; and the same filter offered as a file.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use jiff::Timestamp;
use payrail_engine::app::AppError;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::transactions::{
    Transaction, TransactionKey, TransactionQuery, TransactionTotals, TransactionType, key_of,
};
use payrail_engine::state::collection::CollectionState;
use payrail_engine::state::payout::PayoutState;
use serde::Deserialize;

use super::error::PortalError;
use super::exports::ExportOffer;
use super::form::FormErrors;
use super::page::Page;
use super::session::Session;
use crate::AppState;
use crate::pagination::{Key, PageQuery, encode};

/// Rows shown per page.
const ROWS_PER_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new().route("/transactions", get(show))
}

/// The filter form's fields as the query string carries them; a blank one filters nothing.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filters {
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub state: Option<String>,
    pub route: Option<String>,
    pub operator: Option<String>,
    pub batch: Option<String>,
    pub msisdn: Option<String>,
    pub reference: Option<String>,
    pub amount_min: Option<String>,
    pub amount_max: Option<String>,
}

impl Filters {
    /// The filters given, as (query name, value): for links and hidden fields.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("type", &self.kind),
            ("state", &self.state),
            ("route", &self.route),
            ("operator", &self.operator),
            ("batch", &self.batch),
            ("msisdn", &self.msisdn),
            ("reference", &self.reference),
            ("amount_min", &self.amount_min),
            ("amount_max", &self.amount_max),
        ]
        .into_iter()
        .filter_map(|(name, value)| given(value).map(|value| (name, value)))
        .collect()
    }

    /// The use case's query.
    pub fn query(&self) -> TransactionQuery {
        TransactionQuery {
            from: given(&self.from),
            to: given(&self.to),
            until: None,
            types: given(&self.kind),
            state: given(&self.state),
            route: given(&self.route),
            operator: given(&self.operator),
            batch: given(&self.batch),
            msisdn: given(&self.msisdn),
            reference: given(&self.reference),
            amount_min: given(&self.amount_min),
            amount_max: given(&self.amount_max),
        }
    }
}

impl From<&TransactionQuery> for Filters {
    /// The form's fields of a query (an export's, say).
    fn from(query: &TransactionQuery) -> Filters {
        Filters {
            from: query.from.clone(),
            to: query.to.clone().or_else(|| query.until.clone()),
            kind: query.types.clone(),
            state: query.state.clone(),
            route: query.route.clone(),
            operator: query.operator.clone(),
            batch: query.batch.clone(),
            msisdn: query.msisdn.clone(),
            reference: query.reference.clone(),
            amount_min: query.amount_min.clone(),
            amount_max: query.amount_max.clone(),
        }
    }
}

/// A row's day, kept on one line (a table's time column shows it over the time of day).
pub(super) fn day(page: &Page, at: &Timestamp) -> String {
    page.formats.day(*at, &page.zone).replace(' ', "\u{a0}")
}

/// A row's time of day.
pub(super) fn clock(page: &Page, at: &Timestamp) -> String {
    at.to_zoned(page.zone.clone())
        .strftime(&page.t("transactions-clock-format"))
        .to_string()
}

/// A field's text, trimmed, unless blank.
pub(super) fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// Where the page starts: the cursor of the "Next page" link.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Cursor {
    pub cursor: Option<String>,
}

/// An option of a select: value, label.
type Choice = (String, String);

#[derive(Template, WebTemplate)]
#[template(path = "portal/transactions.html")]
pub struct TransactionsPage {
    page: Page,
    filters: Filters,
    errors: FormErrors,
    types: Vec<Choice>,
    states: Vec<Choice>,
    operators: Vec<Choice>,
    routes: Vec<Choice>,
    /// The rows and totals, once the filter is accepted.
    report: Option<Report>,
    export: ExportOffer,
}

/// One page of rows of an accepted filter.
#[derive(Clone, Debug)]
pub struct Report {
    rows: Vec<Transaction>,
    totals: TransactionTotals,
    /// The link to the next page, the first page's when this one is not the first.
    next: Option<String>,
    first: Option<String>,
}

impl TransactionsPage {
    fn kind(&self, kind: &TransactionType) -> String {
        self.page.t(&format!("type-{}", kind.as_str()))
    }

    fn day(&self, at: &Timestamp) -> String {
        day(&self.page, at)
    }

    fn clock(&self, at: &Timestamp) -> String {
        clock(&self.page, at)
    }

    /// A failure code as words: `PAYEE_LIMIT_REACHED` → "payee limit reached".
    fn reason(&self, code: &str) -> String {
        code.replace('_', " ").to_lowercase()
    }

    /// Whether a filter behind "More filters" is given or refused: then they show.
    fn more_filters(&self) -> bool {
        let behind = ["batch", "msisdn", "reference", "amount_min", "amount_max"];
        self.filters
            .pairs()
            .iter()
            .any(|(name, _)| behind.contains(name))
            || behind.iter().any(|name| self.errors.of(name).is_some())
    }

    /// A field's value for the form.
    fn value<'a>(&self, value: &'a Option<String>) -> &'a str {
        value.as_deref().unwrap_or("")
    }
}

/// `GET /transactions`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(filters): Query<Filters>,
    Query(cursor): Query<Cursor>,
) -> Result<(StatusCode, TransactionsPage), PortalError> {
    let page = Page::new(&session, "transactions", "transactions-title");
    let reader = Reader::Key(*session.caller());
    let result = match after(&cursor) {
        Ok(after) => report(&state, reader, &filters, after).await,
        Err(refused) => Err(refused),
    };
    let (status, report, errors) = match result {
        Ok(report) => (StatusCode::OK, Some(report), FormErrors::default()),
        Err(AppError::NotFound("batch")) => {
            let errors = FormErrors::one("batch", page.t("transactions-batch-unknown"));
            (StatusCode::UNPROCESSABLE_ENTITY, None, errors)
        }
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            FormErrors::from_app(error)?,
        ),
    };
    let routes = state.app.transaction_routes();
    Ok((
        status,
        TransactionsPage {
            types: types(&page),
            states: states(&page),
            operators: operators(&routes),
            routes: routes
                .into_iter()
                .map(|route| (route.clone(), route))
                .collect(),
            export: ExportOffer {
                report: "transactions",
                fields: filters.pairs(),
            },
            report,
            errors,
            filters,
            page,
        },
    ))
}

/// The rows of the filter after `after`, its totals, and the links to other pages.
async fn report(
    state: &AppState,
    reader: Reader,
    filters: &Filters,
    after: Option<TransactionKey>,
) -> Result<Report, AppError> {
    let scope = state
        .app
        .transaction_scope(reader, &filters.query())
        .await?;
    let mut rows = state
        .app
        .transactions(&scope, after, ROWS_PER_PAGE + 1)
        .await?;
    let totals = state.app.transaction_totals(&scope).await?;
    let more = rows.len() > ROWS_PER_PAGE as usize;
    rows.truncate(ROWS_PER_PAGE as usize);
    let link = |cursor: Option<String>| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(filters.pairs());
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor);
        }
        format!("/transactions?{}", query.finish())
    };
    let next = more.then(|| rows.last()).flatten().map(|last| {
        let key = key_of(last);
        link(Some(encode(Key::Transaction(key.id, key.rank))))
    });
    Ok(Report {
        first: after.map(|_| link(None)),
        next,
        rows,
        totals,
    })
}

/// The row the page continues after, from the API's cursor.
fn after(cursor: &Cursor) -> Result<Option<TransactionKey>, AppError> {
    let bounds = PageQuery {
        limit: None,
        cursor: cursor.cursor.clone().filter(|text| !text.is_empty()),
    }
    .bounds()
    .and_then(|bounds| bounds.after_transaction());
    bounds
        .map(|after| after.map(|(id, rank)| TransactionKey { id, rank }))
        .map_err(|_| AppError::invalid_field("cursor", "not a page this report gave out"))
}

fn types(page: &Page) -> Vec<Choice> {
    TransactionType::ALL
        .iter()
        .map(|kind| {
            (
                kind.as_str().to_owned(),
                page.t(&format!("type-{}", kind.as_str())),
            )
        })
        .collect()
}

/// Every state a row can be in: a payout's, a collection's, or `posted`.
fn states(page: &Page) -> Vec<Choice> {
    let mut names: Vec<&str> = PayoutState::ALL.iter().map(|s| s.as_str()).collect();
    for name in CollectionState::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(["posted"])
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| (name.to_owned(), page.state(name)))
        .collect()
}

/// The operators the routes run on: a route's first part (`mtn` of `mtn-rw`).
fn operators(routes: &[String]) -> Vec<Choice> {
    let mut operators: Vec<Choice> = Vec::new();
    for operator in routes.iter().filter_map(|route| route.split('-').next()) {
        if !operators.iter().any(|(name, _)| name == operator) {
            operators.push((operator.to_owned(), operator.to_uppercase()));
        }
    }
    operators
}
