//! Webhooks to merchants: database triggers write an event to the `webhook_events`
//! outbox with every payout, batch and collection change of state; the [`Deliverer`]
//! sends them, signed per Standard Webhooks, with a client (`client`) that reaches only
//! the addresses the URL policy permits; and the
//! `/v1/webhook-endpoint` and `/v1/webhooks` endpoints set where they go (and rotate the
//! secret they are signed with) and show what became of them.

mod client;
mod deliverer;
mod delivery_metrics;
mod endpoint;
mod events;
pub mod signing;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use deliverer::Deliverer;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            endpoint::set_endpoint,
            endpoint::get_endpoint,
            endpoint::remove_endpoint
        ))
        .routes(routes!(endpoint::rotate_secret))
        .routes(routes!(events::list))
        .routes(routes!(events::show))
        .routes(routes!(events::resend))
}
