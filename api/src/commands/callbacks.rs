//! `payrail callbacks rotate-secret`: a new secret signs MTN callback URLs from now on;
//! prints, as JSON on stdout, how long the replaced ones stay accepted.

use std::io::Write;
use std::time::Duration;

use payrail_engine::app::App;
use serde_json::json;

use crate::cli::CallbacksCommand;
use crate::config::CallbacksConfig;

pub async fn run(
    command: CallbacksCommand,
    app: &App,
    config: &CallbacksConfig,
) -> anyhow::Result<()> {
    match command {
        CallbacksCommand::RotateSecret => {
            let hours = config.secret_overlap_hours;
            app.rotate_callback_secret(Duration::from_secs(hours * 3_600))
                .await?;
            let mut stdout = std::io::stdout().lock();
            let output = json!({
                "rotated": true,
                "previous_secrets_accepted_for_hours": hours,
            });
            serde_json::to_writer_pretty(&mut stdout, &output)?;
            writeln!(stdout)?;
            Ok(())
        }
    }
}
