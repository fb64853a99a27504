//! The PostgreSQL store: connection pool, migrations compiled into the binary, and the
//! tables of merchants, batches, payout lines and collections. Store functions take
//! `&impl GenericClient` so they run on a pooled client or inside a transaction.
//!
//! # Layout
//! - `pool`, `migrations`: the connection pool and the schema compiled into the binary
//! - `merchants`, `api_keys`: merchants with their fees and approval rule, and their keys
//! - `batches`, `batch_decisions`: batches, their upload and run, approval and cancel
//! - `payout_lines`, `line_errors`: lines written by COPY, claimed, finished; refused lines
//! - `payout_numbers`: lines' numbers reversed, for a search by last digits, indexed by batch
//! - `payouts`, `single_payouts`: a payout as a person reads it; single payouts by group
//! - `collections`: requests to pay and their credit
//! - `transactions`: the transaction report: every movement of a merchant, filtered, totalled
//! - `statements`: the account statement's balances, totals and movements, from the ledger
//! - `batch_statements`: a batch's lines reconciled with the operator's ids
//! - `activity`: what ended, counted per quarter-hour for analytics
//! - `recent`: a merchant's latest payouts and collections
//! - `idempotency_keys`: claimed keys and their stored answers
//! - `webhooks`: endpoints, events and their delivery bookkeeping
//! - `exports`: background export jobs and their files, kept in chunks until they expire
//! - `users`, `portal_sessions`, `payroll_drafts`: the portal's people, their sessions, and
//!   payroll files between preview and submission

pub mod activity;
pub mod api_keys;
pub mod batch_decisions;
pub mod batch_statements;
pub mod batches;
pub mod callback_secrets;
pub mod callback_settlements;
pub mod cluster;
pub mod collections;
pub mod exports;
pub mod idempotency_keys;
pub mod line_errors;
pub mod merchants;
pub mod migrations;
pub mod payout_lines;
pub mod payout_numbers;
pub mod payouts;
pub mod payroll_drafts;
pub mod pool;
pub mod portal_sessions;
pub mod recent;
pub mod single_payouts;
pub mod statements;
pub mod transactions;
pub mod users;
pub mod webhooks;

use crate::state::InvalidTransition;

/// What went wrong in the store, named for what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another merchant.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The row was not in the state the caller expected: someone else moved it first.
    #[error("{what} is no longer {expected}")]
    StaleState {
        what: &'static str,
        expected: &'static str,
    },
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// This node no longer holds the lease on the work (another node took it over, or
    /// this node's lease expired): it must leave the work alone.
    #[error("this node does not hold the work's lease")]
    NotOwner,
    /// Live nodes of the cluster run another schema version than this binary's.
    #[error(
        "this node runs schema version {ours}, and live nodes run another ({theirs}): a cluster runs one version; stop every node, run `payrail migrate`, then start them on the new version"
    )]
    OtherVersion { ours: i32, theirs: String },
    #[error("a stored value is invalid: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
}
