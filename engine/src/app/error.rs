//! What a use case answers when it does not do what was asked, named for what the caller
//! can do about it. Each front end renders these its own way (problem+json over HTTP, an
//! error next to a field in the portal, one line on the command line).

use crate::api_key::Role;
use crate::store::StoreError;

/// One refused field and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Why a use case refused.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller may not do this: its role is not among those listed.
    #[error("a {role} key may not do this; it needs one of: {needed}")]
    Forbidden { role: Role, needed: String },
    /// No such object, or another merchant's (which is the same to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed: `name` is a stable name for it.
    #[error("{detail}")]
    Malformed { name: &'static str, detail: String },
    /// Well formed, but some values are not acceptable; each is listed.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The object is not in a state that allows this, or the request repeats another.
    #[error("{detail}")]
    Conflict {
        name: &'static str,
        detail: String,
        /// Where the object in question lives, when there is one.
        link: Option<String>,
    },
    /// More than this use case takes at once.
    #[error("{0}")]
    TooLarge(String),
    /// This process cannot do it now (the engine is stopping, or too busy): try later.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Something broke on our side; the cause is for the log, not the caller.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
        AppError::Internal(error.into())
    }

    /// A refusal about one field.
    pub fn invalid_field(field: &str, reason: impl Into<String>) -> AppError {
        let reason = reason.into();
        AppError::Invalid {
            detail: format!("{field}: {reason}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                reason,
            }],
        }
    }

    /// Refusals about several fields, in order; `Ok` when there are none.
    pub fn fields(refusals: Vec<(String, String)>) -> Result<(), AppError> {
        if refusals.is_empty() {
            return Ok(());
        }
        let detail = refusals
            .iter()
            .map(|(field, reason)| format!("{field}: {reason}"))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AppError::Invalid {
            detail,
            errors: refusals
                .into_iter()
                .map(|(field, reason)| FieldError { field, reason })
                .collect(),
        })
    }

    pub fn malformed(name: &'static str, detail: impl Into<String>) -> AppError {
        AppError::Malformed {
            name,
            detail: detail.into(),
        }
    }

    /// A conflict with the object's state.
    pub fn conflict(name: &'static str, detail: impl Into<String>) -> AppError {
        AppError::Conflict {
            name,
            detail: detail.into(),
            link: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        match error {
            StoreError::NotFound { what } => AppError::NotFound(what),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(error: tokio_postgres::Error) -> AppError {
        AppError::Internal(error.into())
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(error: deadpool_postgres::PoolError) -> AppError {
        AppError::Internal(error.into())
    }
}

impl From<crate::ledger::LedgerError> for AppError {
    fn from(error: crate::ledger::LedgerError) -> AppError {
        AppError::Internal(error.into())
    }
}
