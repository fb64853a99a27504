//! The dashboard: available and reserved balance, what was paid out and collected today,
//! what needs someone's attention, and the latest payouts and collections.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use jiff::Timestamp;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::reports::analytics::Flow;
use payrail_engine::app::reports::transactions::TransactionQuery;
use payrail_engine::state::batch::BatchState;
use payrail_engine::store::recent::RecentItem;

use super::error::PortalError;
use super::page::Page;
use super::session::Session;
use crate::AppState;

/// Items of the latest activity shown.
const RECENT_ITEMS: i64 = 8;
/// Batches counted per attention state (more shows as "100+").
const ATTENTION_MAX: i64 = 100;

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
    let mut attention = Vec::new();
    for (state_name, label, link) in [
        (
            BatchState::AwaitingApproval,
            "attention-approval",
            "/approvals",
        ),
        (
            BatchState::AwaitingFunds,
            "attention-funds",
            "/batches?state=awaiting_funds",
        ),
        (
            BatchState::Paused,
            "attention-paused",
            "/batches?state=paused",
        ),
    ] {
        let batches = app
            .newest_batches(caller, &[state_name], None, ATTENTION_MAX)
            .await?;
        attention.push(Attention {
            label: page.t(label),
            count: batches.len() as i64,
            link: link.into(),
        });
    }
    let review = TransactionQuery {
        types: Some("payout".into()),
        state: Some("requires_review".into()),
        ..TransactionQuery::default()
    };
    let scope = app.transaction_scope(Reader::Key(*caller), &review).await?;
    attention.push(Attention {
        label: page.t("attention-review"),
        count: app.transaction_totals(&scope).await?.count,
        link: "/transactions?type=payout&state=requires_review".into(),
    });
    let failed_webhooks = app
        .webhook_events(caller, Some("failed"), None, ATTENTION_MAX)
        .await?;
    attention.push(Attention {
        label: page.t("attention-webhooks"),
        count: failed_webhooks.len() as i64,
        link: "/settings#webhook".into(),
    });
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
