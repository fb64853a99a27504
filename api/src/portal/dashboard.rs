//! The dashboard: available and reserved balance, what was paid out and collected today,
//! what needs someone's attention (counted at most every ten seconds), and the latest
//! payouts and collections.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use jiff::Timestamp;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::analytics::Flow;
use payrail_engine::store::recent::RecentItem;

use super::error::PortalError;
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// Items of the latest activity shown.
const RECENT_ITEMS: i64 = 8;

/// Something someone should look at, with where to do it.
#[derive(Clone, Debug)]
pub struct Attention {
    pub label: String,
    pub count: i64,
    pub link: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/dashboard.html")]
pub struct DashboardPage {
    page: Page,
    available: i64,
    reserved: i64,
    paid: Flow,
    collected: Flow,
    attention: Vec<Attention>,
    recent: Vec<RecentItem>,
}

/// `GET /`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
) -> Result<DashboardPage, PortalError> {
    let caller = session.caller();
    let page = Page::new(&session, "dashboard", "dashboard-title");
    let app = &state.app;
    let balance = app.balance(caller).await?;
    let today = Timestamp::now()
        .to_zoned(page.zone.clone())
        .date()
        .to_string();
    let analytics = app
        .analytics(Reader::Key(*caller), &today, &today, "day")
        .await?;
    let (paid, collected) = analytics
        .periods
        .first()
        .map(|period| (period.payouts, period.collections))
        .unwrap_or_default();
    let counts = app.attention(caller).await?;
    let attention = [
        ("attention-approval", counts.awaiting_approval, "/approvals"),
        (
            "attention-funds",
            counts.awaiting_funds,
            "/batches?state=awaiting_funds",
        ),
        ("attention-paused", counts.paused, "/batches?state=paused"),
        (
            "attention-review",
            counts.in_review,
            "/transactions?type=payout&state=requires_review",
        ),
        (
            "attention-webhooks",
            counts.failed_webhooks,
            "/settings#webhook",
        ),
    ]
    .into_iter()
    .map(|(label, count, link)| Attention {
        label: page.t(label),
        count,
        link: link.into(),
    })
    .collect();
    let recent = app.recent_activity(caller, RECENT_ITEMS).await?;
    Ok(DashboardPage {
        available: balance.available.minor(),
        reserved: balance.reserved.minor(),
        paid,
        collected,
        attention,
        recent,
        page,
    })
}
