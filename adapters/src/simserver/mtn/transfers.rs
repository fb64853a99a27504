//! MTN transfers and requests to pay: the POST (202 with an empty body, 409 on a reused
//! reference, the profile's faults) with its callback, and the status GET (404 unknown,
//! 429 over the credential's rate).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::Msisdn;
use uuid::Uuid;

use super::wire::{CreateRequest, Shape, status_json};
use super::{Reject, authorize, is_msisdn};
use crate::simserver::book::{Kind, Order, Receipt, SimOperator, Submitted};
use crate::simserver::callbacks::Job;
use crate::simserver::draws::Draw;
use crate::simserver::faults::{self, Refusal, ReplyFault};
use crate::simserver::forgery::{Plan, opposite};
use crate::simserver::profile::Product;
use crate::simserver::stats::bump;
use crate::simserver::{Live, Sim, garbage, header, json};
use crate::simulator::sandbox::{self, SandboxBehaviour};

/// Longest `externalId`, `payerMessage` or `payeeNote` kept, in bytes: our bound, so that
/// the book stays small (MTN documents none).
const TEXT_BYTES_MAX: usize = 256;

fn kind_of(product: Product) -> Kind {
    match product {
        Product::Disbursement => Kind::Transfer,
        Product::Collection => Kind::Payment,
    }
}

/// What MTN's sandbox does with this number; cheap for every other number.
pub(super) fn sandbox_behaviour(digits: &str) -> Option<SandboxBehaviour> {
    if !(digits.len() == 11 && digits.starts_with("467331234")) {
        return None;
    }
    Msisdn::from_e164(digits)
        .ok()
        .and_then(|msisdn| sandbox::behaviour(&msisdn))
}

fn text(value: Option<String>) -> Result<String, Reject> {
    let value = value.unwrap_or_default();
    if value.len() > TEXT_BYTES_MAX {
        return Err(Reject::BadRequest("a text field is longer than 256 bytes"));
    }
    Ok(value)
}

/// The order a create request describes, or the 400 MTN would answer.
fn read_order(
    body: &[u8],
    kind: Kind,
    currency: Currency,
    id: String,
    owner: Arc<str>,
) -> Result<Order, Reject> {
    let request: CreateRequest = serde_json::from_slice(body)
        .map_err(|_| Reject::BadRequest("the body is not a valid request"))?;
    let (party, missing) = match kind {
        Kind::Transfer => (request.payee, "PAYEE_NOT_FOUND"),
        Kind::Payment => (request.payer, "PAYER_NOT_FOUND"),
    };
    let party = party.ok_or(Reject::BadRequest("the party is missing"))?;
    if !party.party_id_type.eq_ignore_ascii_case("MSISDN") {
        return Err(Reject::BadRequest(
            "the simulator takes partyIdType MSISDN only",
        ));
    }
    if !is_msisdn(&party.party_id) {
        return Err(Reject::Code(StatusCode::BAD_REQUEST, missing));
    }
    if request.currency != currency.code() {
        return Err(Reject::Code(StatusCode::BAD_REQUEST, "INVALID_CURRENCY"));
    }
    let amount = Amount::parse(&request.amount, currency)
        .ok()
        .filter(|amount| !amount.is_zero())
        .ok_or(Reject::BadRequest(
            "the amount is not a positive number of the currency",
        ))?;
    Ok(Order {
        operator: SimOperator::Mtn,
        kind,
        id,
        owner,
        external_id: text(request.external_id)?,
        msisdn: party.party_id,
        amount,
        currency,
        payer_message: text(request.payer_message)?,
        payee_note: text(request.payee_note)?,
    })
}

/// `X-Reference-Id`: a UUID version 4, as the live API insists.
fn reference_id(headers: &HeaderMap) -> Result<Uuid, Reject> {
    header(headers, "x-reference-id")
        .and_then(|text| Uuid::parse_str(text).ok())
        .filter(|uuid| uuid.get_version() == Some(uuid::Version::Random))
        .ok_or(Reject::BadRequest(
            "X-Reference-Id must be a UUID version 4",
        ))
}

/// `X-Callback-Url`, if given: an http(s) URL.
fn callback_url(headers: &HeaderMap) -> Result<Option<String>, Reject> {
    match header(headers, "x-callback-url") {
        None => Ok(None),
        Some(url)
            if reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) =>
        {
            Ok(Some(url.to_owned()))
        }
        Some(_) => Err(Reject::Code(
            StatusCode::BAD_REQUEST,
            "INVALID_CALLBACK_URL_HOST",
        )),
    }
}

