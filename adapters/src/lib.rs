//! Payrail's operators: implementations of `payrail_engine::operator::Operator`.
//!
//! # Layout
//! - `airtel`: Airtel Money over HTTP, with the table of what each answer lets the engine do
//! - `callback`: what an operator callback may do: name a payout to ask about
//! - `http`: the HTTP client every adapter uses, its timeouts, and what transport failures mean
//! - `token`: an access token cached and refreshed once for all waiting requests
//! - `lenient`: readers for replies that put numbers where strings belong
//! - `mtn`: MTN MoMo over HTTP (disbursement and collection), its answer mapping and callbacks
//! - `secret`: credentials kept out of logs
//! - `simulator`: the in-process operator simulator, seeded and deterministic, that the
//!   engine is tested and benchmarked against; it records every execution for audits
//! - `simserver`: the operator simulator server: MTN MoMo's and Airtel Money's wire
//!   protocols over HTTP, with state, faults, callbacks and an execution record

pub mod airtel;
pub mod callback;
pub mod http;
pub mod lenient;
pub mod mtn;
pub mod secret;
pub mod simserver;
pub mod simulator;
pub mod token;
