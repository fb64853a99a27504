//! THE table: what Airtel answered → what the engine may do, one function per call. Each
//! row is one match arm with its reason; when an answer fits no row, the outcome is unknown.

use payrail_engine::money::{Amount, Currency};
use payrail_engine::operator::{AccountHolder, OperatorError, PaymentStatus, PayoutStatus};
use serde::de::DeserializeOwned;

use crate::http::{refused_before_executing, unknown_since};

use super::exchange::Answer;
use super::wire::{BalanceData, Reply, Transaction, TransactionData, TransactionStatus, UserData};

/// The response codes that decide a disbursement, from Airtel's documentation.
pub mod disbursement_code {
    pub const SUCCESS: &str = "DP00900001001";
    pub const AMBIGUOUS: &str = "DP00900001000";
    pub const IN_PROGRESS: &str = "DP00900001006";
    /// A transaction with this id already exists: ours, sent before.
    pub const DUPLICATE: &str = "DP00900001011";
}

/// The response codes that decide a collection (a request to pay).
pub mod collection_code {
    pub const SUCCESS: &str = "DP00800001001";
    pub const AMBIGUOUS: &str = "DP00800001000";
    pub const IN_PROGRESS: &str = "DP00800001006";
}

/// The code of an expired transaction, which Airtel marks with a status, not a code.
pub const EXPIRED: &str = "EXPIRED";

/// `POST /standard/v2/disbursements/`.
pub fn disbursement(answer: &Answer) -> Result<PayoutStatus, OperatorError> {
    use TransactionStatus::{Ambiguous, Failed, InProgress, Succeeded};
    use disbursement_code::{AMBIGUOUS, DUPLICATE, IN_PROGRESS, SUCCESS};
    let reply = sent_reply(answer)?;
    let (code, status, success) = reply.verdict();
    match (code, status, success) {
        // The id already exists at Airtel: our earlier send. Its outcome is the enquiry's.
        (Some(DUPLICATE), _, _) => Err(unknown_since(answer.started)),
        // Airtel says itself that it does not know yet.
        (Some(AMBIGUOUS), _, _) | (_, Some(Ambiguous), _) => Err(unknown_since(answer.started)),
        // Paid; the code, when present, agrees.
        (Some(SUCCESS) | None, Some(Succeeded), Some(true) | None) => Ok(PayoutStatus::Succeeded {
            operator_transaction_id: reply.airtel_money_id(),
        }),
        // Accepted and in progress: the enquiry gives the end.
        (Some(IN_PROGRESS) | None, Some(InProgress), Some(true) | None) => {
            Ok(PayoutStatus::Pending)
        }
        // Failed with a code of its own: final, nothing moved.
        (Some(code), Some(Failed) | None, _) if is_failure(code, success, status) => {
            Err(rejected(code))
        }
        // `TF` without a code: the transaction's message says why.
        (None, Some(Failed), _) => Err(rejected(&reply.failure_code())),
        // Codes and statuses that disagree, `TE`, an unknown status, or nothing at all.
        _ => Err(unknown_since(answer.started)),
    }
}

/// `GET /standard/v2/disbursements/{reference}?transactionType=B2C`.
pub fn disbursement_enquiry(answer: &Answer) -> Result<Option<PayoutStatus>, OperatorError> {
    let Some(reply) = enquiry_reply(answer)? else {
        return Ok(None);
    };
    match reply.verdict() {
        // Paid.
        (_, Some(TransactionStatus::Succeeded), Some(true) | None) => {
            Ok(Some(PayoutStatus::Succeeded {
                operator_transaction_id: reply.airtel_money_id(),
            }))
        }
        // Failed: final.
        (_, Some(TransactionStatus::Failed), _) => Ok(Some(PayoutStatus::Failed {
            code: reply.failure_code(),
        })),
        // Expired before it was done: nothing moved, final.
        (_, Some(TransactionStatus::Expired), _) => Ok(Some(PayoutStatus::Failed {
            code: EXPIRED.into(),
        })),
        // Still in progress.
        (_, Some(TransactionStatus::InProgress), _) => Ok(Some(PayoutStatus::Pending)),
        // `TA`, an unknown status, no status, or `TS` with `success: false`: ask again later.
        _ => Err(unknown_since(answer.started)),
    }
}

