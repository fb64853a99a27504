//! The engine's integration tests, on a real PostgreSQL the tests start themselves.

mod activity;
mod collections;
mod launcher;
mod ledger;
mod ledger_properties;
mod merchants;
mod migrations;
mod payout_keys;
mod payout_lines;
mod payroll_csv;
mod pool_priority;
mod single_payouts;
mod statement_properties;
mod support;
mod transactions;
