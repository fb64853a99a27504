//! Paying one person: a form (number, amount, note), then a review with the fee and the
//! total before anything is sent, then the payout's page, which shows its end as soon as
//! it is known (htmx refreshes it until then). The form carries an idempotency key, so
//! two clicks or a reloaded form pay once.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use payrail_engine::app::AppError;
use payrail_engine::app::idempotency::{Answer, IdempotencyKey, fingerprint};
use payrail_engine::app::payouts::{NewPayout, Once, Payout};
use payrail_engine::ids::PayoutId;
use serde::{Deserialize, Serialize};

use super::error::PortalError;
use super::form::{FormErrors, new_key};
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// How long the send waits for the payout's end before showing its page.
const WAIT: Duration = Duration::from_secs(5);
/// How often, and how many times, a second submit looks for the first one's answer
/// (in all, a little longer than `WAIT`).
const IN_USE_POLL: Duration = Duration::from_millis(200);
const IN_USE_RETRIES: u32 = 30;

/// The form's fields, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct PayForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default, skip_serializing)]
    idempotency_key: String,
    #[serde(default)]
    msisdn: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reference: String,
}

impl PayForm {
    fn payout(&self, currency: &str) -> NewPayout {
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        NewPayout {
            msisdn: self.msisdn.trim().to_owned(),
            amount: self.amount.trim().to_owned(),
            currency: currency.to_owned(),
            reference: optional(&self.reference),
            name: None,
            note: optional(&self.note),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/pay.html")]
pub struct PayPage {
    page: Page,
    form: PayForm,
    errors: FormErrors,
}

/// What the person confirms.
#[derive(Template, WebTemplate)]
#[template(path = "portal/pay_review.html")]
pub struct ReviewPage {
    page: Page,
    form: PayForm,
    key: String,
    msisdn: String,
    route: String,
    amount: i64,
    fee: i64,
    total: i64,
}

/// `GET /pay`
pub async fn show(session: Session) -> PayPage {
    PayPage {
        page: Page::new(&session, "pay", "pay-title"),
        form: PayForm::default(),
        errors: FormErrors::default(),
    }
}

/// `POST /pay/edit`: back to the form, as filled in.
pub async fn edit(session: Session, Form(form): Form<PayForm>) -> Result<PayPage, PortalError> {
    session.check_csrf(&form.csrf)?;
    Ok(PayPage {
        page: Page::new(&session, "pay", "pay-title"),
        form,
        errors: FormErrors::default(),
    })
}

/// `POST /pay`: checks the payout and shows its fee and total, to confirm.
pub async fn review(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<PayForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let page = Page::new(&session, "pay", "pay-review-title");
    let new = form.payout(page.currency.code());
    match state.app.check_payout(session.caller(), &new).await {
        Ok(line) => Ok(ReviewPage {
            msisdn: format!("+{}", line.msisdn.as_str()),
            route: line.route.to_string(),
            amount: line.amount.minor(),
            fee: line.fee.minor(),
            total: line.amount.minor() + line.fee.minor(),
            key: new_key(),
            form,
            page,
        }
        .into_response()),
        Err(error) => refused(page, form, error),
    }
}

fn refused(page: Page, form: PayForm, error: AppError) -> Result<Response, PortalError> {
    let errors = FormErrors::from_app(error)?;
    let page = PayPage { page, form, errors };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The stored answer of a portal payout: where its page is.
fn answer(payout: &Payout) -> Result<Answer, AppError> {
    Ok(Answer {
        status: 303,
        body: serde_json::json!({ "payout": payout.id }),
    })
}

/// `POST /pay/send`: pays, once per form, and shows the payout.
pub async fn send(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<PayForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let page = Page::new(&session, "pay", "pay-title");
    let new = form.payout(page.currency.code());
    let once = Once {
        key: IdempotencyKey::parse(&form.idempotency_key)?,
        request_sha256: fingerprint("portal pay", &new)?,
    };
    // A second click while the first is being sent finds the key in use: it waits for
    // the first one's answer and shows the same payout.
    let mut attempts = 0;
    loop {
        match state
            .app
            .pay_one(session.caller(), &new, once.clone(), WAIT, answer)
            .await
        {
            Ok(answered) => {
                let id = answered.answer.body["payout"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                return Ok(Redirect::to(&format!("/payouts/{id}")).into_response());
            }
            Err(AppError::Conflict {
                name: "idempotency-key-in-use",
                ..
            }) if attempts < IN_USE_RETRIES => {
                attempts += 1;
                tokio::time::sleep(IN_USE_POLL).await;
            }
            Err(error) => return refused(page, form, error),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/payout.html")]
pub struct PayoutPage {
    page: Page,
    payout: Payout,
    reason: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/payout_status.html")]
pub struct PayoutStatus {
    page: Page,
    payout: Payout,
    reason: Option<String>,
}

async fn read(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<(Page, Payout, Option<String>), PortalError> {
    let id: PayoutId = id.parse().map_err(|_| AppError::NotFound("payout"))?;
    let payout = state.app.payout(session.caller(), id).await?;
    let page = Page::new(session, "pay", "payout-title");
    let reason = payout
        .failure_code
        .as_deref()
        .map(|code| failure_reason(&page, code));
    Ok((page, payout, reason))
}

/// A failure code in words, when the catalogue knows it.
pub fn failure_reason(page: &Page, code: &str) -> String {
    let id = format!("failure-{}", code.replace('_', "-"));
    let text = page.t(&id);
    if text == id { code.to_owned() } else { text }
}

/// `GET /payouts/{id}`
pub async fn payout(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<PayoutPage, PortalError> {
    let (page, payout, reason) = read(&state, &session, &id).await?;
    Ok(PayoutPage {
        page,
        payout,
        reason,
    })
}

/// `GET /payouts/{id}/status`: the live part of the payout's page.
pub async fn status(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<PayoutStatus, PortalError> {
    let (page, payout, reason) = read(&state, &session, &id).await?;
    Ok(PayoutStatus {
        page,
        payout,
        reason,
    })
}
