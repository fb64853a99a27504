//! Payrail's engine: the domain and its storage, with no HTTP and no actors.
//!
//! # Layout
//! - `app`: the use cases every front end calls, and the port to the running engine
//! - `money`: amounts in minor units with checked arithmetic, currencies, strict parsing
//! - `ids`: id newtypes for merchants, batches, payouts, collections, keys and references
//! - `msisdn`: mobile numbers validated and normalised to E.164 digits
//! - `route`: the prefix → route table that picks an operator for a number
//! - `fee`: a merchant's fee agreement
//! - `state`: the payout, batch and collection state machines
//! - `api_key`: API key generation, hashing and roles
//! - `operator`: the port to a mobile-money operator, implemented in `payrail-adapters`
//! - `ledger`: the double-entry ledger and its operations
//! - `payroll_csv`: payroll files in CSV, read strictly as a stream
//! - `export`: one report written as CSV, XLSX or PDF
//! - `store`: the PostgreSQL pool, migrations and tables: the only place with SQL
//! - `metrics`: the catalogue of every metric, its help and buckets, and the recorder
//! - `url_policy`: which URLs webhooks and callbacks may be sent to
//! - `postgres`: the private PostgreSQL server used when no database is configured
//! - `testing`: a fresh database per test (feature `testing`)

#![deny(clippy::float_arithmetic)]

pub mod api_key;
pub mod app;
pub mod callback_token;
pub mod constraint;
pub mod export;
pub mod fee;
pub mod ids;
pub mod ledger;
pub mod metrics;
pub mod money;
pub mod msisdn;
pub mod operator;
pub mod payroll_csv;
pub mod postgres;
pub mod route;
pub mod state;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod url_policy;
