//! Approvals: the batches awaiting a checker's decision, each with its totals, line count
//! and routes; the decision itself is taken on the batch's page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use payrail_engine::app::batches::{Batch, RouteTotal};
use payrail_engine::state::batch::BatchState;

use super::error::PortalError;
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// Batches listed at once.
const LISTED: i64 = 50;

/// A batch awaiting approval, with its routes.
#[derive(Clone, Debug)]
pub struct Awaiting {
    pub batch: Batch,
    pub routes: Vec<RouteTotal>,
    pub own: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/approvals.html")]
pub struct ApprovalsPage {
    page: Page,
    awaiting: Vec<Awaiting>,
}

/// `GET /approvals`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
) -> Result<ApprovalsPage, PortalError> {
    let caller = session.caller();
    let batches = state
        .app
        .newest_batches(caller, &[BatchState::AwaitingApproval], None, LISTED)
        .await?;
    let mut awaiting = Vec::with_capacity(batches.len());
    for batch in batches {
        let routes = state.app.batch_routes(caller, batch.id).await?;
        awaiting.push(Awaiting {
            own: batch.created_by == Some(caller.key),
            batch,
            routes,
        });
    }
    Ok(ApprovalsPage {
        page: Page::new(&session, "approvals", "approvals-title"),
        awaiting,
    })
}
