//! The in-process simulator behaves like an operator: deterministic per seed, faults at
//! their rates, each reference executed at most once, pending turning final, sandbox
//! numbers as MTN documents them, and a float that runs out.

use std::time::Duration;

use payrail_adapters::simulator::{
    FaultRates, Latency, PPM, ProfileError, Simulator, SimulatorProfile,
};
use payrail_engine::ids::{PayoutId, Reference};
use payrail_engine::money::{Amount, Currency};
use payrail_engine::msisdn::{Msisdn, Region};
use payrail_engine::operator::{
    Operator, OperatorError, PaymentRequest, PaymentStatus, PayoutRequest, PayoutStatus,
};

fn payout(msisdn: &str, amount: i64) -> PayoutRequest {
    PayoutRequest {
        reference: Reference::new(),
        payout: PayoutId::new(),
        msisdn: Msisdn::parse(msisdn, Region::RW).expect("a valid number"),
        amount: Amount::from_minor(amount).expect("an amount"),
        currency: Currency::Rwf,
        note: None,
    }
}

fn simulator(faults: FaultRates) -> Simulator {
    Simulator::new(SimulatorProfile {
        faults,
        ..SimulatorProfile::default()
    })
    .expect("a valid profile")
}

/// The kind of answer, for counting.
fn kind(answer: &Result<PayoutStatus, OperatorError>) -> &'static str {
    match answer {
        Ok(PayoutStatus::Succeeded { .. }) => "succeeded",
        Ok(PayoutStatus::Pending) => "pending",
        Ok(PayoutStatus::Failed { .. }) => "failed",
        Err(OperatorError::Rejected { .. }) => "rejected",
        Err(OperatorError::NotSent { .. }) => "not_sent",
        Err(OperatorError::OutcomeUnknown { .. }) => "unknown",
    }
}

#[tokio::test]
async fn the_same_seed_and_references_give_the_same_run() {
    let faults = FaultRates {
        rejected: 100_000,
        not_sent: 100_000,
        accepted_then_lost: 100_000,
        error_after_executing: 0,
        pending: 100_000,
    };
    let requests: Vec<PayoutRequest> = (0..300).map(|_| payout("250788123456", 1_000)).collect();
    let run = |seed| {
        let requests = requests.clone();
        async move {
            let simulator = Simulator::new(SimulatorProfile {
                seed,
                faults,
                ..SimulatorProfile::default()
            })
            .expect("profile");
            let mut kinds = Vec::new();
            for request in &requests {
                kinds.push(kind(&simulator.send_payout(request).await));
            }
            kinds
        }
    };
    assert_eq!(run(5).await, run(5).await);
    assert_ne!(run(5).await, run(6).await);
}

#[tokio::test]
async fn faults_happen_at_their_rates() {
    let faults = FaultRates {
        rejected: 50_000,
        not_sent: 50_000,
        accepted_then_lost: 50_000,
        error_after_executing: 0,
        pending: 20_000,
    };
    let simulator = simulator(faults);
    let mut counts = std::collections::HashMap::new();
    for _ in 0..20_000 {
        let answer = simulator.send_payout(&payout("250788123456", 10)).await;
        *counts.entry(kind(&answer)).or_insert(0u32) += 1;
    }
    for (name, expected) in [
        ("rejected", 1_000),
        ("not_sent", 1_000),
        ("unknown", 1_000),
        ("pending", 400),
        ("succeeded", 16_600),
    ] {
        let got = counts.get(name).copied().unwrap_or(0);
        let tolerance = expected / 5 + 30;
        assert!(
            got.abs_diff(expected) <= tolerance,
            "{name}: {got}, expected about {expected}"
        );
    }
}

