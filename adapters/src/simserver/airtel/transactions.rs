//! Airtel disbursements and collections: the POST (TS, TIP, TA or TF under the profile's
//! faults; a reused id is `…011` and executes nothing), its callback to the profile's URL,
//! and the enquiry (404 `…013` for an unknown id, 429 over the client's rate).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use payrail_engine::ids::Reference;
use payrail_engine::money::Amount;
use tokio::time::Instant;

use super::wire::{self, Answer, response_code, transaction_json};
use super::{CURRENCY, Reject, authorize, plain};
use crate::simserver::book::{Kind, Order, SimOperator, Status, Submitted};
use crate::simserver::callbacks::Job;
use crate::simserver::draws::{Draw, reference_of};
use crate::simserver::faults::{self, Acceptance, Course, Decision, Refusal, ReplyFault};
use crate::simserver::profile::CallbackMethod;
use crate::simserver::stats::bump;
use crate::simserver::{Live, Sim, garbage, json};

/// Longest transaction id or reference kept, in bytes (our bound).
const ID_BYTES_MAX: usize = 128;

/// What a create body asks for: the order, and whether the number is malformed (a TF).
fn read_order(kind: Kind, body: &[u8], owner: Arc<str>) -> Result<(Order, bool), Reject> {
    let (msisdn, reference, transaction) = match kind {
        Kind::Transfer => {
            let request: wire::DisbursementRequest = serde_json::from_slice(body)
                .map_err(|_| Reject::BadRequest("the body is not a valid disbursement"))?;
            if request.pin.is_empty() || BASE64.decode(request.pin.as_bytes()).is_err() {
                return Err(Reject::BadRequest(
                    "the pin must be the encrypted PIN in base64",
                ));
            }
            if request.transaction.kind.as_deref() != Some("B2C") {
                return Err(Reject::BadRequest("transaction.type must be B2C"));
            }
            (request.payee.msisdn, request.reference, request.transaction)
        }
        Kind::Payment => {
            let request: wire::PaymentRequest = serde_json::from_slice(body)
                .map_err(|_| Reject::BadRequest("the body is not a valid payment"))?;
            (
                request.subscriber.msisdn,
                request.reference,
                request.transaction,
            )
        }
    };
    let amount = Amount::parse(&transaction.amount, CURRENCY)
        .ok()
        .filter(|amount| !amount.is_zero())
        .ok_or(Reject::BadRequest(
            "the amount must be a positive whole number of RWF",
        ))?;
    let id = transaction.id;
    let external_id = reference.unwrap_or_default();
    if id.is_empty() || id.len() > ID_BYTES_MAX || external_id.len() > ID_BYTES_MAX {
        return Err(Reject::BadRequest(
            "transaction.id must be 1 to 128 bytes, reference at most 128",
        ));
    }
    // Airtel wants the number without its country code: nine digits in Rwanda.
    let invalid = !(msisdn.len() == 9 && msisdn.bytes().all(|b| b.is_ascii_digit()));
    let order = Order {
        operator: SimOperator::Airtel,
        kind,
        id,
        owner,
        external_id,
        msisdn,
        amount,
        currency: CURRENCY,
        payer_message: String::new(),
        payee_note: String::new(),
    };
    Ok((order, invalid))
}

/// Airtel records a refused or malformed transaction as TF rather than answering 400.
fn failed_now(reason: &'static str) -> Decision {
    Decision::Accepted(Acceptance {
        course: Course::Fails {
            reason,
            after: Duration::ZERO,
        },
        reply: ReplyFault::None,
        slow: false,
    })
}

