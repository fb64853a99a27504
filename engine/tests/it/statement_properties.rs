//! The account statement over random histories: fundings, corrections, batches reserved
//! and then settled or released line by line, collections; with instants marked between
//! the operations, so periods start and end anywhere, in the middle of a running batch
//! too. For every period: opening + credits − debits − fees = closing = the ledger's
//! balance at the period's end (kept by a model in plain integers), each line's balance
//! follows from the one before, and the lines are as many as the totals count.

use jiff::Timestamp;
use payrail_engine::app::caller::Reader;
use payrail_engine::app::{App, AppSettings};
use payrail_engine::ids::{BatchId, CollectionId, MerchantId, PayoutId};
use payrail_engine::ledger::{self, CollectionCredit, Correction, Direction, Release, Settlement};
use payrail_engine::route::RouteName;
use payrail_engine::testing::TestDb;
use proptest::prelude::*;

use crate::support::{amount, merchant};

#[derive(Clone, Debug)]
enum Op {
    Fund(i64),
    Credit(i64),
    Debit(i64),
    /// A batch whose lines (amount, fee) are reserved at once.
    Reserve(Vec<(i64, i64)>),
    Settle(usize),
    Release(usize),
    Collect {
        amount: i64,
        fee: i64,
    },
    /// An instant between operations, where a period may start or end.
    Mark,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1..50_000i64).prop_map(Op::Fund),
        (1..5_000i64).prop_map(Op::Credit),
        (1..5_000i64).prop_map(Op::Debit),
        prop::collection::vec((1..8_000i64, 0..200i64), 1..5).prop_map(Op::Reserve),
        (1..4usize).prop_map(Op::Settle),
        (1..3usize).prop_map(Op::Release),
        (1..20_000i64, 0..400i64).prop_map(|(amount, fee)| Op::Collect {
            amount,
            fee: fee.min(amount),
        }),
        Just(Op::Mark),
        Just(Op::Mark),
    ]
}

struct World {
    merchant: MerchantId,
    available: i64,
    reserved: i64,
    /// Reserved lines not yet settled or released: (payout, amount, fee).
    outstanding: Vec<(PayoutId, i64, i64)>,
    /// Each mark and the merchant's money (available + reserved) then.
    marks: Vec<(Timestamp, i64)>,
}

impl World {
    async fn apply(&mut self, db: &TestDb, op: &Op) {
        if let Op::Mark = op {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            self.marks
                .push((Timestamp::now(), self.available + self.reserved));
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            return;
        }
        let mut client = db.client().await;
        let tx = client.transaction().await.expect("begin");
        let merchant = self.merchant;
        match op {
            Op::Fund(minor) => {
                ledger::fund(&tx, merchant, amount(*minor))
                    .await
                    .expect("fund");
                self.available += minor;
            }
            Op::Credit(minor) | Op::Debit(minor) => {
                let debit = matches!(op, Op::Debit(_));
                if debit && *minor > self.available {
                    return;
                }
                let correction = Correction {
                    direction: if debit {
                        Direction::Debit
                    } else {
                        Direction::Credit
                    },
                    amount: amount(*minor),
                    description: "=HYPERLINK(\"http://x\",\"y\")".into(),
                };
                ledger::correct(&tx, merchant, &correction)
                    .await
                    .expect("correct");
                self.available += if debit { -minor } else { *minor };
            }
            Op::Reserve(lines) => {
                let total: i64 = lines.iter().map(|(a, f)| a + f).sum();
                if total > self.available {
                    return;
                }
                ledger::reserve(&tx, merchant, BatchId::new(), amount(total))
                    .await
                    .expect("reserve");
                self.available -= total;
                self.reserved += total;
                self.outstanding
                    .extend(lines.iter().map(|(a, f)| (PayoutId::new(), *a, *f)));
            }
            Op::Settle(count) | Op::Release(count) => {
                let count = (*count).min(self.outstanding.len());
                let chosen: Vec<_> = self.outstanding.drain(..count).collect();
                if chosen.is_empty() {
                    return;
                }
                if matches!(op, Op::Settle(_)) {
                    let lines: Vec<Settlement> = chosen
                        .iter()
                        .map(|(payout, a, f)| Settlement {
                            payout: *payout,
                            route: RouteName::new("mtn-rw").expect("route"),
                            amount: amount(*a),
                            fee: amount(*f),
                        })
                        .collect();
                    ledger::settle(&tx, merchant, &lines).await.expect("settle");
                } else {
                    let lines: Vec<Release> = chosen
                        .iter()
                        .map(|(payout, a, f)| Release {
                            payout: *payout,
                            amount_with_fee: amount(a + f),
                        })
                        .collect();
                    ledger::release(&tx, merchant, &lines)
                        .await
                        .expect("release");
                    self.available += chosen.iter().map(|(_, a, f)| a + f).sum::<i64>();
                }
                self.reserved -= chosen.iter().map(|(_, a, f)| a + f).sum::<i64>();
            }
            Op::Collect { amount: minor, fee } => {
                let credit = CollectionCredit {
                    collection: CollectionId::new(),
                    amount: amount(*minor),
                    fee: amount(*fee),
                };
                ledger::credit_collection(&tx, merchant, &credit)
                    .await
                    .expect("credit");
                self.available += minor - fee;
            }
            Op::Mark => unreachable!("handled above"),
        }
        tx.commit().await.expect("commit");
    }

