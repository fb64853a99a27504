//! The execution record: every transfer and payment the book holds, as audits and
//! load tests read it (`GET /_sim/transfers`).

use payrail_engine::money::{Amount, Currency};
use serde::{Deserialize, Serialize};

use super::{Book, Created, Kind, SimOperator, Status};

/// Where a transfer or payment stands, in MTN's words (Airtel TA shows as PENDING).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TransferStatus {
    Pending,
    Successful,
    Failed,
}

/// One transfer or payment as the simulator holds it (`GET /_sim/transfers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutedTransfer {
    pub operator: SimOperator,
    pub kind: Kind,
    /// MTN `X-Reference-Id` (lowercase), Airtel `transaction.id`.
    pub reference: String,
    /// MTN `externalId`, Airtel `reference`.
    pub external_id: String,
    pub msisdn: String,
    /// In the currency's minor unit.
    pub amount: Amount,
    pub currency: Currency,
    pub status: TransferStatus,
    /// MTN reason code when FAILED.
    pub reason: Option<String>,
    /// POSTs that carried this reference, refused and duplicate ones included.
    pub attempts: u32,
    /// Times money moved for this reference: 0 or 1, anything else is a double payment.
    pub executions: u32,
    /// Milliseconds after the simulator started that it was created: sends per second,
    /// as the operator counts them against a quota.
    #[serde(default)]
    pub created_ms: u64,
}

/// Every transfer and payment created, oldest first, and any executed more than once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransfersReport {
    pub transfers: Vec<ExecutedTransfer>,
    pub executed_twice: Vec<String>,
}

impl Book {
    /// Every created transfer and payment, oldest first.
    pub(crate) fn report(&self) -> TransfersReport {
        let mut rows: Vec<(u64, ExecutedTransfer)> = Vec::new();
        for shard in &self.shards {
            let mut shard = shard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for map in shard.iter_mut() {
                for (id, record) in map.iter_mut() {
                    let attempts = record.attempts;
                    if let Some(created) = record.created.as_mut() {
                        rows.push((record.seq, row(id, attempts, created)));
                    }
                }
            }
        }
        rows.sort_unstable_by_key(|(seq, _)| *seq);
        let transfers: Vec<ExecutedTransfer> = rows.into_iter().map(|(_, row)| row).collect();
        let executed_twice = transfers
            .iter()
            .filter(|t| t.executions > 1)
            .map(|t| t.reference.clone())
            .collect();
        TransfersReport {
            transfers,
            executed_twice,
        }
    }
}

fn row(id: &str, attempts: u32, created: &mut Created) -> ExecutedTransfer {
    let (status, reason) = match created.status() {
        Status::Pending | Status::Ambiguous => (TransferStatus::Pending, None),
        Status::Successful => (TransferStatus::Successful, None),
        Status::Failed(reason) => (TransferStatus::Failed, Some(reason.to_owned())),
    };
    let order = &created.order;
    ExecutedTransfer {
        operator: order.operator,
        kind: order.kind,
        reference: id.to_owned(),
        external_id: order.external_id.clone(),
        msisdn: order.msisdn.clone(),
        amount: order.amount,
        currency: order.currency,
        status,
        reason,
        attempts,
        executions: created.executions,
        created_ms: created.created_ms,
    }
}
