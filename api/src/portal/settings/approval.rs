//! The approval rule: payroll batches whose total is above a threshold wait for a
//! checker's approval. One field says it all: an amount, "0" for every batch, or nothing
//! for none.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use payrail_engine::app::merchants::{ApprovalRule, Required};
use payrail_engine::money::{Amount, Currency};
use serde::Deserialize;

use super::{Section, SettingsPage, done};
use crate::AppState;
use crate::portal::error::PortalError;
use crate::portal::page::Page;
use crate::portal::session::Session;

/// The section as shown.
#[derive(Clone, Debug)]
pub struct View {
    /// The rule in force, in words.
    pub rule: String,
    /// The threshold field: the rule in force, or what was just refused.
    pub above: String,
}

pub async fn view(state: &AppState, session: &Session, page: &Page) -> Result<View, PortalError> {
    let merchant = state.app.merchant_settings(session.caller()).await?;
    let rule = match merchant.approval_threshold {
        None => page.t("settings-approval-never"),
        Some(threshold) if threshold.is_zero() => page.t("settings-approval-always"),
        Some(threshold) => page.t1("settings-approval-above", "amount", page.amount(&threshold)),
    };
    Ok(View {
        rule,
        above: merchant
            .approval_threshold
            .map(|threshold| threshold.format(merchant.currency))
            .unwrap_or_default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    above: String,
}

/// The rule a threshold field asks for: empty for none, zero for every batch.
fn rule_of(above: &str, currency: Currency) -> ApprovalRule {
    let above = above.trim();
    if above.is_empty() {
        ApprovalRule {
            required: Required::Never,
            above: None,
        }
    } else if Amount::parse(above, currency).is_ok_and(Amount::is_zero) {
        ApprovalRule {
            required: Required::Always,
            above: None,
        }
    } else {
        ApprovalRule {
            required: Required::Above,
            above: Some(above.to_owned()),
        }
    }
}

/// `POST /settings/approval`
pub async fn set(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RuleForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let rule = rule_of(&form.above, session.signed_in.merchant.currency);
    match state.app.set_approval_rule(session.caller(), &rule).await {
        Ok(_) => Ok(done("approval")),
        Err(error) => {
            let mut settings = SettingsPage::load(&state, &session).await?;
            settings.approval.above = form.above;
            settings.refused(Section::Approval, error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_threshold_is_never_zero_is_always_and_an_amount_is_above_it() {
        assert_eq!(rule_of(" ", Currency::Rwf).required, Required::Never);
        assert_eq!(rule_of("0", Currency::Rwf).required, Required::Always);
        assert_eq!(rule_of("0.00", Currency::Eur).required, Required::Always);
        let above = rule_of(" 5000000 ", Currency::Rwf);
        assert_eq!(above.required, Required::Above);
        assert_eq!(above.above.as_deref(), Some("5000000"));
        assert_eq!(
            rule_of("5,000", Currency::Rwf).required,
            Required::Above,
            "refused by the use case"
        );
    }
}
