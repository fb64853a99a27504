//! The transaction report: every payout, collection, funding and correction of a merchant
//! (and its fees on request), filtered by period, type, state, route or operator, batch,
//! the number's last digits, the merchant's reference and an amount range, sorted by time,
//! a page at a time, with the totals of the whole filter.

use deadpool_postgres::GenericClient;

use super::period::{self, Period};
use crate::app::caller::Reader;
use crate::app::{App, AppError};
use crate::ids::BatchId;
use crate::money::Amount;
use crate::state::collection::CollectionState;
use crate::state::payout::PayoutState;
use crate::store::batches;
use crate::store::merchants::{self, Merchant};
use crate::store::transactions;
pub use crate::store::transactions::{
    Transaction, TransactionFilter, TransactionKey, TransactionTotals, TransactionType,
};

/// Fewest last digits a number search takes: fewer would match most of a merchant's rows.
pub const MSISDN_SUFFIX_DIGITS_MIN: usize = 4;

/// The filters as a front end received them, not yet checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionQuery {
    /// From this time on: a date (in the merchant's time zone), a local time or an RFC 3339
    /// time.
    pub from: Option<String>,
    /// Up to this time; a date includes its whole day.
    pub to: Option<String>,
    /// Before this time, a date meaning its start (the first version's name for `to`).
    pub until: Option<String>,
    /// Comma-separated: payout, collection, funding, fee, correction.
    pub types: Option<String>,
    pub state: Option<String>,
    pub route: Option<String>,
    /// An operator's name as routes start with it: `mtn`, `airtel`.
    pub operator: Option<String>,
    pub batch: Option<String>,
    /// The number's last digits (at least four).
    pub msisdn: Option<String>,
    pub reference: Option<String>,
    pub amount_min: Option<String>,
    pub amount_max: Option<String>,
}

/// What a filter reads, checked: whose, when, and which rows.
#[derive(Clone, Debug)]
pub struct TransactionScope {
    pub merchant: Merchant,
    /// When both ends are given.
    pub period: Option<Period>,
    pub filter: TransactionFilter,
}

impl App {
    /// Checks a report's filters for the reader's merchant.
    pub async fn transaction_scope(
        &self,
        reader: Reader,
        query: &TransactionQuery,
    ) -> Result<TransactionScope, AppError> {
        self.transaction_scope_on(&self.pool.get().await?, reader, query)
            .await
    }

    /// The same, read on `client`.
    pub(super) async fn transaction_scope_on(
        &self,
        client: &impl GenericClient,
        reader: Reader,
        query: &TransactionQuery,
    ) -> Result<TransactionScope, AppError> {
        let merchant = merchants::get(client, reader.merchant()?).await?;
        let bounds = bounds(query, &merchant)?;
        let batch = match query.batch.as_deref().filter(|text| !text.is_empty()) {
            None => None,
            Some(text) => {
                let id: BatchId = text.parse().map_err(|_| AppError::NotFound("batch"))?;
                Some(batches::get(client, merchant.id, id).await?.id)
            }
        };
        let filter = TransactionFilter {
            from: bounds.from,
            until: bounds.to,
            types: types(query.types.as_deref())?,
            state: state(query.state.as_deref())?,
            routes: self.routes(query)?,
            batch,
            msisdn_suffix: suffix(query.msisdn.as_deref())?,
            reference: query.reference.clone().filter(|r| !r.is_empty()),
            amount_min: amount("amount_min", query.amount_min.as_deref(), &merchant)?,
            amount_max: amount("amount_max", query.amount_max.as_deref(), &merchant)?,
        };
        Ok(TransactionScope {
            merchant,
            period: bounds.period,
            filter,
        })
    }

    /// Up to `limit` rows after `after`.
    pub async fn transactions(
        &self,
        scope: &TransactionScope,
        after: Option<TransactionKey>,
        limit: i64,
    ) -> Result<Vec<Transaction>, AppError> {
        let client = self.pool.get().await?;
        Ok(transactions::list(&client, scope.merchant.id, &scope.filter, after, limit).await?)
    }

    /// The count and sums of every row the filter takes.
    pub async fn transaction_totals(
        &self,
        scope: &TransactionScope,
    ) -> Result<TransactionTotals, AppError> {
        let client = self.pool.get().await?;
        Ok(transactions::totals(&client, scope.merchant.id, &scope.filter).await?)
    }

