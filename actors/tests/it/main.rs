//! The actor engine against a real PostgreSQL and the in-process simulator.

mod budget;
mod circuit;
mod exactly_once;
mod funds;
mod pacing;
mod panics;
mod review;
mod supervision;
mod support;
