//! The adapters' integration tests.

mod simulator;
