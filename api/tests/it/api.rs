//! The `/v1` API over HTTP on a real database and engine.

mod bad_input;
mod batches;
mod cluster;
mod collections;
mod conventions;
mod csv_round_trip;
mod dashboard;
mod exports;
pub mod harness;
mod idempotency_sweep;
mod ltgs_delivery;
mod metrics;
mod openapi;
mod payout_cancel;
mod payouts;
mod readback;
mod reports;
mod settings;
mod transactions;
mod webhooks;
