//! Payrail's operators: implementations of `payrail_engine::operator::Operator`.
//!
//! # Layout
//! - `simulator`: the in-process operator simulator, seeded and deterministic, that the
//!   engine is tested and benchmarked against; it records every execution for audits

pub mod simulator;
