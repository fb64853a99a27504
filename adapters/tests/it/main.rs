//! The adapters' integration tests.

mod airtel;
mod mtn;
mod simserver;
mod simulator;
