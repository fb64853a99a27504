//! What authenticated callbacks settled, and its verification: the payout a callback names
//! (to check the callback's body against), the backlog of payouts settled on a callback's
//! word and not yet confirmed by a status query, and the record of a verification that
//! contradicted its callback.

use deadpool_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use super::StoreError;
use crate::ids::{MerchantId, PayoutId, Reference};
use crate::money::{Amount, Currency};
use crate::route::RouteName;
use crate::state::payout::{PayoutEvent, PayoutState};

/// The payout a callback names, as stored: what its body must agree with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalledBack {
    pub merchant: MerchantId,
    pub route: RouteName,
    pub reference: Reference,
    pub amount: Amount,
    pub currency: Currency,
    /// E.164 digits without `+`.
    pub msisdn: String,
    pub state: PayoutState,
}

const CALLED_BACK: &str = "
    SELECT l.merchant_id, l.route, l.reference, l.amount, b.currency, l.msisdn, l.state
      FROM payout_lines l JOIN batches b ON b.id = l.batch_id AND b.merchant_id = l.merchant_id
     WHERE l.id = $1";

/// The payout `payout`, whoever's it is.
pub async fn called_back(
    client: &impl GenericClient,
    payout: PayoutId,
) -> Result<Option<CalledBack>, StoreError> {
    let statement = client.prepare_cached(CALLED_BACK).await?;
    let Some(row) = client.query_opt(&statement, &[&payout]).await? else {
        return Ok(None);
    };
    let route: &str = row.try_get(1)?;
    let currency: &str = row.try_get(4)?;
    let state: &str = row.try_get(6)?;
    Ok(Some(CalledBack {
        merchant: row.try_get(0)?,
        route: RouteName::new(route).map_err(|_| StoreError::Corrupt(format!("route {route}")))?,
        reference: row.try_get(2)?,
        amount: row.try_get(3)?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency}")))?,
        msisdn: row.try_get(5)?,
        state: state
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("payout state {state}")))?,
    }))
}

/// A payout ended on an authenticated callback's word, to be verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unverified {
    pub payout: PayoutId,
    pub merchant: MerchantId,
    pub route: RouteName,
    pub reference: Reference,
    /// What the callback said: paid (true) or failed.
    pub succeeded: bool,
}

const RECORD: &str = "
    INSERT INTO callback_settlements (payout_id, merchant_id, route, reference, succeeded)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::bool[])
    ON CONFLICT (payout_id) DO NOTHING";

/// Adds payouts just ended on callbacks to the verification backlog (in the flush that
/// ended them).
pub async fn record(tx: &Transaction<'_>, settled: &[Unverified]) -> Result<(), StoreError> {
    if settled.is_empty() {
        return Ok(());
    }
    let payouts: Vec<Uuid> = settled.iter().map(|s| *s.payout.as_uuid()).collect();
    let merchants: Vec<Uuid> = settled.iter().map(|s| *s.merchant.as_uuid()).collect();
    let routes: Vec<&str> = settled.iter().map(|s| s.route.as_str()).collect();
    let references: Vec<Uuid> = settled.iter().map(|s| *s.reference.as_uuid()).collect();
    let succeeded: Vec<bool> = settled.iter().map(|s| s.succeeded).collect();
    let statement = tx.prepare_cached(RECORD).await?;
    tx.execute(
        &statement,
        &[&payouts, &merchants, &routes, &references, &succeeded],
    )
    .await?;
    Ok(())
}

const BACKLOG: &str = "
    SELECT payout_id, merchant_id, reference, succeeded FROM callback_settlements
     WHERE route = $1 AND verified_at IS NULL AND payout_id <> ALL($2)
     ORDER BY settled_at LIMIT $3";

/// The oldest `limit` payouts of `route` waiting for verification, but those in `taken`.
pub async fn backlog(
    client: &impl GenericClient,
    route: &RouteName,
    taken: &[PayoutId],
    limit: i64,
) -> Result<Vec<Unverified>, StoreError> {
    let taken: Vec<Uuid> = taken.iter().map(|p| *p.as_uuid()).collect();
    let statement = client.prepare_cached(BACKLOG).await?;
    let rows = client
        .query(&statement, &[&route.as_str(), &taken, &limit])
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Unverified {
                payout: row.try_get(0)?,
                merchant: row.try_get(1)?,
                route: route.clone(),
                reference: row.try_get(2)?,
                succeeded: row.try_get(3)?,
            })
        })
        .collect()
}

const CONFIRMED: &str = "
    UPDATE callback_settlements SET verified_at = now()
     WHERE payout_id = ANY($1) AND verified_at IS NULL";

/// Marks verified the payouts whose status query agreed with their callback.
pub async fn confirmed(
    client: &impl GenericClient,
    payouts: &[PayoutId],
) -> Result<u64, StoreError> {
    let ids: Vec<Uuid> = payouts.iter().map(|p| *p.as_uuid()).collect();
    Ok(client.execute(CONFIRMED, &[&ids]).await?)
}

const BACKLOG_SIZES: &str = "
    SELECT route, count(*), coalesce(extract(epoch FROM now() - min(settled_at)), 0)::float8
      FROM callback_settlements WHERE verified_at IS NULL GROUP BY route";

/// Per route: payouts waiting for verification, and the age of the oldest in seconds.
pub async fn backlog_sizes(
    client: &impl GenericClient,
) -> Result<Vec<(String, i64, f64)>, StoreError> {
    let rows = client.query(BACKLOG_SIZES, &[]).await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

/// What a status query said of a payout its callback had ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorSays {
    Succeeded,
    Failed,
    /// The operator never created it.
    NotFound,
}

impl OperatorSays {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorSays::Succeeded => "succeeded",
            OperatorSays::Failed => "failed",
            OperatorSays::NotFound => "not_found",
        }
    }
}

const DISAGREED: &str = "
    WITH gone AS (UPDATE callback_settlements SET verified_at = now()
                   WHERE payout_id = $1 AND merchant_id = $2)
    INSERT INTO callback_disagreements (payout_id, merchant_id, callback_said, operator_says, correction)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (payout_id) DO NOTHING";

/// Sends a payout whose status query contradicted its callback to review (from the final
/// state the callback gave it), records the disagreement with its correction, and takes it
/// off the backlog (verified: the query has spoken). Returns false when the line was no longer in that final state.
pub async fn contradicted(
    tx: &Transaction<'_>,
    unverified: &Unverified,
    says: OperatorSays,
    correction: Option<Uuid>,
) -> Result<bool, StoreError> {
    let from = if unverified.succeeded {
        PayoutState::Succeeded
    } else {
        PayoutState::Failed
    };
    let moved = super::payout_lines::transition_lines(
        tx,
        unverified.merchant,
        &[unverified.payout],
        from,
        PayoutEvent::Contradict,
    )
    .await?;
    let said = if unverified.succeeded {
        "succeeded"
    } else {
        "failed"
    };
    tx.execute(
        DISAGREED,
        &[
            &unverified.payout,
            &unverified.merchant,
            &said,
            &says.as_str(),
            &correction,
        ],
    )
    .await?;
    Ok(!moved.is_empty())
}
