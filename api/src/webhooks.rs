//! Webhooks to merchants: database triggers write an event to the `webhook_events`
//! outbox with every payout, batch and collection change of state; the [`Deliverer`]
//! sends them, signed per Standard Webhooks, to URLs the [`UrlPolicy`] permits; and the
//! `/v1/webhook-endpoint` and `/v1/webhooks` endpoints set where they go and show what
//! became of them.

mod addresses;
mod deliverer;
mod delivery_metrics;
mod endpoint;
mod events;
pub mod signing;
mod url_guard;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use deliverer::Deliverer;
pub use events::STATES as EVENT_STATES;
pub use url_guard::{InvalidNetwork, Refusal, UrlPolicy};

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            endpoint::set_endpoint,
            endpoint::get_endpoint,
            endpoint::remove_endpoint
        ))
        .routes(routes!(events::list))
        .routes(routes!(events::show))
        .routes(routes!(events::resend))
}
