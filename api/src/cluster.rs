//! `GET /v1/cluster` (admin keys): the nodes, their leases, what each owns and its share
//! of each route's quotas (docs/cluster.md).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::Authenticated;
use crate::problem::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cluster))
}

/// The cluster's nodes, oldest first: each one's lease (live, or expired and not yet
/// reaped), the batches and collections it owns, its roles and its quota shares.
#[utoipa::path(get, path = "/v1/cluster", operation_id = "get_cluster", tag = "cluster",
    responses((status = 200, description = "The nodes with a lease, and what each owns")))]
async fn cluster(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let nodes = state.app.cluster(&caller).await?;
    let live = nodes.iter().filter(|node| node.live).count();
    Ok(Json(json!({ "live_nodes": live, "nodes": nodes })))
}
