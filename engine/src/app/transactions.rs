//! A merchant's payouts and collections in one list, oldest first, filtered by time, type
//! and state, a page at a time.

use jiff::Timestamp;
use jiff::civil::Date;
use uuid::Uuid;

use super::caller::{Caller, READERS};
use super::{App, AppError};
use crate::state::collection::CollectionState;
use crate::state::payout::PayoutState;
use crate::store::transactions::{self, TransactionFilter};
pub use crate::store::transactions::{Transaction, TransactionType};

/// The filters as a front end received them, not yet checked.
#[derive(Clone, Debug, Default)]
pub struct TransactionQuery {
    /// From this time on: an RFC 3339 time, or a date taken as its start in UTC.
    pub from: Option<String>,
    /// Before this time (a date means its start).
    pub until: Option<String>,
    /// `payout` or `collection`.
    pub kind: Option<String>,
    /// A payout or collection state.
    pub state: Option<String>,
}

impl App {
    /// Up to `limit` of the caller's merchant's transactions after id `after`.
    pub async fn transactions(
        &self,
        caller: &Caller,
        query: &TransactionQuery,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Transaction>, AppError> {
        caller.require(READERS)?;
        let filter = filter(query)?;
        let client = self.pool.get().await?;
        Ok(transactions::list(&client, caller.merchant, &filter, after, limit).await?)
    }
}

fn filter(query: &TransactionQuery) -> Result<TransactionFilter, AppError> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some("payout") => Some(TransactionType::Payout),
        Some("collection") => Some(TransactionType::Collection),
        Some(other) => {
            return Err(AppError::invalid_field(
                "type",
                format!("{other:?} is neither payout nor collection"),
            ));
        }
    };
    if let Some(wanted) = &query.state {
        let known = PayoutState::ALL.iter().any(|s| s.as_str() == wanted)
            || CollectionState::ALL.iter().any(|s| s.as_str() == wanted);
        if !known {
            return Err(AppError::invalid_field(
                "state",
                format!("no payout or collection state is called {wanted:?}"),
            ));
        }
    }
    let from = query
        .from
        .as_deref()
        .map(|text| time("from", text))
        .transpose()?;
    let until = query
        .until
        .as_deref()
        .map(|text| time("until", text))
        .transpose()?;
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return Err(AppError::invalid_field("until", "must be after `from`"));
    }
    Ok(TransactionFilter {
        from,
        until,
        kind,
        state: query.state.clone(),
    })
}

/// An RFC 3339 time, or a date taken as its start in UTC.
fn time(field: &str, text: &str) -> Result<Timestamp, AppError> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    text.parse::<Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            AppError::invalid_field(
                field,
                format!("{text:?} is neither a date (2026-11-01) nor an RFC 3339 time"),
            )
        })
}
