//! The signal that starts a graceful shutdown: SIGINT (Ctrl-C) or SIGTERM.

use tokio::signal::unix::{self, SignalKind};

/// Resolves on the first SIGINT or SIGTERM.
pub async fn signal() {
    let mut interrupt = unix::signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    let mut terminate =
        unix::signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(signal = name, "shutting down gracefully");
}
