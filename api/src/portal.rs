//! The web portal at `/`: a finance team pays, collects, approves, reconciles and reports
//! in a browser. Pages are rendered on the server (askama templates in
//! `templates/portal/`), live parts refreshed with htmx; every page works without
//! JavaScript but for the live refresh. Each handler parses, calls one use case of the
//! application layer, and renders, exactly as the API's do.
//!
//! # Layout
//! - `assets`: the stylesheet and htmx, vendored and served from the binary
//! - `security`: security headers, and the refusal of cross-site requests
//! - `session`: the session cookie and the signed-in person
//! - `error`: the sign-in redirect and the error pages
//! - `i18n`, `format`: the message catalogues, and amounts and dates per language
//! - `page`: what the layout needs, and the helpers templates call
//! - `sign_in`: sign-in, sign-out, password setup, the language choice
//! - `form`: refusals shown next to their fields, and forms' idempotency keys
//! - `dashboard`: balances, today's flows, what needs attention, recent activity
//! - `pay`: pay one person, confirm the fee and total, and watch the payout end
//! - `payroll`: mass payment: upload or type lines, preview them, submit
//! - `collect`: a request to pay, followed live until the customer answers
//! - `approvals`, `batches`: batches awaiting a decision; a batch's live progress, lines,
//!   decisions and reconciliation files
//! - `transactions`, `statement`, `analytics`, `exports`: the reports, and their files
//! - `settings`: the approval rule, the webhook endpoint, API keys and users (admins)

mod analytics;
mod approvals;
mod assets;
mod batches;
mod collect;
mod dashboard;
mod error;
mod exports;
mod form;
mod format;
mod i18n;
mod page;
mod pay;
mod payroll;
mod security;
mod session;
mod settings;
mod sign_in;
mod statement;
mod transactions;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use self::session::PortalSettings;
use crate::AppState;

/// The portal's routes, with their own headers and refusals (the API's problem+json
/// answers are not for people).
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(sign_in::show).post(sign_in::sign_in))
        .route("/logout", post(sign_in::sign_out))
        .route(
            "/setup/{token}",
            get(sign_in::setup).post(sign_in::set_password),
        )
        .route("/language", post(sign_in::choose_language))
        .route("/assets/{hash}/{file}", get(assets::serve))
        .route("/pay", get(pay::show).post(pay::review))
        .route("/pay/edit", post(pay::edit))
        .route("/pay/send", post(pay::send))
        .route("/payouts/{id}", get(pay::payout))
        .route("/payouts/{id}/status", get(pay::status))
        .route("/payroll", get(payroll::show))
        .route("/payroll/template.csv", get(payroll::template))
        .route(
            "/payroll/upload",
            post(payroll::upload).layer(DefaultBodyLimit::max(payroll::UPLOAD_LIMIT_BYTES)),
        )
        .route("/payroll/typed", post(payroll::typed))
        .route("/payroll/submit", post(payroll::submit))
        .route("/payroll/drafts/{id}/errors.csv", get(payroll::error_file))
        .route("/approvals", get(approvals::show))
        .route("/batches", get(batches::list))
        .route("/batches/{id}", get(batches::show))
        .route("/batches/{id}/progress", get(batches::progress))
        .route("/batches/{id}/{decision}", post(batches::decide))
        .route("/batches/{id}/statement.{format}", get(batches::statement))
        .route("/collect", get(collect::show).post(collect::request))
        .route("/collections/{id}", get(collect::collection))
        .route("/collections/{id}/status", get(collect::status))
        .merge(transactions::routes())
        .merge(statement::routes())
        .merge(analytics::routes())
        .merge(exports::routes())
        .merge(settings::routes())
        .layer(axum::middleware::from_fn(error::localized))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::same_origin,
        ))
        .layer(axum::middleware::from_fn(security::headers))
}
