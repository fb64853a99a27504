//! Verifying what authenticated callbacks ended: the engine's verifier reads the backlog,
//! its routes ask the operator with the query budget left over, and each answer lands
//! here. An answer that agrees marks the payout verified. One that contradicts the
//! callback never resends anything and never changes an outcome silently: a correction
//! entry puts the payout's money back in reserve, the line goes to `requires_review`, and
//! the disagreement is recorded for the person who reviews it.

use deadpool_postgres::Pool;

use super::AppError;
use crate::ids::{MovementId, PayoutId};
use crate::ledger::{self, LedgerError};
use crate::route::RouteName;
use crate::store::callback_settlements::{self, OperatorSays, Unverified};

/// What a contradiction came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contradiction {
    /// The correction that put the money back in reserve; `None` when the available
    /// balance no longer covered a release's reversal (the reviewer books it).
    pub correction: Option<MovementId>,
    /// Whether the line moved to review (false: it had already left that final state).
    pub to_review: bool,
}

/// The oldest payouts of `route` waiting for verification, but those in `taken`.
pub async fn backlog(
    pool: &Pool,
    route: &RouteName,
    taken: &[PayoutId],
    limit: i64,
) -> Result<Vec<Unverified>, AppError> {
    let client = pool.get().await?;
    Ok(callback_settlements::backlog(&client, route, taken, limit).await?)
}

/// Per route: payouts waiting for verification, and the oldest one's age in seconds.
pub async fn backlog_sizes(pool: &Pool) -> Result<Vec<(String, i64, f64)>, AppError> {
    let client = pool.get().await?;
    Ok(callback_settlements::backlog_sizes(&client).await?)
}

/// Marks verified the payouts whose status query agreed with their callback.
pub async fn agreed(pool: &Pool, payouts: &[PayoutId]) -> Result<(), AppError> {
    if payouts.is_empty() {
        return Ok(());
    }
    let client = pool.get().await?;
    callback_settlements::confirmed(&client, payouts).await?;
    Ok(())
}

/// A status query said `says` of a payout its callback ended the other way: reverse its
/// outcome into reserve and send it to review, in one transaction.
pub async fn contradicted(
    pool: &Pool,
    unverified: &Unverified,
    says: OperatorSays,
) -> Result<Contradiction, AppError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let said = if unverified.succeeded {
        "paid"
    } else {
        "failed"
    };
    let description = format!(
        "Held for review: MTN's callback said payout {} {said}, its status query says {}",
        unverified.payout,
        says.as_str().replace('_', " ")
    );
    let correction = match ledger::reserve_again(
        &tx,
        unverified.merchant,
        unverified.payout,
        &description,
    )
    .await
    {
        Ok(id) => Some(id),
        Err(LedgerError::InsufficientFunds { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let to_review = callback_settlements::contradicted(
        &tx,
        unverified,
        says,
        correction.map(|id| *id.as_uuid()),
    )
    .await?;
    if !to_review {
        // The line left its final state some other way: book nothing, ask no more.
        tx.rollback().await?;
        callback_settlements::confirmed(&client, &[unverified.payout]).await?;
        return Ok(Contradiction {
            correction: None,
            to_review,
        });
    }
    tx.commit().await?;
    Ok(Contradiction {
        correction,
        to_review,
    })
}