pub(super) async fn create(
    sim: Arc<Sim>,
    product: Product,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Reject> {
    let kind = kind_of(product);
    bump(match kind {
        Kind::Transfer => &sim.counters.transfer_posts,
        Kind::Payment => &sim.counters.payment_posts,
    });
    let live = sim.live();
    let (grant, currency) = authorize(&sim, &live, product, &headers)?;
    let uuid = reference_id(&headers)?;
    let callback = callback_url(&headers)?;
    let id = uuid.hyphenated().to_string();
    let order = read_order(&body, kind, currency, id.clone(), grant.owner)?;
    if let Some(secs) = sim.burst.active() {
        bump(&sim.counters.rate_limited);
        return Err(Reject::TooMany(secs));
    }
    let reference = Reference::from_uuid(uuid);
    let sandbox = sandbox_behaviour(&order.msisdn);
    let submitted = sim
        .book
        .submit(order, live.profile.transfers_max, |attempt| {
            faults::decide(&live.profile, kind, sandbox, reference, attempt)
        });
    let receipt = match submitted {
        Submitted::Created(receipt) => receipt,
        Submitted::Duplicate => {
            bump(&sim.counters.duplicates);
            return Err(Reject::Code(StatusCode::CONFLICT, "RESOURCE_ALREADY_EXIST"));
        }
        Submitted::Full => {
            return Err(Reject::Code(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
            ));
        }
        Submitted::Refused(refusal) => return refused(&sim, &live, refusal).await,
    };
    sim.counters.note(receipt);
    if let Some(url) = callback {
        call_back(&sim, &live, kind, &id, reference, url, receipt);
    }
    match receipt.reply {
        ReplyFault::Hang => live.hang().await,
        ReplyFault::ServerError => {
            live.travel(reference, 1).await;
            return Err(Reject::Code(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_PROCESSING_ERROR",
            ));
        }
        ReplyFault::None | ReplyFault::Ambiguous => live.travel(reference, 1).await,
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

async fn refused(sim: &Sim, live: &Live, refusal: Refusal) -> Result<Response, Reject> {
    match refusal {
        Refusal::RateLimited => {
            bump(&sim.counters.rate_limited);
            let burst = Duration::from_millis(live.profile.faults.burst_ms);
            Err(Reject::TooMany(sim.burst.start(burst)))
        }
        Refusal::Rejected(code) => {
            bump(&sim.counters.rejected);
            Err(Reject::Code(StatusCode::BAD_REQUEST, code))
        }
        Refusal::Lost => {
            bump(&sim.counters.accepted_then_lost);
            live.hang().await;
            Ok(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
    }
}

/// Schedules the callback of a created transfer, unless it never ends or is dropped, and
/// the forgeries drawn for it (even if it is dropped).
fn call_back(
    sim: &Sim,
    live: &Live,
    kind: Kind,
    id: &str,
    reference: Reference,
    url: String,
    receipt: Receipt,
) {
    let settings = live.profile.callbacks;
    let earlier = sim.callbacks.last_urls.note(kind, &url, &settings);
    let Some((due, status)) = receipt.ends else {
        return;
    };
    let draws = live.draws();
    let plan = Plan::draw(live.profile.seed, &settings, reference);
    let omit = draws.happens(
        Draw::OmitReferenceId,
        reference,
        0,
        settings.omit_reference_id_ppm,
    );
    let shape = Shape {
        reference_id: (!omit).then_some(id),
        reason_as_code: draws.happens(
            Draw::ReasonAsString,
            reference,
            0,
            settings.reason_as_string_ppm,
        ),
    };
    let bodies = sim
        .book
        .with_created(SimOperator::Mtn, kind, id, |created| {
            let body = |status| Bytes::from(status_json(created, status, shape));
            let forged = plan.wrong_token.then(|| body(opposite(status)));
            (body(plan.told(status)), forged)
        });
    let Some((body, opposite_body)) = bodies else {
        return;
    };
    let method = match kind {
        Kind::Transfer => settings.transfer_method,
        Kind::Payment => settings.payment_method,
    };
    let mut job = Job {
        url,
        method,
        body,
        due,
        duplicate: false,
    };
    for (forgery, forged) in plan.forgeries(&job, opposite_body, earlier) {
        sim.callbacks
            .forge(forged, forgery, settings, Arc::clone(&sim.counters));
    }
    let roll = draws.roll_ppm(Draw::CallbackDrop, reference, 0);
    if roll < settings.drop_ppm {
        bump(&sim.counters.callbacks_dropped);
        return;
    }
    if plan.lie {
        bump(&sim.counters.callbacks_lied);
    }
    job.duplicate = roll - settings.drop_ppm < settings.duplicate_ppm;
    sim.callbacks
        .schedule(job, settings, Arc::clone(&sim.counters));
}

pub(super) async fn status(
    sim: Arc<Sim>,
    product: Product,
    headers: HeaderMap,
    reference: String,
) -> Result<Response, Reject> {
    bump(&sim.counters.status_queries);
    let live = sim.live();
    let (grant, _) = authorize(&sim, &live, product, &headers)?;
    let uuid = Uuid::parse_str(&reference)
        .ok()
        .filter(|uuid| uuid.get_version() == Some(uuid::Version::Random))
        .ok_or(Reject::BadRequest(
            "the reference id is not a UUID version 4",
        ))?;
    if let Err(secs) = live.status_limit.check(&grant.owner) {
        bump(&sim.counters.status_rate_limited);
        return Err(Reject::TooMany(secs));
    }
    let id = uuid.hyphenated().to_string();
    let found = sim.book.query(
        SimOperator::Mtn,
        kind_of(product),
        &id,
        &grant.owner,
        |created, status, queries| (status_json(created, status, Shape::default()), queries),
    );
    let Some((body, queries)) = found else {
        bump(&sim.counters.status_not_found);
        return Err(Reject::Code(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND"));
    };
    let reference = Reference::from_uuid(uuid);
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
