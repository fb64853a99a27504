//! MTN's account calls: the balance (the simulator's float in the environment's
//! currency) and account holders (active unless sandbox …457, with a made-up name).

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::transfers::sandbox_behaviour;
use super::{Reject, authorize, is_msisdn};
use crate::simserver::profile::Product;
use crate::simserver::{Sim, json};
use crate::simulator::sandbox::SandboxBehaviour;

pub(super) async fn balance(
    sim: Arc<Sim>,
    product: Product,
    headers: HeaderMap,
) -> Result<Response, Reject> {
    let live = sim.live();
    let (_, currency) = authorize(&sim, &live, product, &headers)?;
    let body = serde_json::json!({
        "availableBalance": sim.book.float(currency).format(currency),
        "currency": currency.code(),
    });
    Ok(json(StatusCode::OK, body.to_string()))
}

/// `…/accountholder/msisdn/{number}/active` and `…/basicuserinfo`.
pub(super) async fn holder(
    sim: Arc<Sim>,
    product: Product,
    headers: HeaderMap,
    (id_type, number, what): (String, String, String),
) -> Result<Response, Reject> {
    let live = sim.live();
    authorize(&sim, &live, product, &headers)?;
    if !id_type.eq_ignore_ascii_case("msisdn") || !is_msisdn(&number) {
        return Err(Reject::BadRequest(
            "the simulator knows MSISDN account holders only",
        ));
    }
    let active = sandbox_behaviour(&number) != Some(SandboxBehaviour::Fails("PAYEE_NOT_FOUND"));
    match what.as_str() {
        "active" => Ok(json(StatusCode::OK, format!(r#"{{"result":{active}}}"#))),
        "basicuserinfo" if active => {
            let family = format!("Payee {}", &number[number.len() - 4..]);
            let body = serde_json::json!({
                "given_name": "Test",
                "family_name": family,
                "name": format!("Test {family}"),
                "locale": "en",
                "status": "ACTIVE",
            });
            Ok(json(StatusCode::OK, body.to_string()))
        }
        _ => Err(Reject::Code(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND")),
    }
}
