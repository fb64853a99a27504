//! The table from what MTN MoMo answered to what the engine may do, one function per kind
//! of call. `docs/operators.md` shows the same table; each row has a test against a mock
//! MTN. When an answer fits no row, the outcome is unknown: the engine asks, never resends.

use http::{HeaderMap, StatusCode};
use payrail_engine::operator::{OperatorError, PaymentStatus, PayoutStatus};
use tokio::time::Instant;

use super::wire::{ErrorReply, Status, StatusReply};
use crate::http::{refused_before_executing, unknown_since};

/// MTN's code for a reference it already has.
pub const ALREADY_EXISTS: &str = "RESOURCE_ALREADY_EXIST";
/// MTN's reason for a request to pay nobody approved in time.
const EXPIRED: &str = "EXPIRED";

/// What one HTTP answer means.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<T> {
    Answer(T),
    /// 401: the token was refused before anything ran; fetch a new one and resend.
    RefreshToken,
    Error(OperatorError),
}

/// One HTTP answer, as the adapter received it.
#[derive(Debug)]
pub struct Reply<'a> {
    pub status: StatusCode,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub started: Instant,
}

/// `POST transfer` and `POST requesttopay`: `Answer(())` means MTN took it (202), which is
/// not yet success; the outcome comes from a status query.
pub fn created(reply: &Reply<'_>) -> Verdict<()> {
    match reply.status.as_u16() {
        // Accepted for processing: submitted, ask for the outcome.
        202 => Verdict::Answer(()),
        // RESOURCE_ALREADY_EXIST: an earlier attempt with this reference arrived; what
        // became of it is a status query away.
        409 => Verdict::Error(unknown_since(reply.started)),
        // Refused with a reason; nothing was executed.
        400 => Verdict::Error(OperatorError::Rejected {
            code: error_code(reply.body).unwrap_or_else(|| "BAD_REQUEST".into()),
        }),
        401 => Verdict::RefreshToken,
        // Refused at the gate (quota, throttling): resend later with the same reference.
        403 | 429 => Verdict::Error(refused_before_executing(reply.status, reply.headers)),
        // 5xx and anything else: it may have run.
        _ => Verdict::Error(unknown_since(reply.started)),
    }
}

/// `GET transfer/{referenceId}`: `None` means MTN never created it (404).
pub fn payout_status(reply: &Reply<'_>) -> Verdict<Option<PayoutStatus>> {
    status_query(reply, |status| match status.status {
        Status::Pending => Some(PayoutStatus::Pending),
        Status::Successful => Some(PayoutStatus::Succeeded {
            operator_transaction_id: status.financial_transaction_id,
        }),
        Status::Failed => Some(PayoutStatus::Failed {
            code: failure_code(status.reason),
        }),
        Status::Unknown(_) => None,
    })
}

/// `GET requesttopay/{referenceId}`, read like a transfer's status; `EXPIRED` is its own end.
pub fn payment_status(reply: &Reply<'_>) -> Verdict<Option<PaymentStatus>> {
    status_query(reply, |status| match status.status {
        Status::Pending => Some(PaymentStatus::Pending),
        Status::Successful => Some(PaymentStatus::Paid {
            operator_transaction_id: status.financial_transaction_id,
        }),
        Status::Failed => Some(match failure_code(status.reason) {
            code if code == EXPIRED => PaymentStatus::Expired,
            code => PaymentStatus::Failed { code },
        }),
        Status::Unknown(_) => None,
    })
}

/// The rows every status query shares; `read` maps a parsed 200, `None` for a status we do
/// not know.
fn status_query<T>(
    reply: &Reply<'_>,
    read: impl FnOnce(StatusReply) -> Option<T>,
) -> Verdict<Option<T>> {
    match reply.status.as_u16() {
        // A status we know is final or pending; an undocumented one, or a body that does
        // not parse, tells nothing.
        200 => match serde_json::from_slice::<StatusReply>(reply.body)
            .ok()
            .and_then(read)
        {
            Some(status) => Verdict::Answer(Some(status)),
            None => Verdict::Error(unknown_since(reply.started)),
        },
        // RESOURCE_NOT_FOUND: never created, so a resend with the same reference is safe.
        404 => Verdict::Answer(None),
        401 => Verdict::RefreshToken,
        // Over the status-query quota: ask again later, after Retry-After.
        403 | 429 => Verdict::Error(refused_before_executing(reply.status, reply.headers)),
        _ => Verdict::Error(unknown_since(reply.started)),
    }
}

/// A reads-only call (balance, account holder): a parsed 200, or why not.
pub fn lookup<T: serde::de::DeserializeOwned>(reply: &Reply<'_>) -> Verdict<T> {
    match reply.status.as_u16() {
        200 => match serde_json::from_slice(reply.body) {
            Ok(answer) => Verdict::Answer(answer),
            Err(_) => Verdict::Error(unknown_since(reply.started)),
        },
        401 => Verdict::RefreshToken,
        400 | 404 => Verdict::Error(OperatorError::Rejected {
            code: error_code(reply.body).unwrap_or_else(|| reply.status.as_u16().to_string()),
        }),
        403 | 429 => Verdict::Error(refused_before_executing(reply.status, reply.headers)),
        _ => Verdict::Error(unknown_since(reply.started)),
    }
}

fn failure_code(reason: Option<crate::lenient::Reason>) -> String {
    reason.map_or_else(|| "FAILED".into(), |reason| reason.code)
}

fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorReply>(body)
        .ok()
        .and_then(|error| error.code.or(error.message))
}
