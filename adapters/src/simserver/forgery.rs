//! Forged and lying MTN callbacks, to test a receiver's checks. Besides the real callback
//! and at its time, each sent once: one to its URL with the last path segment (the token)
//! changed, claiming the opposite final status; one to its URL with another amount; its
//! body to the callback URL of an earlier transfer. And the lie: the real callback claims
//! the opposite final status. Each is a ppm rate of `[callbacks]`, drawn from the seed
//! and the reference like every other decision.

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use payrail_engine::ids::Reference;
use payrail_engine::money::{Amount, Currency};
use serde_json::Value;

use super::book::{Kind, Status};
use super::callbacks::Job;
use super::profile::CallbackProfile;
use super::stats::Counters;
use crate::simulator::dice::{Dice, Question};

/// What a lie or a forgery says a successful transfer failed with.
const LIE_REASON: &str = "INTERNAL_PROCESSING_ERROR";
/// The seed offset of the lie's draw; each forgery has its own, apart from `draws::Draw`'s.
const LIE_SALT: u64 = 0x5EED_0105;

/// A forged callback request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forgery {
    WrongToken,
    WrongAmount,
    Replay,
}

impl Forgery {
    const fn salt(self) -> u64 {
        match self {
            Forgery::WrongToken => 0x5EED_0101,
            Forgery::WrongAmount => 0x5EED_0102,
            Forgery::Replay => 0x5EED_0103,
        }
    }

    /// How many of these were sent.
    pub(crate) fn counter(self, counters: &Counters) -> &AtomicU64 {
        match self {
            Forgery::WrongToken => &counters.forged_wrong_token,
            Forgery::WrongAmount => &counters.forged_wrong_amount,
            Forgery::Replay => &counters.forged_replay,
        }
    }
}

/// What the dice decided for one transfer's callback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) lie: bool,
    pub(crate) wrong_token: bool,
    wrong_amount: bool,
    replay: bool,
}

impl Plan {
    pub(crate) fn draw(seed: u64, settings: &CallbackProfile, reference: Reference) -> Plan {
        let happens = |salt: u64, ppm: u32| {
            ppm > 0 && Dice::new(seed ^ salt).roll_ppm(reference, 0, Question::Outcome) < ppm
        };
        Plan {
            lie: happens(LIE_SALT, settings.lie_ppm),
            wrong_token: happens(Forgery::WrongToken.salt(), settings.forge_wrong_token_ppm),
            wrong_amount: happens(Forgery::WrongAmount.salt(), settings.forge_wrong_amount_ppm),
            replay: happens(Forgery::Replay.salt(), settings.forge_replay_ppm),
        }
    }

    /// The status the real callback claims for a transfer that ended `status`.
    pub(crate) fn told(self, status: Status) -> Status {
        if self.lie { opposite(status) } else { status }
    }

    /// The forged requests that go with `real`. `opposite` is its body claiming the
    /// opposite final status, given when `wrong_token`; `earlier` another transfer's
    /// callback URL.
    pub(crate) fn forgeries(
        self,
        real: &Job,
        opposite: Option<Bytes>,
        earlier: Option<String>,
    ) -> impl Iterator<Item = (Forgery, Job)> {
        let copy = |url: String, body: Bytes| Job {
            url,
            method: real.method,
            body,
            due: real.due,
            duplicate: false,
        };
        let wrong_token = opposite
            .zip(wrong_token_url(&real.url))
            .map(|(body, url)| (Forgery::WrongToken, copy(url, body)));
        let wrong_amount = self
            .wrong_amount
            .then(|| amount_plus_one(&real.body))
            .flatten()
            .map(|body| (Forgery::WrongAmount, copy(real.url.clone(), body)));
        let replay = earlier
            .filter(|_| self.replay)
            .map(|url| (Forgery::Replay, copy(url, real.body.clone())));
        [wrong_token, wrong_amount, replay].into_iter().flatten()
    }
}

/// The other final status: success for a failure, failure for a success.
pub(crate) fn opposite(status: Status) -> Status {
    match status {
        Status::Successful => Status::Failed(LIE_REASON),
        Status::Failed(_) => Status::Successful,
        Status::Pending | Status::Ambiguous => status,
    }
}

/// The callback URL of the last MTN transfer and request to pay seen, for replays.
#[derive(Debug, Default)]
pub(crate) struct LastUrls {
    transfer: Mutex<Option<String>>,
    payment: Mutex<Option<String>>,
}

impl LastUrls {
    /// While replays are on, keeps `url` as the last of `kind` and returns the one before
    /// it, if that was another.
    pub(crate) fn note(&self, kind: Kind, url: &str, settings: &CallbackProfile) -> Option<String> {
        if settings.forge_replay_ppm == 0 {
            return None;
        }
        let slot = match kind {
            Kind::Transfer => &self.transfer,
            Kind::Payment => &self.payment,
        };
        let mut last = slot.lock().unwrap_or_else(PoisonError::into_inner);
        last.replace(url.to_owned())
            .filter(|earlier| earlier != url)
    }
}

/// `url` with its last path segment replaced by another of the same length; `None` if it
/// is not a URL or its path ends in `/`.
fn wrong_token_url(url: &str) -> Option<String> {
    let mut parsed = reqwest::Url::parse(url).ok()?;
    let (head, token) = parsed.path().rsplit_once('/')?;
    if token.is_empty() {
        return None;
    }
    let path = format!("{head}/{}", other_token(token));
    parsed.set_path(&path);
    Some(parsed.into())
}