/// `POST /merchant/v1/payments/`.
pub fn payment_request(answer: &Answer) -> Result<PaymentStatus, OperatorError> {
    use TransactionStatus::{Ambiguous, Failed, InProgress, Succeeded};
    use collection_code::{AMBIGUOUS, IN_PROGRESS, SUCCESS};
    let reply = sent_reply(answer)?;
    let (code, status, success) = reply.verdict();
    match (code, status, success) {
        // Airtel says itself that it does not know yet.
        (Some(AMBIGUOUS), _, _) | (_, Some(Ambiguous), _) => Err(unknown_since(answer.started)),
        // The customer was asked to approve: the usual answer.
        (Some(IN_PROGRESS) | None, Some(InProgress), Some(true) | None) => {
            Ok(PaymentStatus::Pending)
        }
        // Paid at once (not expected, but final and agreed).
        (Some(SUCCESS) | None, Some(Succeeded), Some(true) | None) => Ok(PaymentStatus::Paid {
            operator_transaction_id: reply.airtel_money_id(),
        }),
        // Refused with a code of its own: nobody was asked, nothing moved.
        (Some(code), Some(Failed) | None, _) if is_failure(code, success, status) => {
            Err(rejected(code))
        }
        // `TF` without a code: the transaction's message says why.
        (None, Some(Failed), _) => Err(rejected(&reply.failure_code())),
        // Codes and statuses that disagree, `TE`, an unknown status, or nothing at all.
        _ => Err(unknown_since(answer.started)),
    }
}

/// `GET /standard/v1/payments/{reference}`.
pub fn payment_enquiry(answer: &Answer) -> Result<Option<PaymentStatus>, OperatorError> {
    let Some(reply) = enquiry_reply(answer)? else {
        return Ok(None);
    };
    match reply.verdict() {
        // Paid by the customer.
        (_, Some(TransactionStatus::Succeeded), Some(true) | None) => {
            Ok(Some(PaymentStatus::Paid {
                operator_transaction_id: reply.airtel_money_id(),
            }))
        }
        // Declined, wrong PIN, not enough funds: final.
        (_, Some(TransactionStatus::Failed), _) => Ok(Some(PaymentStatus::Failed {
            code: reply.failure_code(),
        })),
        // The customer did not answer in time.
        (_, Some(TransactionStatus::Expired), _) => Ok(Some(PaymentStatus::Expired)),
        // Waiting for the customer.
        (_, Some(TransactionStatus::InProgress), _) => Ok(Some(PaymentStatus::Pending)),
        // `TA`, an unknown status, no status, or `TS` with `success: false`: ask again later.
        _ => Err(unknown_since(answer.started)),
    }
}

/// `GET /standard/v1/users/{msisdn}`.
pub fn account_holder(answer: &Answer) -> Result<AccountHolder, OperatorError> {
    match answer.status.as_u16() {
        // Found: active unless barred.
        200..=299 => {}
        // No such subscriber.
        404 => {
            return Ok(AccountHolder {
                active: false,
                name: None,
            });
        }
        _ => return Err(http_failure(answer)),
    }
    let reply: Reply<UserData> = read(answer)?;
    // Airtel could not confirm a holder: treated like "no such subscriber".
    if reply.status.as_ref().and_then(|status| status.success) == Some(false) {
        return Ok(AccountHolder {
            active: false,
            name: None,
        });
    }
    let Some(user) = reply.data else {
        return Err(unknown_since(answer.started));
    };
    let name = [user.first_name, user.last_name]
        .into_iter()
        .flatten()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(AccountHolder {
        active: user.is_barred != Some(true),
        name: (!name.is_empty()).then_some(name),
    })
}

/// `GET /standard/v1/users/balance`; a balance in another currency than `expected` is
/// returned in its own currency, for the caller to notice.
pub fn balance(answer: &Answer, expected: Currency) -> Result<(Amount, Currency), OperatorError> {
    if !answer.status.is_success() {
        return Err(http_failure(answer));
    }
    let reply: Reply<BalanceData> = read(answer)?;
    let data = reply.data.ok_or_else(|| unknown_since(answer.started))?;
    let currency = match data.currency.as_deref() {
        None => expected,
        Some(code) => code.parse().map_err(|_| unknown_since(answer.started))?,
    };
    let amount = data
        .balance
        .as_deref()
        .and_then(|text| Amount::parse(text.trim(), currency).ok())
        .ok_or_else(|| unknown_since(answer.started))?;
    Ok((amount, currency))
}

