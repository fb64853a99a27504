//! The `payrail` binary: configuration → logging → command. Errors go to stderr as one
//! readable line with their causes, and the exit status is 1.

use std::process::ExitCode;

use clap::Parser;
use payrail_api::cli::Cli;
use payrail_api::commands;
use payrail_api::config::Config;
use payrail_api::telemetry;

/// glibc's allocator spends a fifth of a busy node's time in malloc and free across
/// threads (measured over HTTP in docs/benchmarks.md); mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match Config::load(&cli.config, &cli.flags) {
        Ok(config) => {
            telemetry::init(config.log_format);
            commands::run(cli.command, config).await
        }
        Err(error) => Err(error.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, as `payrail: error: outer: inner`.
fn report(error: &anyhow::Error) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "payrail: error: {error:#}");
}
