//! One flush of a journal lane: every outcome waiting in it, written as one transaction
//! per merchant (no transaction spans two merchants), the merchants' transactions run at
//! once, on the lane's pool.
//! A line's state change and its ledger posting commit together; a line no longer
//! `sending` was finished before and gets no second posting.

use std::collections::{BTreeMap, HashSet};

use deadpool_postgres::Pool;
use payrail_engine::ids::{MerchantId, PayoutId};
use payrail_engine::ledger::{self, Release, Settlement};
use payrail_engine::state::payout::PayoutEvent;
use payrail_engine::store::StoreError;
use payrail_engine::store::callback_settlements::{self, Unverified};
use payrail_engine::store::payout_lines::{self, FinishedLine};

use super::{Finish, Outcome};

/// What a merchant's part of a flush came to.
#[derive(Debug)]
pub enum MerchantFlush {
    /// Committed; these outcomes moved their line (the others were finished before).
    Written { moved: Vec<Outcome> },
    /// Not committed: these outcomes and marks wait for the next flush.
    Failed {
        error: StoreError,
        outcomes: Vec<Outcome>,
        submitted: Vec<(MerchantId, PayoutId)>,
    },
}

/// One merchant's part of a flush.
#[derive(Debug, Default)]
struct Part {
    outcomes: Vec<Outcome>,
    submitted: Vec<PayoutId>,
}

/// Writes every outcome, and marks the lines the operator has had for a while
/// `submitted`: one transaction per merchant, all merchants at once.
pub async fn flush(
    pool: &Pool,
    outcomes: Vec<Outcome>,
    submitted: Vec<(MerchantId, PayoutId)>,
) -> Vec<MerchantFlush> {
    let mut by_merchant: BTreeMap<MerchantId, Part> = BTreeMap::new();
    let mut seen = HashSet::new();
    for outcome in outcomes {
        // After a route restart a line can be finished by two jobs: the first outcome
        // stands, and a later one finds the line no longer in flight.
        if seen.insert(outcome.job.line.id) {
            by_merchant
                .entry(outcome.job.merchant)
                .or_default()
                .outcomes
                .push(outcome);
        }
    }
    for (merchant, payout) in submitted {
        by_merchant
            .entry(merchant)
            .or_default()
            .submitted
            .push(payout);
    }
    let mut writers = tokio::task::JoinSet::new();
    for (merchant, part) in by_merchant {
        let pool = pool.clone();
        writers.spawn(async move {
            match write_merchant(&pool, merchant, &part).await {
                Ok(moved) => MerchantFlush::Written {
                    moved: part
                        .outcomes
                        .into_iter()
                        .filter(|o| moved.contains(&o.job.line.id))
                        .collect(),
                },
                Err(error) => MerchantFlush::Failed {
                    error,
                    outcomes: part.outcomes,
                    submitted: part.submitted.into_iter().map(|p| (merchant, p)).collect(),
                },
            }
        });
    }
    let mut results = Vec::new();
    while let Some(result) = writers.join_next().await {
        results.push(result.expect("a flush task does not panic"));
    }
    results
}

async fn write_merchant(
    pool: &Pool,
    merchant: MerchantId,
    part: &Part,
) -> Result<HashSet<PayoutId>, StoreError> {
    let outcomes = &part.outcomes;
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let finals: Vec<FinishedLine> = outcomes.iter().filter_map(finished_line).collect();
    let mut moved: HashSet<PayoutId> = payout_lines::finish_lines(&tx, merchant, &finals)
        .await?
        .into_iter()
        .collect();
    let mut settlements = Vec::new();
    let mut releases = Vec::new();
    for outcome in outcomes.iter().filter(|o| moved.contains(&o.job.line.id)) {
        let line = &outcome.job.line;
        match &outcome.finish {
            Finish::Succeeded { .. } => settlements.push(Settlement {
                payout: line.id,
                route: line.route.clone(),
                amount: line.amount,
                fee: line.fee,
            }),
            Finish::Failed { .. } => releases.push(Release {
                payout: line.id,
                amount_with_fee: line.amount.checked_add(line.fee).ok_or_else(|| {
                    StoreError::Corrupt("amount and fee exceed the largest amount".into())
                })?,
            }),
            Finish::RequiresReview => {}
        }
    }
    // What an authenticated callback ended waits for a status query to verify it.
    let by_callback: Vec<Unverified> = outcomes
        .iter()
        .filter(|o| o.by_callback && moved.contains(&o.job.line.id))
        .map(|o| Unverified {
            payout: o.job.line.id,
            merchant,
            route: o.job.line.route.clone(),
            reference: o.job.line.reference,
            succeeded: matches!(o.finish, Finish::Succeeded { .. }),
        })
        .collect();
    callback_settlements::record(&tx, &by_callback).await?;
    // Past its deadline an uncertain line goes to review with its funds still reserved.
    let review: Vec<PayoutId> = outcomes
        .iter()
        .filter(|o| matches!(o.finish, Finish::RequiresReview))
        .map(|o| o.job.line.id)
        .collect();
    if !review.is_empty() {
        for from in payout_lines::IN_FLIGHT_STATES {
            moved.extend(
                payout_lines::transition_lines(&tx, merchant, &review, from, PayoutEvent::Expire)
                    .await?,
            );
        }
    }
    // After the outcomes, so a line that ended in this flush is not marked as well.
    if !part.submitted.is_empty() {
        payout_lines::mark_submitted(&tx, merchant, &part.submitted).await?;
    }
    // The ledger last: its statements lock the merchant's balances until the commit, and
    // a single payout of this merchant waits for them to reserve its funds.
    ledger::settle(&tx, merchant, &settlements).await?;
    ledger::release(&tx, merchant, &releases).await?;
    tx.commit().await?;
    Ok(moved)
}

fn finished_line(outcome: &Outcome) -> Option<FinishedLine> {
    let id = outcome.job.line.id;
    match &outcome.finish {
        Finish::Succeeded { transaction_id } => Some(FinishedLine {
            id,
            event: PayoutEvent::Succeed,
            failure_code: None,
            operator_transaction_id: transaction_id.clone(),
        }),
        Finish::Failed { code } => Some(FinishedLine {
            id,
            event: PayoutEvent::Fail,
            failure_code: Some(code.clone()),
            operator_transaction_id: None,
        }),
        Finish::RequiresReview => None,
    }
}