/// The HTTP rows of a send (disbursement or payment request); a 2xx reply is read.
fn sent_reply(answer: &Answer) -> Result<Reply<TransactionData>, OperatorError> {
    match answer.status.as_u16() {
        // A reply to read.
        200..=299 => read(answer),
        // Malformed request (bad number, amount, PIN): refused, nothing executed.
        400 => {
            let reply: Option<Reply<TransactionData>> = serde_json::from_slice(&answer.body).ok();
            let status = reply.and_then(|reply| reply.status).unwrap_or_default();
            let code = status.response_code.or(status.message);
            Err(rejected(code.as_deref().unwrap_or("HTTP_400")))
        }
        // 401 twice, 403, 429: refused before executing. 5xx and the rest: may have run.
        _ => Err(http_failure(answer)),
    }
}

/// The HTTP rows of an enquiry; `None` when Airtel never created the transaction.
fn enquiry_reply(answer: &Answer) -> Result<Option<Reply<TransactionData>>, OperatorError> {
    match answer.status.as_u16() {
        // A reply to read.
        200..=299 => read(answer).map(Some),
        // Never created. Airtel's public docs do not pin this down; it is the convention of
        // our simulator (404 with `DP00900001013`), and a resend of ours is deduplicated
        // by Airtel on the transaction id (`DP00900001011`) if it was created after all.
        404 => Ok(None),
        // 401 twice, 403, 429: not asked, ask again. 400, 5xx and the rest: ask again later.
        _ => Err(http_failure(answer)),
    }
}

/// The HTTP statuses every call reads the same way.
fn http_failure(answer: &Answer) -> OperatorError {
    match answer.status.as_u16() {
        // Still unauthorised with a fresh token: refused before executing.
        401 => OperatorError::NotSent {
            detail: "Airtel refused a freshly issued token (401)".into(),
            retry_after_ms: None,
        },
        // Forbidden or throttled before executing; `Retry-After` says when to come back.
        403 | 429 => refused_before_executing(answer.status, &answer.headers),
        // 5xx, 409, a proxy's 404 on a send, anything else: it may have executed.
        _ => unknown_since(answer.started),
    }
}

/// A 2xx body, or "unknown" when it does not parse (it may be a half-written success).
fn read<D: DeserializeOwned>(answer: &Answer) -> Result<Reply<D>, OperatorError> {
    serde_json::from_slice(&answer.body).map_err(|error| {
        tracing::warn!(status = %answer.status, bytes = answer.body.len(), %error,
            "unreadable Airtel reply; the outcome is unknown");
        unknown_since(answer.started)
    })
}

/// A code other than success, progress or ambiguity, with `TF` or `success: false`.
fn is_failure(code: &str, success: Option<bool>, status: Option<&TransactionStatus>) -> bool {
    let undecided = [
        disbursement_code::SUCCESS,
        disbursement_code::IN_PROGRESS,
        collection_code::SUCCESS,
        collection_code::IN_PROGRESS,
    ];
    !undecided.contains(&code)
        && (success == Some(false) || status == Some(&TransactionStatus::Failed))
}

fn rejected(code: &str) -> OperatorError {
    OperatorError::Rejected { code: code.into() }
}

impl Reply<TransactionData> {
    /// The three things the tables decide on.
    fn verdict(&self) -> (Option<&str>, Option<&TransactionStatus>, Option<bool>) {
        let status = self.status.as_ref();
        (
            status.and_then(|status| status.response_code.as_deref()),
            self.transaction()
                .and_then(|transaction| transaction.status.as_ref()),
            status.and_then(|status| status.success),
        )
    }

    fn transaction(&self) -> Option<&Transaction> {
        self.data.as_ref()?.transaction.as_ref()
    }

    fn airtel_money_id(&self) -> Option<String> {
        self.transaction()?.airtel_money_id.clone()
    }

    /// Why a transaction failed: the response code unless it is one that does not say
    /// failure (an enquiry may answer "enquiry succeeded"), else the transaction's message,
    /// else `TF`.
    fn failure_code(&self) -> String {
        self.status
            .as_ref()
            .and_then(|status| status.response_code.clone())
            .filter(|code| is_failure(code, Some(false), None))
            .or_else(|| self.transaction()?.message.clone())
            .unwrap_or_else(|| "TF".into())
    }
}
