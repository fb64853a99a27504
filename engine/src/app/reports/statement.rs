//! The account statement: the merchant's money with Payrail (available + reserved) at the
//! start of a period, one line per posted movement with the balance after it, the totals,
//! and the balance at the end. Opening + credits − debits − fees = closing, and closing is
//! the ledger's balance at the period's end (both read from the postings).

use deadpool_postgres::GenericClient;
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;

use super::period::Period;
use crate::app::caller::Reader;
use crate::app::{App, AppError};
use crate::ids::MerchantId;
use crate::store::merchants::{self, Merchant};
use crate::store::statements;
pub use crate::store::statements::{Movement, MovementKey, MovementKind, MovementTotals};

/// A statement's header, opening and closing balances and totals, without its lines.
#[derive(Clone, Debug)]
pub struct StatementHead {
    pub merchant: Merchant,
    pub period: Period,
    /// "ST-1a2b3c4d-20261101-20261130": the merchant and the period, so the same statement
    /// asked for twice has the same number.
    pub number: String,
    pub generated_at: Timestamp,
    pub opening: i64,
    pub totals: MovementTotals,
    pub closing: i64,
}

/// One line: the movement, and the balance after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    pub movement: Movement,
    pub balance: i64,
}

/// Where a page of lines continues: after this movement, from this balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementCursor {
    pub after: MovementKey,
    pub balance: i64,
}

impl App {
    /// The statement of a merchant for `from`..`to` (dates in its time zone, or times),
    /// without its lines.
    pub async fn statement_head(
        &self,
        reader: Reader,
        from: &str,
        to: &str,
    ) -> Result<StatementHead, AppError> {
        let merchant = reader.merchant()?;
        head(&self.pool.get().await?, merchant, from, to).await
    }

    /// Up to `limit` lines of the statement after `cursor` (from the start without one).
    pub async fn statement_lines(
        &self,
        head: &StatementHead,
        cursor: Option<StatementCursor>,
        limit: i64,
    ) -> Result<Vec<StatementLine>, AppError> {
        let client = self.pool.get().await?;
        lines(&client, head, cursor, Some(limit))
            .await?
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }
}

/// The statement's head, read on `client`.
pub(super) async fn head(
    client: &impl GenericClient,
    merchant: MerchantId,
    from: &str,
    to: &str,
) -> Result<StatementHead, AppError> {
    let merchant = merchants::get(client, merchant).await?;
    let period = Period::parse(from, to, &merchant.time_zone)?;
    let opening = statements::balance_at(client, merchant.id, period.from).await?;
    let totals = statements::totals(client, merchant.id, period.from, period.to).await?;
    let closing = opening + totals.credit_sum - totals.debit_sum - totals.fee_sum;
    Ok(StatementHead {
        number: number(&merchant, &period),
        merchant,
        period,
        generated_at: Timestamp::now(),
        opening,
        totals,
        closing,
    })
}

/// The statement's lines after `cursor`, read on `client` as the database sends them.
pub(super) async fn lines<C: GenericClient>(
    client: &C,
    head: &StatementHead,
    cursor: Option<StatementCursor>,
    limit: Option<i64>,
) -> Result<impl Stream<Item = Result<StatementLine, AppError>> + Send + use<C>, AppError> {
    let movements = statements::movements(
        client,
        head.merchant.id,
        head.period.from,
        head.period.to,
        cursor.map(|c| c.after),
        limit,
    )
    .await?;
    let mut balance = cursor.map_or(head.opening, |c| c.balance);
    Ok(movements.map(move |movement| {
        let movement = movement?;
        balance = balance + movement.credit - movement.debit - movement.fee;
        Ok(StatementLine { movement, balance })
    }))
}

/// "ST-", the merchant id's last 8 characters, and the period's first and last days.
fn number(merchant: &Merchant, period: &Period) -> String {
    let id = merchant.id.to_string();
    let day = |at: Timestamp| period.local(at).strftime("%Y%m%d").to_string();
    let last_instant = period
        .to
        .checked_sub(jiff::SignedDuration::from_nanos(1))
        .unwrap_or(period.to);
    format!(
        "ST-{}-{}-{}",
        &id[id.len() - 8..],
        day(period.from),
        day(last_instant)
    )
}
