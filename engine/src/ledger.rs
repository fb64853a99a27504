//! The double-entry ledger in PostgreSQL. Every merchant has its own accounts (available,
//! reserved, fee revenue, one clearing account per route, and the external account that
//! top-ups and collected money come from). Journal entries are immutable and balanced;
//! balances follow their postings through a trigger in the same statement, and a CHECK
//! refuses any negative balance (see `migrations/V2__ledger.sql`).
//!
//! A payout is reserved (available → reserved, amount + fee), then settled (reserved →
//! route clearing + fee revenue) or released (reserved → available); many payouts settle
//! in one entry, each with its own outcome row. A paid collection
//! credits the merchant (amount − fee) and fee revenue.

mod audit;
mod balances;
mod postings;
mod reversal;

pub use audit::{AuditReport, audit};
pub use balances::{Balances, balances};
pub use postings::{
    CollectionCredit, Correction, Direction, Release, Settlement, correct, credit_collection, fund,
    open_accounts, release, reserve, settle,
};
pub use reversal::reserve_again;

use crate::money::Amount;

/// The kinds of account each merchant has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// Money the merchant may pay out.
    MerchantAvailable,
    /// Money set aside for payouts that are queued or in flight.
    MerchantReserved,
    /// Money paid out through one route, owed to that operator.
    RouteClearing,
    /// Fees Payrail earned from the merchant.
    FeeRevenue,
    /// The world outside Payrail: negative by what came in (top-ups, collections).
    ExternalFunding,
}

impl AccountKind {
    pub const ALL: [AccountKind; 5] = [
        AccountKind::MerchantAvailable,
        AccountKind::MerchantReserved,
        AccountKind::RouteClearing,
        AccountKind::FeeRevenue,
        AccountKind::ExternalFunding,
    ];

    /// The name stored in `ledger_accounts.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::MerchantAvailable => "merchant_available",
            AccountKind::MerchantReserved => "merchant_reserved",
            AccountKind::RouteClearing => "route_clearing",
            AccountKind::FeeRevenue => "fee_revenue",
            AccountKind::ExternalFunding => "external_funding",
        }
    }
}

/// What went wrong posting to the ledger, named for what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The merchant's available balance does not cover the reservation: nothing was posted.
    #[error("insufficient funds: {} available, {} needed", .available.minor(), .needed.minor())]
    InsufficientFunds { available: Amount, needed: Amount },
    /// This batch, payout or collection was already posted: nothing was posted again.
    #[error("{what} was already posted")]
    AlreadyPosted { what: &'static str },
    /// The merchant has no ledger accounts (it does not exist).
    #[error("unknown merchant")]
    UnknownMerchant,
    /// An amount that cannot be posted (zero, or a sum past the largest amount).
    #[error("invalid amount: {0}")]
    InvalidAmount(&'static str),
    /// The database refused a negative balance or an unbalanced entry: a bug, not bad input.
    #[error("the ledger refused the posting ({constraint})")]
    Refused { constraint: String },
    /// Fewer postings were written than the operation needs: the transaction must not commit.
    #[error("expected {expected} postings, wrote {written}")]
    Incomplete { expected: i64, written: i64 },
    #[error("database: {0}")]
    Database(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for LedgerError {
    /// Maps PostgreSQL's constraint violations by constraint name.
    fn from(error: tokio_postgres::Error) -> LedgerError {
        let constraint = crate::constraint::violated(&error).map(str::to_owned);
        match constraint.as_deref() {
            Some("journal_entries_one_reservation_per_batch") => LedgerError::AlreadyPosted {
                what: "the batch reservation",
            },
            Some("payout_outcomes_pkey") => LedgerError::AlreadyPosted {
                what: "the payout's outcome",
            },
            Some("journal_entries_one_credit_per_collection") => LedgerError::AlreadyPosted {
                what: "the collection",
            },
            Some("journal_entries_merchant_id_fkey") => LedgerError::UnknownMerchant,
            Some(name @ ("ledger_accounts_balance_non_negative" | "journal_entries_balanced")) => {
                LedgerError::Refused {
                    constraint: name.to_owned(),
                }
            }
            _ => LedgerError::Database(error),
        }
    }
}