/// Another text of the same length: each letter and digit one on (z to a, 9 to 0),
/// percent escapes kept; a text with nothing to move becomes x's.
fn other_token(token: &str) -> String {
    let mut escaped = 0;
    let moved: String = token
        .chars()
        .map(|c| match c {
            '%' => {
                escaped = 2;
                c
            }
            _ if escaped > 0 => {
                escaped -= 1;
                c
            }
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            _ if c.is_ascii_alphanumeric() => char::from(c as u8 + 1),
            _ => c,
        })
        .collect();
    if moved == token {
        "x".repeat(token.len())
    } else {
        moved
    }
}

/// An MTN status body with its `amount` one minor unit more; `None` without an amount of
/// a known currency.
fn amount_plus_one(body: &[u8]) -> Option<Bytes> {
    let mut json: Value = serde_json::from_slice(body).ok()?;
    let currency: Currency = json.get("currency")?.as_str()?.parse().ok()?;
    let amount = Amount::parse(json.get("amount")?.as_str()?, currency).ok()?;
    let more = Amount::from_minor(amount.minor().checked_add(1)?).ok()?;
    json["amount"] = Value::String(more.format(currency));
    serde_json::to_vec(&json).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simserver::profile::CallbackMethod;
    use crate::simulator::PPM;
    use tokio::time::Instant;

    fn real(url: &str) -> Job {
        Job {
            url: url.to_owned(),
            method: CallbackMethod::Post,
            body: Bytes::from_static(
                br#"{"amount":"12.50","currency":"EUR","status":"SUCCESSFUL"}"#,
            ),
            due: Instant::now(),
            duplicate: false,
        }
    }

    #[test]
    fn the_wrong_token_url_changes_only_the_last_segment() {
        let url = "https://payrail.example/callbacks/mtn/0190f0a4-7c1e/tok_Az9-x?v=1";
        let wrong = wrong_token_url(url).expect("a last segment");
        let (head, token) = url
            .split_once("?")
            .expect("a query")
            .0
            .rsplit_once('/')
            .expect("/");
        let (wrong_head, wrong_token) = wrong
            .split_once("?")
            .expect("the query is kept")
            .0
            .rsplit_once('/')
            .expect("/");
        assert_eq!(wrong_head, head);
        assert_eq!(wrong_token.len(), token.len());
        assert_ne!(wrong_token, token);
        assert_eq!(wrong_token, "upl_Ba0-y");
        assert!(wrong.ends_with("?v=1"));
        assert_eq!(other_token("%2F-_"), "xxxxx");
        assert_eq!(other_token("a%2Fz"), "b%2Fa");
        assert_eq!(wrong_token_url("http://h/callbacks/"), None);
        assert_eq!(wrong_token_url("http://h"), None);
    }

    #[test]
    fn a_lie_flips_the_final_status() {
        let lying = Plan {
            lie: true,
            ..Plan::default()
        };
        assert_eq!(lying.told(Status::Successful), Status::Failed(LIE_REASON));
        assert_eq!(
            lying.told(Status::Failed("NOT_ENOUGH_FUNDS")),
            Status::Successful
        );
        assert_eq!(Plan::default().told(Status::Successful), Status::Successful);
        let always = CallbackProfile {
            lie_ppm: PPM,
            ..CallbackProfile::default()
        };
        assert!(Plan::draw(1, &always, Reference::new()).lie);
        assert!(!Plan::draw(1, &CallbackProfile::default(), Reference::new()).lie);
    }

    #[test]
    fn each_forgery_changes_one_thing() {
        let plan = Plan {
            lie: false,
            wrong_token: true,
            wrong_amount: true,
            replay: true,
        };
        let job = real("http://h/callbacks/mtn/p1/abc");
        let opposite = Bytes::from_static(br#"{"status":"FAILED"}"#);
        let earlier = Some("http://h/callbacks/mtn/p0/def".to_owned());
        let forged: Vec<_> = plan
            .forgeries(&job, Some(opposite.clone()), earlier)
            .collect();
        let kinds: Vec<_> = forged.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [Forgery::WrongToken, Forgery::WrongAmount, Forgery::Replay]
        );
        let (wrong_token, wrong_amount, replay) = (&forged[0].1, &forged[1].1, &forged[2].1);
        assert_eq!(wrong_token.url, "http://h/callbacks/mtn/p1/bcd");
        assert_eq!(wrong_token.body, opposite);
        assert_eq!(wrong_amount.url, job.url);
        let amount: Value = serde_json::from_slice(&wrong_amount.body).expect("JSON");
        assert_eq!(amount["amount"], "12.51");
        assert_eq!(amount["status"], "SUCCESSFUL");
        assert_eq!(replay.url, "http://h/callbacks/mtn/p0/def");
        assert_eq!(replay.body, job.body);
        assert_eq!(Plan::default().forgeries(&job, None, None).count(), 0);
    }

    #[test]
    fn replays_go_to_the_url_seen_before_while_on() {
        let on = CallbackProfile {
            forge_replay_ppm: 1,
            ..CallbackProfile::default()
        };
        let last = LastUrls::default();
        assert_eq!(last.note(Kind::Transfer, "http://h/a", &on), None);
        assert_eq!(last.note(Kind::Transfer, "http://h/a", &on), None);
        assert_eq!(
            last.note(Kind::Transfer, "http://h/b", &on).as_deref(),
            Some("http://h/a")
        );
        assert_eq!(last.note(Kind::Payment, "http://h/c", &on), None);
        let off = CallbackProfile::default();
        assert_eq!(last.note(Kind::Transfer, "http://h/d", &off), None);
    }
}
