//! What every page's layout needs: the reader's language and formats, who is signed in,
//! the session's form token, which navigation entry is current, and the merchant's time
//! zone and currency; with the helpers templates call (`t`, `money`, `time`, `can`).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use payrail_engine::api_key::Role;
use payrail_engine::money::{Amount, Currency};

use super::assets;
use super::format::Formats;
use super::i18n::Language;
use super::session::Session;

/// The navigation bar's entries: (section, message id, path, roles that see it; empty:
/// everyone).
pub const NAVIGATION: [(&str, &str, &str, &[Role]); 11] = [
    ("dashboard", "nav-dashboard", "/", &[]),
    ("pay", "nav-pay", "/pay", &[Role::Maker]),
    ("payroll", "nav-payroll", "/payroll", &[Role::Maker]),
    ("approvals", "nav-approvals", "/approvals", &[]),
    ("batches", "nav-batches", "/batches", &[]),
    ("collect", "nav-collect", "/collect", &[Role::Maker]),
    ("transactions", "nav-transactions", "/transactions", &[]),
    ("statement", "nav-statement", "/statement", &[]),
    ("analytics", "nav-analytics", "/analytics", &[]),
    ("exports", "nav-exports", "/exports", &[]),
    ("settings", "nav-settings", "/settings", &[Role::Admin]),
];

/// A navigation link as the layout draws it.
#[derive(Clone, Debug)]
pub struct NavLink {
    pub label: String,
    pub path: &'static str,
    pub current: bool,
}

/// The layout's context.
#[derive(Clone, Debug)]
pub struct Page {
    pub language: Language,
    pub formats: Formats,
    pub title: String,
    pub nav: Vec<NavLink>,
    pub email: String,
    pub role: Role,
    pub merchant_name: String,
    pub csrf: String,
    /// This page's path and query.
    pub back: String,
    pub languages: Vec<(String, String)>,
    pub zone: TimeZone,
    pub currency: Currency,
}

impl Page {
    /// The page `section` (a `NAVIGATION` entry) titled by the message `title`.
    pub fn new(session: &Session, section: &str, title: &str) -> Page {
        let merchant = &session.signed_in.merchant;
        let zone = TimeZone::get(&merchant.time_zone).unwrap_or(TimeZone::UTC);
        let role = session.caller().role;
        let language = session.language.clone();
        let nav = NAVIGATION
            .iter()
            .filter(|(_, _, _, roles)| {
                roles.is_empty() || role == Role::Admin || roles.contains(&role)
            })
            .map(|(name, label, path, _)| NavLink {
                label: language.text(label),
                path,
                current: *name == section,
            })
            .collect();
        Page {
            formats: Formats::of(&language),
            title: language.text(title),
            nav,
            email: session.signed_in.user.email.clone(),
            role,
            merchant_name: merchant.name.clone(),
            csrf: session.signed_in.csrf_token.clone(),
            back: session.back.clone(),
            languages: Language::all(),
            language,
            zone,
            currency: merchant.currency,
        }
    }

    /// A message.
    pub fn t(&self, id: &str) -> String {
        self.language.text(id)
    }

    /// A message with one argument.
    pub fn t1(&self, id: &str, name: &'static str, value: impl ToString) -> String {
        self.language.text_with(id, &[(name, value.to_string())])
    }

    /// Minor units of the merchant's currency, with the currency.
    pub fn money(&self, minor: &i64) -> String {
        self.formats.money(*minor, self.currency)
    }

    /// An amount of the merchant's currency.
    pub fn amount(&self, amount: &Amount) -> String {
        self.formats.amount(*amount, self.currency)
    }

    /// A number of things.
    pub fn count(&self, count: &i64) -> String {
        self.formats.count(*count)
    }

    /// A number of lines (counted as `i32`, like a batch's).
    pub fn lines(&self, count: &i32) -> String {
        self.formats.count(i64::from(*count))
    }

    /// A moment in the merchant's time zone.
    pub fn time(&self, at: &Timestamp) -> String {
        self.formats.time(*at, &self.zone)
    }

    /// The name of a state (`state-succeeded`, …), in the reader's language.
    pub fn state(&self, state: &str) -> String {
        self.language
            .text(&format!("state-{}", state.replace('_', "-")))
    }

    /// The badge class for a state.
    pub fn badge(&self, state: &str) -> &'static str {
        badge(state)
    }

    /// Whether the signed-in role may do what `role` may.
    pub fn can(&self, role: &str) -> bool {
        self.role == Role::Admin || self.role.as_str() == role
    }

    pub fn role_name(&self) -> String {
        self.language.text(&format!("role-{}", self.role.as_str()))
    }

    /// The URL of a vendored asset.
    pub fn asset(&self, file: &'static str) -> &'static str {
        assets::url(file)
    }
}

/// The badge class for a payout, batch, collection or export state.
pub fn badge(state: &str) -> &'static str {
    match state {
        "succeeded" | "completed" | "ready" | "delivered" => "badge-succeeded",
        "failed" | "invalid" | "rejected" | "expired" | "declined" => "badge-failed",
        "requires_review" | "unknown" | "awaiting_approval" | "awaiting_funds" | "paused" => {
            "badge-review"
        }
        "cancelled" | "stopped" => "badge-cancelled",
        _ => "badge-pending",
    }
}
