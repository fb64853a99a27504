//! Payrail's actor engine: a ractor supervision tree that pays every line exactly once.
//!
//! # Layout
//! - `engine`: the handle that starts the tree, runs batches and stops
//! - `supervisor`: the root; starts the journal, the routes, the collector and merchants,
//!   resumes batches
//! - `merchant`: one per merchant with work; starts and restarts its batch actors
//! - `batch`: one per running batch; reserves, claims chunks, hands lines to routes
//! - `route`: one per operator route; quotas, in-flight cap, retries, status queries
//! - `journal`: group-commits outcomes (state changes and ledger postings)
//! - `collector`: follows collections (requests to pay) until paid, failed or expired
//! - `job`: a line on its way through a route
//! - `directory`: where each route's actor is now (route actors restart)

pub mod batch;
pub mod collector;
mod directory;
pub mod engine;
pub mod job;
pub mod journal;
pub mod merchant;
pub mod route;
pub mod supervisor;

pub use collector::{CollectionSettings, Collector};
pub use engine::{BatchRunner, Engine, EngineError, EngineSettings, Nudger};