pub(super) async fn create(
    sim: Arc<Sim>,
    kind: Kind,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Reject> {
    bump(match kind {
        Kind::Transfer => &sim.counters.transfer_posts,
        Kind::Payment => &sim.counters.payment_posts,
    });
    let live = sim.live();
    let owner = authorize(&sim, &headers)?;
    let (order, invalid_msisdn) = read_order(kind, &body, owner)?;
    if let Some(secs) = sim.burst.active() {
        bump(&sim.counters.rate_limited);
        return Err(Reject::TooMany(secs));
    }
    let id = order.id.clone();
    let reference = reference_of(&id);
    let mut rejected = false;
    let submitted = sim
        .book
        .submit(order, live.profile.transfers_max, |attempt| {
            if invalid_msisdn {
                return failed_now("PAYEE_NOT_FOUND");
            }
            match faults::decide(&live.profile, kind, None, reference, attempt) {
                Decision::Refused(Refusal::Rejected(reason)) => {
                    rejected = true;
                    failed_now(reason)
                }
                decision => decision,
            }
        });
    let receipt = match submitted {
        Submitted::Created(receipt) => receipt,
        Submitted::Duplicate => {
            bump(&sim.counters.duplicates);
            let code = Some(response_code(kind, "11"));
            return Ok(plain(
                StatusCode::OK,
                Some(&id),
                code,
                "Duplicate transaction id",
            ));
        }
        Submitted::Full => return Err(Reject::Unavailable),
        Submitted::Refused(refusal) => return refused(&sim, &live, refusal).await,
    };
    sim.counters.note(receipt);
    if rejected {
        bump(&sim.counters.rejected);
    }
    call_back(&sim, &live, kind, &id, reference, receipt.ends);
    // The POST of an ambiguous transaction says TA, whatever it becomes.
    let shown = match receipt.reply {
        ReplyFault::Ambiguous => Status::Ambiguous,
        ReplyFault::None | ReplyFault::Hang | ReplyFault::ServerError => receipt.status,
    };
    let body = sim
        .book
        .with_created(SimOperator::Airtel, kind, &id, |created| {
            transaction_json(&id, created, shown, Answer::Post)
        });
    let body = body.ok_or(Reject::Unavailable)?;
    match receipt.reply {
        ReplyFault::Hang => live.hang().await,
        ReplyFault::ServerError => {
            live.travel(reference, 1).await;
            let message = "Internal server error";
            return Ok(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                None,
                message,
            ));
        }
        ReplyFault::None | ReplyFault::Ambiguous => live.travel(reference, 1).await,
    }
    Ok(json(StatusCode::OK, body))
}

async fn refused(sim: &Sim, live: &Live, refusal: Refusal) -> Result<Response, Reject> {
    match refusal {
        Refusal::RateLimited => {
            bump(&sim.counters.rate_limited);
            let burst = Duration::from_millis(live.profile.faults.burst_ms);
            Err(Reject::TooMany(sim.burst.start(burst)))
        }
        // `create` turns rejections into TF transactions; none reach here.
        Refusal::Rejected(_) => Err(Reject::BadRequest("rejected")),
        Refusal::Lost => {
            bump(&sim.counters.accepted_then_lost);
            live.hang().await;
            Ok(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
    }
}

/// Schedules the Airtel callback, if the profile has a URL and the transaction ends.
fn call_back(
    sim: &Sim,
    live: &Live,
    kind: Kind,
    id: &str,
    reference: Reference,
    ends: Option<(Instant, Status)>,
) {
    let (Some(url), Some((due, status))) = (&live.profile.airtel_callback_url, ends) else {
        return;
    };
    let settings = live.profile.callbacks;
    let roll = live.draws().roll_ppm(Draw::CallbackDrop, reference, 0);
    if roll < settings.drop_ppm {
        bump(&sim.counters.callbacks_dropped);
        return;
    }
    let body = sim
        .book
        .with_created(SimOperator::Airtel, kind, id, |created| {
            wire::callback_json(id, created, status)
        });
    let Some(body) = body else {
        return;
    };
    let job = Job {
        url: url.clone(),
        method: CallbackMethod::Post,
        body: body.into(),
        due,
        duplicate: roll - settings.drop_ppm < settings.duplicate_ppm,
    };
    sim.callbacks
        .schedule(job, settings, Arc::clone(&sim.counters));
}

pub(super) async fn enquiry(
    sim: Arc<Sim>,
    kind: Kind,
    headers: HeaderMap,
    id: String,
) -> Result<Response, Reject> {
    bump(&sim.counters.status_queries);
    let live = sim.live();
    let owner = authorize(&sim, &headers)?;
    if let Err(secs) = live.status_limit.check(&owner) {
        bump(&sim.counters.status_rate_limited);
        return Err(Reject::TooMany(secs));
    }
    let found = sim.book.query(
        SimOperator::Airtel,
        kind,
        &id,
        &owner,
        |created, status, queries| {
            (
                transaction_json(&id, created, status, Answer::Enquiry),
                queries,
            )
        },
    );
    let Some((body, queries)) = found else {
        // 404 with DP00900001013 (DP00800001013 for collections): our convention, as
        // Airtel's public docs do not pin what an unknown id gets.
        bump(&sim.counters.status_not_found);
        let code = Some(response_code(kind, "13"));
        return Ok(plain(
            StatusCode::NOT_FOUND,
            Some(&id),
            code,
            "Transaction not found",
        ));
    };
    let reference = reference_of(&id);
    live.travel(reference, queries.saturating_add(1)).await;
    let garbage_ppm = live.profile.faults.garbage_status;
    if live
        .draws()
        .happens(Draw::GarbageStatus, reference, queries, garbage_ppm)
    {
        bump(&sim.counters.garbage_status);
        return Ok(garbage());
    }
    Ok(json(StatusCode::OK, body))
}