    /// The routes a route filter may name (an operator filter names a route's first part),
    /// for a front end to offer.
    pub fn transaction_routes(&self) -> Vec<String> {
        self.settings
            .routes
            .routes()
            .map(|route| route.as_str().to_owned())
            .collect()
    }

    /// The routes a route or operator filter names.
    fn routes(&self, query: &TransactionQuery) -> Result<Option<Vec<String>>, AppError> {
        let known: Vec<&str> = self.settings.routes.routes().map(|r| r.as_str()).collect();
        let mut routes: Option<Vec<String>> = None;
        if let Some(route) = &query.route {
            if !known.contains(&route.as_str()) {
                return Err(AppError::invalid_field(
                    "route",
                    format!("no route is called {route:?}; routes: {}", known.join(", ")),
                ));
            }
            routes = Some(vec![route.clone()]);
        }
        if let Some(operator) = &query.operator {
            let of_operator: Vec<String> = known
                .iter()
                .filter(|route| route.split('-').next() == Some(operator.as_str()))
                .map(|route| (*route).to_owned())
                .collect();
            if of_operator.is_empty() {
                return Err(AppError::invalid_field(
                    "operator",
                    format!("no route runs on an operator called {operator:?}"),
                ));
            }
            routes = Some(match routes {
                None => of_operator,
                Some(named) => named
                    .into_iter()
                    .filter(|route| of_operator.contains(route))
                    .collect(),
            });
        }
        Ok(routes)
    }
}

/// Where a row stands, for the next page.
pub fn key_of(row: &Transaction) -> TransactionKey {
    TransactionKey {
        id: row.id,
        rank: i32::from(row.kind == TransactionType::Fee),
    }
}

/// The period, when both ends are given (checked as every report's); one end alone only
/// bounds the rows.
fn bounds(query: &TransactionQuery, merchant: &Merchant) -> Result<Bounds, AppError> {
    if query.to.is_some() && query.until.is_some() {
        return Err(AppError::invalid_field(
            "until",
            "give `to` or `until`, not both",
        ));
    }
    let zone = period::zone(&merchant.time_zone)?;
    let from = query
        .from
        .as_deref()
        .map(|text| period::instant("from", text, &zone, false))
        .transpose()?;
    let to = match (&query.to, &query.until) {
        (Some(to), _) => Some(period::instant("to", to, &zone, true)?),
        (None, Some(until)) => Some(period::instant("until", until, &zone, false)?),
        (None, None) => None,
    };
    let period = match (from, to) {
        (Some(from), Some(to)) => Some(Period::new(from, to, &merchant.time_zone)?),
        _ => None,
    };
    Ok(Bounds { from, to, period })
}

struct Bounds {
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
    period: Option<Period>,
}

fn types(text: Option<&str>) -> Result<Vec<TransactionType>, AppError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            TransactionType::parse(name).ok_or_else(|| {
                AppError::invalid_field(
                    "type",
                    format!(
                        "{name:?} is not a type; types: payout, collection, funding, fee, correction"
                    ),
                )
            })
        })
        .collect()
}

fn state(text: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(wanted) = text else {
        return Ok(None);
    };
    let known = wanted == "posted"
        || PayoutState::ALL.iter().any(|s| s.as_str() == wanted)
        || CollectionState::ALL.iter().any(|s| s.as_str() == wanted);
    if !known {
        return Err(AppError::invalid_field(
            "state",
            format!("no payout, collection or movement state is called {wanted:?}"),
        ));
    }
    Ok(Some(wanted.to_owned()))
}

fn suffix(text: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let digits = text.trim().trim_start_matches('+');
    if digits.len() < MSISDN_SUFFIX_DIGITS_MIN || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid_field(
            "msisdn",
            format!("the number's last digits: at least {MSISDN_SUFFIX_DIGITS_MIN} digits"),
        ));
    }
    Ok(Some(digits.to_owned()))
}

fn amount(
    field: &str,
    text: Option<&str>,
    merchant: &Merchant,
) -> Result<Option<Amount>, AppError> {
    text.map(|text| {
        Amount::parse(text, merchant.currency)
            .map_err(|error| AppError::invalid_field(field, error.to_string()))
    })
    .transpose()
}
