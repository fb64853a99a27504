//! Single payouts written in groups: one reservation per group, fitted to the balance.

use payrail_engine::fee::FeeAgreement;
use payrail_engine::ledger;
use payrail_engine::money::Currency;
use payrail_engine::msisdn::Msisdn;
use payrail_engine::route::RouteName;
use payrail_engine::state::payout::PayoutState;
use payrail_engine::store::merchants::{self, NewMerchant};
use payrail_engine::store::payout_lines::NewPayoutLine;
use payrail_engine::store::single_payouts::{Funding, Group, INSUFFICIENT_BALANCE};
use payrail_engine::testing::TestDb;

use crate::support::amount;

fn line(minor: i64) -> NewPayoutLine {
    NewPayoutLine {
        line_no: 1,
        msisdn: Msisdn::parse("250788123456", phonenumber::country::Id::RW).expect("valid"),
        amount: amount(minor),
        fee: amount(50),
        route: RouteName::new("mtn-rw").expect("route"),
        client_reference: Some(format!("pay-{minor}")),
        name: None,
        note: None,
    }
}

#[tokio::test]
async fn a_group_the_balance_does_not_cover_is_fitted_in_order_and_reserved_once() {
    let db = TestDb::new().await;
    let mut client = db.client().await;
    let tx = client.transaction().await.expect("begin");
    let new = NewMerchant {
        name: "Kigali Tea Estates".into(),
        currency: Currency::Rwf,
        fees: FeeAgreement::new(amount(50), 150).expect("valid fees"),
        approval_threshold: None,
    };
    let (merchant, keys) = merchants::create(&tx, &new).await.expect("merchant");
    ledger::fund(&tx, merchant.id, amount(1_000))
        .await
        .expect("fund");
    tx.commit().await.expect("commit");

    // 650 + 550 + 350 needed, 1,000 there: the first and the last fit.
    let lines = vec![line(600), line(500), line(300)];
    let group = Group::new(None, merchant.id, Currency::Rwf, keys[0].id, lines).expect("group");
    let tx = client.transaction().await.expect("begin");
    let all = group.all_funded();
    group.write(&tx, &all).await.expect("write");
    let Funding::Short { available } = group.fund(&tx, &all).await.expect("fund") else {
        panic!("1,550 reserved out of 1,000");
    };
    assert_eq!(available, amount(1_000));
    let fitted = group.fit(available);
    assert_eq!(fitted, [true, false, true]);
    let payouts = group.write(&tx, &fitted).await.expect("write again");
    assert_eq!(
        group.fund(&tx, &fitted).await.expect("fund"),
        Funding::Reserved
    );
    tx.commit().await.expect("commit");

    let states: Vec<_> = payouts.iter().map(|p| p.state).collect();
    assert_eq!(
        states,
        [
            PayoutState::Validated,
            PayoutState::Failed,
            PayoutState::Validated
        ]
    );
    assert_eq!(
        payouts[1].failure_code.as_deref(),
        Some(INSUFFICIENT_BALANCE)
    );
    assert_eq!(payouts[0].batch, group.batch());
    assert_eq!(payouts[2].batch, group.batch());
    assert_ne!(payouts[1].batch, group.batch());
    let balances = ledger::balances(&client, merchant.id)
        .await
        .expect("balances");
    assert_eq!(balances.available, amount(0));
    assert_eq!(balances.reserved, amount(1_000));

    let stored = client
        .query(
            "SELECT b.state, b.line_count, b.total_amount, count(l.id)
               FROM batches b JOIN payout_lines l ON l.batch_id = b.id
              WHERE b.merchant_id = $1
              GROUP BY b.id ORDER BY b.line_count DESC",
            &[&merchant.id],
        )
        .await
        .expect("batches");
    let stored: Vec<(String, i32, i64, i64)> = stored
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        stored,
        [
            ("running".to_owned(), 2, 900, 2),
            ("invalid".to_owned(), 1, 500, 1)
        ],
        "only the rewritten group is stored"
    );
}

#[test]
fn fit_passes_over_a_payout_too_big_and_keeps_trying_the_next() {
    let group = Group::new(
        None,
        payrail_engine::ids::MerchantId::new(),
        Currency::Rwf,
        payrail_engine::ids::ApiKeyId::new(),
        vec![line(100), line(2_000), line(400), line(450)],
    )
    .expect("group");
    assert_eq!(group.fit(amount(600)), [true, false, true, false]);
    assert_eq!(group.fit(amount(0)), [false, false, false, false]);
    assert_eq!(group.fit(amount(3_150)), [true, true, true, true]);
}
