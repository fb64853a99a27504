//! Single payouts, written in groups: the payouts one merchant's key asked for in the same
//! moment are written, funded and started in one transaction, so that a busy merchant
//! takes its balance lock once per group rather than once per payout.
//!
//! Their lines were checked before they get here, so the batch and its lines are written
//! directly in their states after validation (`running` and `validated`), not walked
//! through the upload's states. The funded payouts share one batch of kind `single`; those
//! the balance does not cover are written `failed` (`insufficient_balance`) in a second,
//! `invalid` one. Funding locks the merchant's balance rows until the transaction ends, so
//! the reservation is the last statement before commit: `write` writes the payouts (after
//! a savepoint), the caller records its answers, then `fund` reserves. When the funds are
//! short it rolls back to the savepoint and says how much there is; the caller writes the
//! group again with `fit`'s choice.

use deadpool_postgres::Transaction;
use jiff::Timestamp;

use super::StoreError;
use super::activity::count_ended;
use super::payout_lines::NewPayoutLine;
use super::payouts::Payout;
use crate::ids::{ApiKeyId, BatchId, MerchantId, NodeId, PayoutId, Reference};
use crate::ledger::{self, LedgerError};
use crate::money::{Amount, Currency};
use crate::state::batch::{BatchEvent, BatchState};
use crate::state::payout::{PayoutEvent, PayoutState};

/// The failure code of a payout the merchant's balance did not cover.
pub const INSUFFICIENT_BALANCE: &str = "insufficient_balance";

/// Single payouts of one merchant and key, accepted together.
#[derive(Clone, Debug)]
pub struct Group {
    /// The node whose singles runner pays the group (docs/cluster.md); `None`: the first
    /// node whose sweep finds it.
    node: Option<NodeId>,
    merchant: MerchantId,
    currency: Currency,
    created_by: ApiKeyId,
    lines: Vec<NewPayoutLine>,
    payouts: Vec<PayoutId>,
    /// Each line's amount and fee.
    needed: Vec<Amount>,
    /// The batch (`running`) that carries the funded payouts.
    batch: BatchId,
    /// The batch (`invalid`) that records the payouts the balance did not cover.
    refused: BatchId,
}

/// What `fund` came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Funding {
    /// The funded payouts' amounts and fees are reserved (or none was funded).
    Reserved,
    /// The balance does not cover them: everything since `write`'s savepoint is rolled
    /// back. This is what there is.
    Short { available: Amount },
}

const WRITE_BATCHES: &str = "
    INSERT INTO batches (id, merchant_id, state, currency, created_by, kind, line_count,
                         total_amount, total_fee, owner_node)
    SELECT id, $1, state, $2, $3, 'single', line_count, total_amount, total_fee, $9
      FROM unnest($4::uuid[], $5::text[], $6::int[], $7::bigint[], $8::bigint[])
           AS batch (id, state, line_count, total_amount, total_fee)";

// Payouts failed for want of funds end here, and are counted for analytics at once.
const WRITE_LINES: &str = concat!(
    "WITH written AS (
        INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee,
                                  route, client_reference, name, note, state, failure_code,
                                  single)
        SELECT id, $1, batch_id, line_no, msisdn, amount, fee, route, client_reference, name,
               note, state, failure_code, true
          FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::bigint[],
                      $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
                      $12::text[], $13::text[])
               AS line (id, batch_id, line_no, msisdn, amount, fee, route, client_reference,
                        name, note, state, failure_code)
        RETURNING id, reference, created_at, updated_at, merchant_id, route, state,
                  failure_code, amount, fee),
    ended AS (
        SELECT merchant_id, route, state AS outcome, coalesce(failure_code, '') AS failure_code,
               amount, fee, 0::bigint AS latency_ms
          FROM written WHERE state = 'failed'),
    counted AS (",
    count_ended!("ended", "payout"),
    ")
    SELECT id, reference, created_at, updated_at FROM written"
);

