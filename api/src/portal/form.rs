//! Forms: the refusals of a use case shown next to their fields (and listed in an error
//! summary at the top, as GOV.UK does), and the idempotency key each form that creates
//! something carries, so that a double submit creates one thing.

use payrail_engine::app::{AppError, FieldError};

/// The fields a use case refused, with why.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// The refusals of `error` when it is about fields; any other error is returned.
    pub fn from_app(error: AppError) -> Result<FormErrors, AppError> {
        match error {
            AppError::Invalid { errors, .. } => Ok(FormErrors(errors)),
            AppError::Malformed { name, detail } => Ok(FormErrors(vec![FieldError {
                field: name.to_owned(),
                reason: detail,
            }])),
            AppError::Conflict { detail, .. } => Ok(FormErrors(vec![FieldError {
                field: "form".into(),
                reason: detail,
            }])),
            other => Err(other),
        }
    }

    /// One refusal, of a field the portal checked itself.
    pub fn one(field: &str, reason: impl Into<String>) -> FormErrors {
        FormErrors(vec![FieldError {
            field: field.to_owned(),
            reason: reason.into(),
        }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Why `field` was refused, if it was.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.reason.as_str())
    }

    /// `has-error` for a refused field's group.
    pub fn class(&self, field: &str) -> &'static str {
        if self.of(field).is_some() {
            " has-error"
        } else {
            ""
        }
    }
}

/// A fresh idempotency key for a form that creates something.
pub fn new_key() -> String {
    format!("portal-{}", uuid::Uuid::new_v4())
}
