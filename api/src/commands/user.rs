//! `payrail user create`: a portal user and their one-time setup link, as JSON on stdout.

use std::io::Write;

use anyhow::Context;
use payrail_engine::api_key::Role;
use payrail_engine::app::App;
use payrail_engine::app::users::{Inviter, SETUP_LINK_HOURS};
use payrail_engine::ids::MerchantId;
use serde_json::json;

use crate::cli::UserCommand;

pub async fn run(command: UserCommand, app: &App, portal_url: &str) -> anyhow::Result<()> {
    let UserCommand::Create {
        merchant,
        email,
        role,
    } = command;
    let merchant: MerchantId = merchant.parse().context("--merchant")?;
    let role: Role = role.parse().context("--role")?;
    let invited = app
        .invite_user(Inviter::Operator(merchant), &email, role)
        .await?;
    tracing::info!(merchant_id = %merchant, user = %invited.user.email, "made a portal user");
    let output = json!({
        "user_id": invited.user.id,
        "merchant_id": merchant,
        "email": invited.user.email,
        "role": invited.user.role,
        "setup_link": format!("{portal_url}/setup/{}", invited.setup_token),
        "notice": format!("open the setup link within {SETUP_LINK_HOURS} hours to choose a password; it works once"),
    });
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &output)?;
    writeln!(stdout)?;
    Ok(())
}