#[tokio::test]
async fn a_lost_reply_was_executed_once_and_a_resend_is_told_to_query() {
    let simulator = simulator(FaultRates {
        accepted_then_lost: PPM,
        ..FaultRates::default()
    });
    let request = payout("250788123456", 5_000);
    let first = simulator.send_payout(&request).await;
    assert!(
        matches!(first, Err(OperatorError::OutcomeUnknown { .. })),
        "{first:?}"
    );
    assert_eq!(
        simulator.executions_of(request.payout),
        1,
        "the operator executed it"
    );
    let resend = simulator.send_payout(&request).await;
    assert!(
        matches!(resend, Err(OperatorError::OutcomeUnknown { .. })),
        "a reused reference is not executed again"
    );
    assert_eq!(simulator.executions_of(request.payout), 1);
    assert_eq!(simulator.attempts(request.reference), 2);
    let status = simulator
        .query_payout(request.reference)
        .await
        .expect("query");
    assert!(
        matches!(status, Some(PayoutStatus::Succeeded { .. })),
        "{status:?}"
    );
}

#[tokio::test]
async fn not_sent_and_rejected_execute_nothing_and_are_not_found() {
    for faults in [
        FaultRates {
            not_sent: PPM,
            ..FaultRates::default()
        },
        FaultRates {
            rejected: PPM,
            ..FaultRates::default()
        },
    ] {
        let simulator = simulator(faults);
        let request = payout("250788123456", 5_000);
        assert!(simulator.send_payout(&request).await.is_err());
        assert_eq!(simulator.executions_of(request.payout), 0);
        assert_eq!(
            simulator.query_payout(request.reference).await,
            Ok(None),
            "404: safe to resend"
        );
    }
}

#[tokio::test]
async fn a_not_sent_payout_can_be_resent_with_the_same_reference() {
    let simulator = simulator(FaultRates {
        not_sent: PPM / 2,
        ..FaultRates::default()
    });
    let request = payout("250788123456", 5_000);
    let mut answers = Vec::new();
    while answers.len() < 50 {
        let answer = simulator.send_payout(&request).await;
        let done = answer.is_ok();
        answers.push(answer);
        if done {
            break;
        }
    }
    assert!(
        answers.last().is_some_and(Result::is_ok),
        "a resend eventually arrives"
    );
    assert_eq!(simulator.executions_of(request.payout), 1);
}

