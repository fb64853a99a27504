//! The naive baseline: pays lines the way a simple worker would, one merchant per worker,
//! each line its own transactions — reserve and insert, commit; send; record the outcome
//! and settle, commit — so the engine's figure has something honest to be compared with.

use std::sync::Arc;

use deadpool_postgres::Pool;
use payrail_adapters::simulator::Simulator;
use payrail_engine::ids::{BatchId, MerchantId, PayoutId, Reference};
use payrail_engine::ledger::{self, Settlement};
use payrail_engine::money::Currency;
use payrail_engine::operator::{Operator, PayoutRequest, PayoutStatus};
use payrail_engine::store::batches::{self, NewBatch};
use payrail_engine::store::payout_lines::NewPayoutLine;

const INSERT_LINE: &str = "
    INSERT INTO payout_lines (id, merchant_id, batch_id, line_no, msisdn, amount, fee, route, state)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sending')
    RETURNING reference";

const SUCCEEDED: &str =
    "UPDATE payout_lines SET state = 'succeeded', updated_at = now() WHERE id = $1";

/// Pays every line for every merchant, a worker per merchant.
pub async fn pay(
    pool: &Pool,
    merchants: &[MerchantId],
    lines: &[NewPayoutLine],
    simulators: &[(String, Arc<Simulator>)],
) -> anyhow::Result<()> {
    let lines = Arc::new(lines.to_vec());
    let simulators = Arc::new(simulators.to_vec());
    let mut workers = tokio::task::JoinSet::new();
    for merchant in merchants {
        let (pool, lines, simulators, merchant) = (
            pool.clone(),
            Arc::clone(&lines),
            Arc::clone(&simulators),
            *merchant,
        );
        workers.spawn(async move { worker(&pool, merchant, &lines, &simulators).await });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(())
}

async fn worker(
    pool: &Pool,
    merchant: MerchantId,
    lines: &[NewPayoutLine],
    simulators: &[(String, Arc<Simulator>)],
) -> anyhow::Result<()> {
    let batch = NewBatch::new(merchant, Currency::Rwf);
    batches::insert(&pool.get().await?, &batch).await?;
    for line in lines {
        let mut client = pool.get().await?;
        let payout = PayoutId::new();
        let total = line
            .amount
            .checked_add(line.fee)
            .ok_or_else(|| anyhow::anyhow!("amount and fee overflow"))?;
        let tx = client.transaction().await?;
        ledger::reserve(&tx, merchant, BatchId::new(), total).await?;
        let row = tx
            .query_one(
                INSERT_LINE,
                &[
                    &payout,
                    &merchant,
                    &batch.id,
                    &line.line_no,
                    &line.msisdn,
                    &line.amount,
                    &line.fee,
                    &line.route.as_str(),
                ],
            )
            .await?;
        let reference: Reference = row.get(0);
        tx.commit().await?;
        let simulator = &simulators
            .iter()
            .find(|(name, _)| name == line.route.as_str())
            .ok_or_else(|| anyhow::anyhow!("no route"))?
            .1;
        let request = PayoutRequest {
            reference,
            payout,
            msisdn: line.msisdn.clone(),
            amount: line.amount,
            currency: Currency::Rwf,
            note: None,
        };
        let status = simulator.send_payout(&request).await?;
        anyhow::ensure!(
            matches!(status, PayoutStatus::Succeeded { .. }),
            "the fault-free simulator pays at once"
        );
        let tx = client.transaction().await?;
        tx.execute(SUCCEEDED, &[&payout]).await?;
        let settlement = Settlement {
            payout,
            route: line.route.clone(),
            amount: line.amount,
            fee: line.fee,
        };
        ledger::settle(&tx, merchant, &[settlement]).await?;
        tx.commit().await?;
    }
    Ok(())
}
