//! Accepting a payment: a request-to-pay form (number, amount, message to the payer), and
//! the request's page, which follows it live until the customer approves or declines it
//! on their phone (or it expires). The form carries an idempotency key.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use payrail_engine::app::AppError;
use payrail_engine::app::collections::{Named, PaymentRequest, Shape};
use payrail_engine::app::idempotency::{Answer, IdempotencyKey, fingerprint};
use payrail_engine::ids::CollectionId;
use payrail_engine::store::collections::Collection;
use serde::{Deserialize, Serialize};

use super::error::PortalError;
use super::form::{FormErrors, new_key};
use super::page::Page;
use super::pay::failure_reason;
use super::session::Session;
use crate::AppState;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct CollectForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default, skip_serializing)]
    idempotency_key: String,
    #[serde(default)]
    msisdn: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reference: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/collect.html")]
pub struct CollectPage {
    page: Page,
    form: CollectForm,
    key: String,
    errors: FormErrors,
}

/// `GET /collect`
pub async fn show(session: Session) -> CollectPage {
    CollectPage {
        page: Page::new(&session, "collect", "collect-title"),
        form: CollectForm::default(),
        key: new_key(),
        errors: FormErrors::default(),
    }
}

fn answer(collection: &Collection) -> Result<Answer, AppError> {
    Ok(Answer {
        status: 303,
        body: serde_json::json!({ "collection": collection.id }),
    })
}

/// `POST /collect`: asks the customer to approve the payment on their phone.
pub async fn request(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CollectForm>,
) -> Result<Response, PortalError> {
    session.check_csrf(&form.csrf)?;
    let page = Page::new(&session, "collect", "collect-title");
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let request = PaymentRequest {
        shape: Shape::Own {
            currency: page.currency.code().to_owned(),
            payer_message: optional(&form.message),
        },
        msisdn: Named {
            name: "msisdn",
            value: form.msisdn.trim().to_owned(),
        },
        amount: Named {
            name: "amount",
            value: form.amount.trim().to_owned(),
        },
        reference: Named {
            name: "reference",
            value: optional(&form.reference),
        },
        callback_url: Named {
            name: "callback_url",
            value: None,
        },
    };
    let key = IdempotencyKey::parse(&form.idempotency_key)?;
    let sha = fingerprint("portal collect", &form)?;
    match state
        .app
        .request_payment(session.caller(), &request, Some(&key), sha, answer)
        .await
    {
        Ok(answered) => {
            let id = answered.answer.body["collection"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(Redirect::to(&format!("/collections/{id}")).into_response())
        }
        Err(error) => {
            let errors = FormErrors::from_app(error)?;
            let page = CollectPage {
                page,
                key: form.idempotency_key.clone(),
                form,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/collection.html")]
pub struct CollectionPage {
    page: Page,
    collection: Collection,
    reason: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/collection_status.html")]
pub struct CollectionStatus {
    page: Page,
    collection: Collection,
    reason: Option<String>,
}

async fn read(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<(Page, Collection, Option<String>), PortalError> {
    let id: CollectionId = id.parse().map_err(|_| AppError::NotFound("collection"))?;
    let collection = state.app.collection(session.caller(), id).await?;
    let page = Page::new(session, "collect", "collection-title");
    let reason = collection
        .failure_code
        .as_deref()
        .map(|code| failure_reason(&page, code));
    Ok((page, collection, reason))
}

/// `GET /collections/{id}`
pub async fn collection(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<CollectionPage, PortalError> {
    let (page, collection, reason) = read(&state, &session, &id).await?;
    Ok(CollectionPage {
        page,
        collection,
        reason,
    })
}

/// `GET /collections/{id}/status`: the live part of the request's page.
pub async fn status(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<CollectionStatus, PortalError> {
    let (page, collection, reason) = read(&state, &session, &id).await?;
    Ok(CollectionStatus {
        page,
        collection,
        reason,
    })
}
