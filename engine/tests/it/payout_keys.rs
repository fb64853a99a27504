//! Single payouts' Idempotency-Keys, stored with their answers in the transaction that
//! writes the payouts, and the API keys the payout path keeps in memory: a key held by
//! another request, on this node or another, is a conflict and pays nothing; a stored
//! answer is replayed; an expired key is taken over; a revoked API key stops working at
//! once on its node and within `CACHED_FOR` on another.

use std::time::Duration;

use payrail_engine::api_key::Role;
use payrail_engine::app::caches::CACHED_FOR;
use payrail_engine::app::idempotency::{self, Answer, IdempotencyKey};
use payrail_engine::app::payouts::{NewPayout, Once, Payout};
use payrail_engine::app::singles::{self, SinglePayout, Written};
use payrail_engine::app::{App, AppError, AppSettings, Caller};
use payrail_engine::fee::FeeAgreement;
use payrail_engine::money::Currency;
use payrail_engine::store::idempotency_keys;
use payrail_engine::store::merchants::NewMerchant;
use payrail_engine::testing::TestDb;

use crate::support::amount;

fn render(payout: &Payout) -> Result<Answer, AppError> {
    Ok(Answer {
        status: 202,
        body: serde_json::json!({ "id": payout.id.to_string() }),
    })
}

fn payout(amount: &str) -> NewPayout {
    NewPayout {
        msisdn: "0788123456".into(),
        amount: amount.into(),
        currency: "RWF".into(),
        reference: None,
        name: None,
        note: None,
    }
}

fn once(key: &str, amount: &str) -> Once {
    Once {
        key: IdempotencyKey::parse(key).expect("a valid key"),
        request_sha256: idempotency::fingerprint("pay", &payout(amount)).expect("fingerprint"),
    }
}

/// A funded merchant, with its maker's and admin's secrets.
async fn merchant(app: &App) -> (String, String) {
    let new = NewMerchant {
        name: "Kigali Tea Estates".into(),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(amount(100), 150).expect("fees"),
        approval_threshold: None,
    };
    let (merchant, keys) = app.create_merchant(&new).await.expect("merchant");
    app.fund_merchant(merchant.id, amount(1_000_000))
        .await
        .expect("funds");
    let secret = |role| {
        keys.iter()
            .find(|key| key.role == role)
            .map(|key| key.secret.clone())
            .expect("a key of each role")
    };
    (secret(Role::Maker), secret(Role::Admin))
}

async fn caller(app: &App, secret: &str) -> Caller {
    app.authenticate(secret)
        .await
        .expect("authenticate")
        .expect("a known key")
}

async fn pay(app: &App, caller: &Caller, key: &str, amount: &str) -> Result<u16, AppError> {
    let answered = app
        .pay_one(
            caller,
            &payout(amount),
            once(key, amount),
            Duration::ZERO,
            render,
        )
        .await?;
    Ok(answered.answer.status)
}