    /// Every period between two marks.
    async fn check(&self, app: &App) {
        for (i, (from, opening)) in self.marks.iter().enumerate() {
            for (to, closing) in &self.marks[i + 1..] {
                let reader = Reader::Operator(self.merchant);
                let head = app
                    .statement_head(reader, &from.to_string(), &to.to_string())
                    .await
                    .expect("a statement");
                let totals = head.totals;
                assert_eq!(head.opening, *opening, "the ledger's balance at the start");
                assert_eq!(head.closing, *closing, "the ledger's balance at the end");
                assert_eq!(
                    head.opening + totals.credit_sum - totals.debit_sum - totals.fee_sum,
                    head.closing
                );
                let lines = app
                    .statement_lines(&head, None, 10_000)
                    .await
                    .expect("lines");
                assert_eq!(
                    i64::try_from(lines.len()).expect("few"),
                    totals.movements(),
                    "one line per movement"
                );
                let mut balance = head.opening;
                for line in &lines {
                    let movement = &line.movement;
                    balance += movement.credit - movement.debit - movement.fee;
                    assert_eq!(line.balance, balance);
                    assert!(movement.key.at >= *from && movement.key.at < *to);
                }
                assert_eq!(balance, head.closing);
            }
        }
    }
}

#[test]
fn opening_plus_movements_is_the_closing_balance_of_the_ledger() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let db = runtime.block_on(TestDb::new());
    let app = App::detached(db.pool.clone(), AppSettings::rwanda());
    let config = ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in prop::collection::vec(op(), 4..24))| {
        runtime.block_on(async {
            let mut world = World {
                merchant: merchant(&db, 0, 0).await,
                available: 0,
                reserved: 0,
                outstanding: Vec::new(),
                marks: Vec::new(),
            };
            world.apply(&db, &Op::Mark).await;
            for op in &ops {
                world.apply(&db, op).await;
            }
            world.apply(&db, &Op::Mark).await;
            world.check(&app).await;
        });
    });
}

#[test]
fn a_period_that_starts_in_the_middle_of_a_running_batch_counts_only_its_settlements() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let db = TestDb::new().await;
        let app = App::detached(db.pool.clone(), AppSettings::rwanda());
        let mut world = World {
            merchant: merchant(&db, 0, 0).await,
            available: 0,
            reserved: 0,
            outstanding: Vec::new(),
            marks: Vec::new(),
        };
        let ops = [
            Op::Fund(100_000),
            Op::Reserve(vec![(10_000, 100), (20_000, 100), (30_000, 100)]),
            Op::Settle(1),
            Op::Mark,
            Op::Settle(1),
            Op::Release(1),
            Op::Mark,
        ];
        for op in &ops {
            world.apply(&db, op).await;
        }
        world.check(&app).await;
        let (from, to) = (world.marks[0].0, world.marks[1].0);
        let head = app
            .statement_head(
                Reader::Operator(world.merchant),
                &from.to_string(),
                &to.to_string(),
            )
            .await
            .expect("a statement");
        // The whole batch was reserved before the period: money with Payrail then was
        // 100,000 less the first line (10,100); in the period only the second line left.
        assert_eq!(head.opening, 89_900);
        assert_eq!((head.totals.debits, head.totals.debit_sum), (1, 20_000));
        assert_eq!((head.totals.fees, head.totals.fee_sum), (1, 100));
        assert_eq!(head.closing, 69_800);
        let lines = app.statement_lines(&head, None, 100).await.expect("lines");
        assert_eq!(lines.len(), 1, "a release is not a movement");
    });
}
