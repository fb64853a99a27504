//! Payrail's actor engine: a ractor supervision tree that pays every line exactly once.
//!
//! # Layout
//! - `engine`: joins the cluster, starts the tree and stops it; `EngineHandle`, the port the use cases reach it by
//! - `supervisor`: the root; starts the journal, the routes, the collector, the intake, the
//!   singles runner, the verifier and merchants, restarts what stops, and resumes batches
//! - `merchant`: one per merchant with work; starts and restarts its batch actors
//! - `batch`: one per running batch; reserves, claims chunks, hands lines to routes
//! - `route`: one per operator route; quotas, in-flight cap, retries, status queries
//! - `journal`: group-commits outcomes (state changes and ledger postings)
//! - `collector`: follows collections (requests to pay) until paid, failed or expired
//! - `intake`: writes single payouts by group commit and hands them on
//! - `singles`: pays the single payouts the intake wrote, without a batch actor per group
//! - `verifier`: hands routes that trust callbacks the payouts to verify, and handles the
//!   answers
//! - `job`: a line on its way through a route, and what its batch is told
//! - `budget`: a merchant's in-flight budget, shared by its batches
//! - `derived`: the conversions a derived reference to another actor's messages needs
//! - `directory`: where each route's actor is now (route actors restart)
//! - `lease`: this node's lease, the fencing check of every operator call
//! - `member`: renews the lease, reaps dead nodes, shares route quotas, takes roles

pub mod batch;
mod budget;
pub mod collector;
mod derived;
mod directory;
pub mod engine;
pub mod intake;
pub mod job;
pub mod journal;
pub mod lease;
mod member;
pub mod merchant;
pub mod route;
pub mod singles;
pub mod supervisor;
pub mod verifier;

pub use collector::CollectionSettings;
pub use engine::{ClusterSettings, Engine, EngineError, EngineHandle, EngineSettings};