async fn lines(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one("SELECT count(*) FROM payout_lines", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn a_key_another_request_holds_is_a_conflict_and_pays_nothing() {
    let db = TestDb::new().await;
    let app = App::detached(db.pool.clone(), AppSettings::rwanda());
    let (maker, _) = merchant(&app).await;
    let maker = caller(&app, &maker).await;
    // A request on another node claimed the key (the upload path claims first) and runs.
    assert!(
        idempotency_keys::claim(&db.client().await, maker.merchant, "pay-1", "5 minutes")
            .await
            .expect("claim")
    );
    let refused = pay(&app, &maker, "pay-1", "1500").await;
    assert!(
        matches!(refused, Err(AppError::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(lines(&db).await, 0);
}

#[tokio::test]
async fn the_same_key_on_two_nodes_at_once_pays_once() {
    let db = TestDb::new().await;
    let (first, second) = (
        App::detached(db.pool.clone(), AppSettings::rwanda()),
        App::detached(db.pool.clone(), AppSettings::rwanda()),
    );
    let (maker, _) = merchant(&first).await;
    let maker = caller(&first, &maker).await;
    for round in 0..20 {
        let key = format!("pay-{round}");
        let (a, b) = tokio::join!(
            pay(&first, &maker, &key, "1500"),
            pay(&second, &maker, &key, "1500"),
        );
        // One writes it; the other replays its answer, or is refused while it runs.
        let answers = [a, b];
        let written = answers.iter().filter(|a| matches!(a, Ok(202))).count();
        assert!(written >= 1, "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Ok(202) | Err(AppError::Conflict { .. }))),
            "{answers:?}"
        );
    }
    assert_eq!(lines(&db).await, 20);
}

#[tokio::test]
async fn a_replay_gets_the_stored_answer_and_another_body_is_refused() {
    let db = TestDb::new().await;
    let app = App::detached(db.pool.clone(), AppSettings::rwanda());
    let (maker, _) = merchant(&app).await;
    let maker = caller(&app, &maker).await;
    let first = app
        .pay_one(
            &maker,
            &payout("1500"),
            once("pay-1", "1500"),
            Duration::ZERO,
            render,
        )
        .await
        .expect("paid");
    let again = app
        .pay_one(
            &maker,
            &payout("1500"),
            once("pay-1", "1500"),
            Duration::ZERO,
            render,
        )
        .await
        .expect("replayed");
    assert!(again.replayed && !first.replayed);
    assert_eq!(again.answer, first.answer);
    let other = pay(&app, &maker, "pay-1", "1600").await;
    assert!(matches!(other, Err(AppError::Invalid { .. })), "{other:?}");
    assert_eq!(lines(&db).await, 1);
}

#[tokio::test]
async fn an_expired_key_is_taken_over_by_a_new_payout() {
    let db = TestDb::new().await;
    let app = App::detached(db.pool.clone(), AppSettings::rwanda());
    let (maker, _) = merchant(&app).await;
    let maker = caller(&app, &maker).await;
    assert_eq!(pay(&app, &maker, "pay-1", "1500").await.expect("paid"), 202);
    db.client()
        .await
        .execute(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .expect("expire the key");
    assert_eq!(pay(&app, &maker, "pay-1", "1600").await.expect("paid"), 202);
    assert_eq!(lines(&db).await, 2);
}

#[tokio::test]
async fn a_revoked_key_stops_at_once_here_and_within_the_cache_time_elsewhere() {
    let db = TestDb::new().await;
    let (here, elsewhere) = (
        App::detached(db.pool.clone(), AppSettings::rwanda()),
        App::detached(db.pool.clone(), AppSettings::rwanda()),
    );
    let (maker_secret, admin_secret) = merchant(&here).await;
    let maker = caller(&here, &maker_secret).await;
    let admin = caller(&here, &admin_secret).await;
    caller(&elsewhere, &maker_secret).await;
    here.revoke_api_key(&admin, maker.key)
        .await
        .expect("revoke");
    assert!(
        here.authenticate(&maker_secret)
            .await
            .expect("ask")
            .is_err()
    );
    // The other node still has it in memory, for CACHED_FOR at most.
    let revoked_at = tokio::time::Instant::now();
    while elsewhere
        .authenticate(&maker_secret)
        .await
        .expect("ask")
        .is_ok()
    {
        assert!(
            revoked_at.elapsed() <= CACHED_FOR + Duration::from_millis(500),
            "a revoked key still worked on another node after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_group_writes_every_payout_but_the_one_whose_key_is_held() {
    let db = TestDb::new().await;
    let app = App::detached(db.pool.clone(), AppSettings::rwanda());
    let (maker, _) = merchant(&app).await;
    let maker = caller(&app, &maker).await;
    assert!(
        idempotency_keys::claim(&db.client().await, maker.merchant, "held", "5 minutes")
            .await
            .expect("claim")
    );
    let mut singles = Vec::new();
    for key in ["first", "held", "third"] {
        let line = app.check_payout(&maker, &payout("1500")).await;
        singles.push(SinglePayout {
            merchant: maker.merchant,
            currency: Currency::Rwf,
            created_by: maker.key,
            line: line.expect("a valid line"),
            key: IdempotencyKey::parse(key).expect("key"),
            request_sha256: [7; 32],
            render,
        });
    }
    let (batch, written) = singles::write_group(&db.pool, None, &singles)
        .await
        .expect("written");
    let shape: Vec<&str> = written
        .iter()
        .map(|written| match written {
            Written::Payout(payout) if payout.batch == batch => "paid",
            Written::Payout(_) => "unfunded",
            Written::KeyHeld => "held",
        })
        .collect();
    assert_eq!(shape, ["paid", "held", "paid"]);
    assert_eq!(lines(&db).await, 2);
    let reserved: i64 = db
        .client()
        .await
        .query_one(
            "SELECT total_amount + total_fee FROM batches WHERE id = $1",
            &[&batch],
        )
        .await
        .expect("the batch")
        .get(0);
    assert_eq!(reserved, 2 * (1_500 + 100));
}