impl Group {
    /// The payouts in `lines`, each given its id; fails only when a line's amount and fee
    /// overflow.
    pub fn new(
        node: Option<NodeId>,
        merchant: MerchantId,
        currency: Currency,
        created_by: ApiKeyId,
        lines: Vec<NewPayoutLine>,
    ) -> Result<Group, StoreError> {
        let needed = lines
            .iter()
            .map(|line| {
                line.amount
                    .checked_add(line.fee)
                    .ok_or_else(|| StoreError::Corrupt("a payout and its fee overflow".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Group {
            node,
            merchant,
            currency,
            created_by,
            payouts: lines.iter().map(|_| PayoutId::new()).collect(),
            lines,
            needed,
            batch: BatchId::new(),
            refused: BatchId::new(),
        })
    }

    /// The batch the funded payouts run in.
    pub fn batch(&self) -> BatchId {
        self.batch
    }

    /// Every payout funded: what to try first.
    pub fn all_funded(&self) -> Vec<bool> {
        vec![true; self.lines.len()]
    }

    /// The payouts `available` covers, taken in the order they came; one that does not fit
    /// is passed over and the next ones are still tried.
    pub fn fit(&self, available: Amount) -> Vec<bool> {
        let mut left = available;
        self.needed
            .iter()
            .map(|&needed| match left.checked_sub(needed) {
                Some(rest) => {
                    left = rest;
                    true
                }
                None => false,
            })
            .collect()
    }

    /// Sets a savepoint, then writes the payouts: `funded[i]` ones `validated` in the
    /// `running` batch, the others failed in the `invalid` one. Returns them as stored, in
    /// order.
    pub async fn write(
        &self,
        tx: &Transaction<'_>,
        funded: &[bool],
    ) -> Result<Vec<Payout>, StoreError> {
        tx.batch_execute("SAVEPOINT single_payouts").await?;
        let placed = self.place(funded)?;
        self.write_batches(tx, &placed).await?;
        self.write_lines(tx, &placed).await
    }

    /// Reserves the funded payouts' amounts and fees, last before commit.
    pub async fn fund(&self, tx: &Transaction<'_>, funded: &[bool]) -> Result<Funding, StoreError> {
        let total = self
            .needed
            .iter()
            .zip(funded)
            .filter(|(_, funded)| **funded)
            .try_fold(Amount::ZERO, |sum, (needed, _)| sum.checked_add(*needed))
            .ok_or_else(|| StoreError::Corrupt("the group's total overflows".into()))?;
        if total.is_zero() {
            return Ok(Funding::Reserved);
        }
        match ledger::reserve(tx, self.merchant, self.batch, total).await {
            Ok(()) => Ok(Funding::Reserved),
            Err(LedgerError::InsufficientFunds { available, .. }) => {
                self.undo(tx).await?;
                Ok(Funding::Short { available })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Rolls back everything since `write`'s savepoint.
    pub async fn undo(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        tx.batch_execute("ROLLBACK TO SAVEPOINT single_payouts")
            .await?;
        Ok(())
    }

    /// Each payout's batch, line number, state and failure.
    fn place(&self, funded: &[bool]) -> Result<Vec<Placed>, StoreError> {
        let validated = PayoutState::Validated;
        let failed = validated.apply(&PayoutEvent::FundsShort)?;
        let (mut in_batch, mut in_refused) = (0, 0);
        Ok(funded
            .iter()
            .map(|&funded| {
                let counter = if funded {
                    &mut in_batch
                } else {
                    &mut in_refused
                };
                *counter += 1;
                Placed {
                    batch: if funded { self.batch } else { self.refused },
                    line_no: *counter,
                    state: if funded { validated } else { failed },
                    failure: (!funded).then_some(INSUFFICIENT_BALANCE),
                }
            })
            .collect())
    }

    async fn write_batches(
        &self,
        tx: &Transaction<'_>,
        placed: &[Placed],
    ) -> Result<(), StoreError> {
        let running = running()?.as_str();
        let invalid = BatchState::Validating
            .apply(&BatchEvent::Invalidate)?
            .as_str();
        let (mut ids, mut states, mut counts, mut amounts, mut fees) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (batch, state) in [(self.batch, running), (self.refused, invalid)] {
            let (count, amount, fee) = self
                .lines
                .iter()
                .zip(placed)
                .filter(|(_, placed)| placed.batch == batch)
                .fold((0_i32, 0_i64, 0_i64), |(count, amount, fee), (line, _)| {
                    (
                        count + 1,
                        amount + line.amount.minor(),
                        fee + line.fee.minor(),
                    )
                });
            if count > 0 {
                ids.push(batch);
                states.push(state);
                counts.push(count);
                amounts.push(amount);
                fees.push(fee);
            }
        }
        let statement = tx.prepare_cached(WRITE_BATCHES).await?;
        tx.execute(
            &statement,
            &[
                &self.merchant,
                &self.currency.code(),
                &self.created_by,
                &ids,
                &states,
                &counts,
                &amounts,
                &fees,
                &self.node,
            ],
        )
        .await?;
        Ok(())
    }

    async fn write_lines(
        &self,
        tx: &Transaction<'_>,
        placed: &[Placed],
    ) -> Result<Vec<Payout>, StoreError> {
        let lines = &self.lines;
        let column = |f: fn(&NewPayoutLine) -> Option<&str>| -> Vec<Option<&str>> {
            lines.iter().map(f).collect()
        };
        let statement = tx.prepare_cached(WRITE_LINES).await?;
        let rows = tx
            .query(
                &statement,
                &[
                    &self.merchant,
                    &self.payouts,
                    &placed.iter().map(|p| p.batch).collect::<Vec<_>>(),
                    &placed.iter().map(|p| p.line_no).collect::<Vec<_>>(),
                    &lines.iter().map(|l| l.msisdn.as_str()).collect::<Vec<_>>(),
                    &lines.iter().map(|l| l.amount.minor()).collect::<Vec<_>>(),
                    &lines.iter().map(|l| l.fee.minor()).collect::<Vec<_>>(),
                    &lines.iter().map(|l| l.route.as_str()).collect::<Vec<_>>(),
                    &column(|l| l.client_reference.as_deref()),
                    &column(|l| l.name.as_deref()),
                    &column(|l| l.note.as_deref()),
                    &placed.iter().map(|p| p.state.as_str()).collect::<Vec<_>>(),
                    &placed.iter().map(|p| p.failure).collect::<Vec<_>>(),
                ],
            )
            .await?;
        let mut stored = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let id: PayoutId = row.try_get(0)?;
            let written: (Reference, Timestamp, Timestamp) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            stored.insert(id, written);
        }
        self.payouts
            .iter()
            .zip(lines)
            .zip(placed)
            .map(|((id, line), placed)| {
                let (reference, created_at, updated_at) = stored
                    .remove(id)
                    .ok_or_else(|| StoreError::Corrupt("a payout was not written".into()))?;
                Ok(Payout {
                    id: *id,
                    batch: placed.batch,
                    line_no: placed.line_no,
                    msisdn: line.msisdn.as_str().to_owned(),
                    amount: line.amount,
                    fee: line.fee,
                    currency: self.currency,
                    route: line.route.as_str().to_owned(),
                    reference,
                    client_reference: line.client_reference.clone(),
                    name: line.name.clone(),
                    note: line.note.clone(),
                    state: placed.state,
                    failure_code: placed.failure.map(str::to_owned),
                    operator_transaction_id: None,
                    attempts: 0,
                    created_at,
                    updated_at,
                })
            })
            .collect()
    }
}

/// Where one payout of a group is written.
#[derive(Clone, Copy, Debug)]
struct Placed {
    batch: BatchId,
    line_no: i32,
    state: PayoutState,
    failure: Option<&'static str>,
}

/// The batch's state once its lines passed validation and its funds are reserved.
fn running() -> Result<BatchState, StoreError> {
    let validating = BatchState::Received.apply(&BatchEvent::StartValidation)?;
    let scheduled = validating.apply(&BatchEvent::Schedule)?;
    Ok(scheduled.apply(&BatchEvent::Start)?)
}