#[tokio::test(start_paused = true)]
async fn a_pending_payout_turns_final_after_its_delay() {
    let profile = SimulatorProfile {
        faults: FaultRates {
            pending: PPM,
            ..FaultRates::default()
        },
        pending_ms: 2_000,
        ..SimulatorProfile::default()
    };
    let simulator = Simulator::new(profile).expect("profile");
    let request = payout("250788123456", 5_000);
    assert_eq!(
        simulator.send_payout(&request).await,
        Ok(PayoutStatus::Pending)
    );
    tokio::time::advance(Duration::from_millis(1_999)).await;
    assert_eq!(
        simulator.query_payout(request.reference).await,
        Ok(Some(PayoutStatus::Pending))
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    let status = simulator
        .query_payout(request.reference)
        .await
        .expect("query");
    assert!(
        matches!(status, Some(PayoutStatus::Succeeded { .. })),
        "{status:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fixed_latency_delays_every_call_by_exactly_that() {
    let profile = SimulatorProfile {
        latency: Latency::Fixed { ms: 250 },
        ..SimulatorProfile::default()
    };
    let simulator = Simulator::new(profile).expect("profile");
    let started = tokio::time::Instant::now();
    simulator
        .send_payout(&payout("250788123456", 1))
        .await
        .expect("sent");
    assert_eq!(started.elapsed(), Duration::from_millis(250));
}

#[tokio::test]
async fn sandbox_numbers_end_as_mtn_documents_them() {
    let simulator = simulator(FaultRates::default());
    let cases = [
        ("46733123450", Some("INTERNAL_PROCESSING_ERROR")),
        ("46733123455", Some("NOT_ENOUGH_FUNDS")),
        ("46733123457", Some("PAYEE_NOT_FOUND")),
        ("46733123460", None),
    ];
    for (number, failure) in cases {
        let request = payout(number, 100);
        assert_eq!(
            simulator.send_payout(&request).await,
            Ok(PayoutStatus::Pending),
            "{number}: 202 first"
        );
        let status = simulator
            .query_payout(request.reference)
            .await
            .expect("query")
            .expect("found");
        match failure {
            Some(code) => {
                assert_eq!(
                    status,
                    PayoutStatus::Failed { code: code.into() },
                    "{number}"
                );
                assert_eq!(
                    simulator.executions_of(request.payout),
                    0,
                    "{number}: a failure pays nothing"
                );
            }
            None => assert!(matches!(status, PayoutStatus::Succeeded { .. }), "{number}"),
        }
    }
    let stuck = payout("46733123453", 100);
    simulator.send_payout(&stuck).await.expect("accepted");
    assert_eq!(
        simulator.query_payout(stuck.reference).await,
        Ok(Some(PayoutStatus::Pending))
    );
    let holder = simulator
        .account_holder(&payout("46733123457", 1).msisdn)
        .await
        .expect("asked");
    assert!(!holder.active, "PAYEE_NOT_FOUND has no account");
}

#[tokio::test]
async fn payouts_beyond_the_float_are_refused_and_the_float_shrinks() {
    let profile = SimulatorProfile {
        float: Amount::from_minor(10_000).expect("amount"),
        ..SimulatorProfile::default()
    };
    let simulator = Simulator::new(profile).expect("profile");
    simulator
        .send_payout(&payout("250788123456", 6_000))
        .await
        .expect("paid");
    let refused = simulator.send_payout(&payout("250788123456", 6_000)).await;
    assert_eq!(
        refused,
        Err(OperatorError::Rejected {
            code: "NOT_ENOUGH_FUNDS".into()
        })
    );
    assert_eq!(
        simulator.balance().await,
        Ok((Amount::from_minor(4_000).expect("amount"), Currency::Rwf))
    );
    assert_eq!(simulator.executions().payouts, 1);
    assert!(simulator.executions().paid_twice.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_request_to_pay_is_pending_until_the_customer_approves() {
    let profile = SimulatorProfile {
        pending_ms: 500,
        ..SimulatorProfile::default()
    };
    let simulator = Simulator::new(profile).expect("profile");
    let request = PaymentRequest {
        reference: Reference::new(),
        msisdn: Msisdn::parse("0788123456", Region::RW).expect("number"),
        amount: Amount::from_minor(2_000).expect("amount"),
        currency: Currency::Rwf,
        message: Some("School fees".into()),
    };
    assert_eq!(
        simulator.request_payment(&request).await,
        Ok(PaymentStatus::Pending)
    );
    assert_eq!(
        simulator.query_payment(request.reference).await,
        Ok(Some(PaymentStatus::Pending))
    );
    tokio::time::advance(Duration::from_millis(500)).await;
    let status = simulator
        .query_payment(request.reference)
        .await
        .expect("query");
    assert!(
        matches!(status, Some(PaymentStatus::Paid { .. })),
        "{status:?}"
    );
    assert_eq!(simulator.query_payment(Reference::new()).await, Ok(None));
}

#[test]
fn profiles_load_from_toml_and_refuse_impossible_rates() {
    let profile: SimulatorProfile = toml::from_str(
        "seed = 9\npending_ms = 100\nlatency = { kind = \"log_normal\", median_ms = 40, sigma = 0.3 }\n[faults]\nrejected = 50000\nnot_sent = 50000\n",
    )
    .expect("a profile");
    assert_eq!(profile.faults.rejected, 50_000);
    assert!(Simulator::new(profile).is_ok());
    let too_many = SimulatorProfile {
        faults: FaultRates {
            rejected: PPM,
            not_sent: 1,
            ..FaultRates::default()
        },
        ..SimulatorProfile::default()
    };
    assert_eq!(
        Simulator::new(too_many).err(),
        Some(ProfileError::RatesAboveOne {
            total: u64::from(PPM) + 1
        })
    );
    assert!(
        toml::from_str::<SimulatorProfile>("sead = 1").is_err(),
        "unknown keys are refused"
    );
}
