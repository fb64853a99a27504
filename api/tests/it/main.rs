//! The API crate's integration tests: the HTTP app on a real database, and the `payrail`
//! binary run as a user would run it.

mod api;
mod balance;
mod batch;
mod callbacks;
mod cli;
mod cluster;
mod failover;
mod health;
mod kill_callbacks;
mod metrics_at_start;
mod over_network;
mod portal;
mod report;
mod serve;
mod support;
mod trusted_callbacks;
