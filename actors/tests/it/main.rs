//! The actor engine against a real PostgreSQL and the in-process simulator, and over HTTP
//! against the simulator server.

mod budget;
mod circuit;
mod collections;
mod exactly_once;
mod funds;
mod nudge;
mod over_http;
mod pacing;
mod panics;
mod review;
mod submitted;
mod supervision;
mod support;
