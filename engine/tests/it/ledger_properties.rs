//! Property tests: random sequences of ledger operations, including ones that must be
//! refused, never drive a balance negative, keep every entry balanced, keep every balance
//! equal to the sum of its postings, and match a model kept in plain integers.

use std::collections::HashMap;

use payrail_engine::ids::{BatchId, CollectionId, MerchantId, PayoutId};
use payrail_engine::ledger::{self, CollectionCredit, LedgerError, Release, Settlement};
use payrail_engine::route::RouteName;
use payrail_engine::testing::TestDb;
use proptest::prelude::*;

use crate::support::{amount, merchant};

const MERCHANTS: usize = 2;

#[derive(Clone, Debug)]
enum Op {
    Fund {
        merchant: usize,
        amount: i64,
    },
    Reserve {
        merchant: usize,
        lines: Vec<(i64, i64)>,
    },
    Settle {
        pick: usize,
        count: usize,
    },
    Release {
        pick: usize,
        count: usize,
    },
    Collect {
        merchant: usize,
        amount: i64,
        fee: i64,
    },
    Overdraw {
        merchant: usize,
    },
    SettleAgain {
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let merchant = 0..MERCHANTS;
    prop_oneof![
        (merchant.clone(), 1..50_000i64)
            .prop_map(|(merchant, amount)| Op::Fund { merchant, amount }),
        (
            merchant.clone(),
            prop::collection::vec((1..20_000i64, 0..300i64), 1..6)
        )
            .prop_map(|(merchant, lines)| Op::Reserve { merchant, lines }),
        (any::<usize>(), 1..4usize).prop_map(|(pick, count)| Op::Settle { pick, count }),
        (any::<usize>(), 1..4usize).prop_map(|(pick, count)| Op::Release { pick, count }),
        (merchant.clone(), 1..30_000i64, 0..500i64).prop_map(|(merchant, amount, fee)| {
            Op::Collect {
                merchant,
                amount,
                fee: fee.min(amount),
            }
        }),
        merchant.prop_map(|merchant| Op::Overdraw { merchant }),
        any::<usize>().prop_map(|pick| Op::SettleAgain { pick }),
    ]
}

/// What the ledger should hold, per merchant: (available, reserved, fee revenue, clearing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expected {
    available: i64,
    reserved: i64,
    fees: i64,
    clearing: i64,
}

struct Line {
    merchant: usize,
    payout: PayoutId,
    amount: i64,
    fee: i64,
}

struct World {
    merchants: Vec<MerchantId>,
    expected: Vec<Expected>,
    outstanding: Vec<Line>,
    finished: Vec<Line>,
}

impl World {
    async fn apply(&mut self, db: &TestDb, op: &Op) {
        let mut client = db.client().await;
        let tx = client.transaction().await.expect("begin");
        match op {
            Op::Fund {
                merchant,
                amount: minor,
            } => {
                ledger::fund(&tx, self.merchants[*merchant], amount(*minor))
                    .await
                    .expect("fund");
                self.expected[*merchant].available += minor;
            }
            Op::Reserve { merchant, lines } => {
                let total: i64 = lines.iter().map(|(a, f)| a + f).sum();
                let result = ledger::reserve(
                    &tx,
                    self.merchants[*merchant],
                    BatchId::new(),
                    amount(total),
                )
                .await;
                if total > self.expected[*merchant].available {
                    assert!(
                        matches!(result, Err(LedgerError::InsufficientFunds { .. })),
                        "{result:?}"
                    );
                } else {
                    result.expect("a covered reservation succeeds");
                    self.expected[*merchant].available -= total;
                    self.expected[*merchant].reserved += total;
                    self.outstanding.extend(lines.iter().map(|(a, f)| Line {
                        merchant: *merchant,
                        payout: PayoutId::new(),
                        amount: *a,
                        fee: *f,
                    }));
                }
            }
            Op::Settle { pick, count } | Op::Release { pick, count } => {
                if self.outstanding.is_empty() {
                    return;
                }
                let merchant = self.outstanding[pick % self.outstanding.len()].merchant;
                let (mut chosen, mut kept) = (Vec::new(), Vec::new());
                for line in self.outstanding.drain(..) {
                    if line.merchant == merchant && chosen.len() < *count {
                        chosen.push(line);
                    } else {
                        kept.push(line);
                    }
                }
                self.outstanding = kept;
                let id = self.merchants[merchant];
                let expected = &mut self.expected[merchant];
                if matches!(op, Op::Settle { .. }) {
                    let lines: Vec<Settlement> = chosen
                        .iter()
                        .map(|l| Settlement {
                            payout: l.payout,
                            route: RouteName::new("mtn-rw").expect("route"),
                            amount: amount(l.amount),
                            fee: amount(l.fee),
                        })
                        .collect();
                    ledger::settle(&tx, id, &lines)
                        .await
                        .expect("settle reserved lines");
                    for line in &chosen {
                        expected.reserved -= line.amount + line.fee;
                        expected.clearing += line.amount;
                        expected.fees += line.fee;
                    }
                } else {
                    let lines: Vec<Release> = chosen
                        .iter()
                        .map(|l| Release {
                            payout: l.payout,
                            amount_with_fee: amount(l.amount + l.fee),
                        })
                        .collect();
                    ledger::release(&tx, id, &lines)
                        .await
                        .expect("release reserved lines");
                    for line in &chosen {
                        expected.reserved -= line.amount + line.fee;
                        expected.available += line.amount + line.fee;
                    }
                }
                self.finished.extend(chosen);
            }
            Op::Collect {
                merchant,
                amount: minor,
                fee,
            } => {
                let credit = CollectionCredit {
                    collection: CollectionId::new(),
                    amount: amount(*minor),
                    fee: amount(*fee),
                };
                ledger::credit_collection(&tx, self.merchants[*merchant], &credit)
                    .await
                    .expect("credit");
                self.expected[*merchant].available += minor - fee;
                self.expected[*merchant].fees += fee;
            }
            Op::Overdraw { merchant } => {
                let too_much = self.expected[*merchant].reserved + 1;
                let line = Settlement {
                    payout: PayoutId::new(),
                    route: RouteName::new("mtn-rw").expect("route"),
                    amount: amount(too_much),
                    fee: amount(0),
                };
                let result = ledger::settle(&tx, self.merchants[*merchant], &[line]).await;
                assert!(
                    matches!(result, Err(LedgerError::Refused { .. })),
                    "{result:?}"
                );
                return;
            }
            Op::SettleAgain { pick } => {
                if self.finished.is_empty() {
                    return;
                }
                let line = &self.finished[pick % self.finished.len()];
                let again = Settlement {
                    payout: line.payout,
                    route: RouteName::new("mtn-rw").expect("route"),
                    amount: amount(1),
                    fee: amount(0),
                };
                let result = ledger::settle(&tx, self.merchants[line.merchant], &[again]).await;
                assert!(result.is_err(), "a payout must not be settled twice");
                return;
            }
        }
        tx.commit().await.expect("commit");
    }

    async fn check(&self, db: &TestDb) {
        let client = db.client().await;
        let report = ledger::audit(&client).await.expect("audit");
        assert!(report.is_sound(), "{report:?}");
        for (merchant, expected) in self.merchants.iter().zip(&self.expected) {
            let balances = ledger::balances(&client, *merchant)
                .await
                .expect("balances");
            let actual = Expected {
                available: balances.available.minor(),
                reserved: balances.reserved.minor(),
                fees: balances.fee_revenue.minor(),
                clearing: balances.clearing.values().map(|a| a.minor()).sum(),
            };
            assert_eq!(&actual, expected);
        }
    }
}

#[test]
fn random_operations_keep_the_ledger_sound() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let db = runtime.block_on(TestDb::new());
    let config = ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in prop::collection::vec(op(), 1..30))| {
        runtime.block_on(async {
            let mut merchants = Vec::new();
            for _ in 0..MERCHANTS {
                merchants.push(merchant(&db, 0, 0).await);
            }
            let mut world = World { merchants, expected: vec![Expected::default(); MERCHANTS], outstanding: Vec::new(), finished: Vec::new() };
            for op in &ops {
                world.apply(&db, op).await;
                world.check(&db).await;
            }
        });
    });
}

#[test]
fn amounts_sum_exactly_across_many_merchants() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let db = TestDb::new().await;
        let mut funded = HashMap::new();
        for minor in [1, 7, 1_000_000, 9_999_999_999] {
            funded.insert(merchant(&db, 0, minor).await, minor);
        }
        let client = db.client().await;
        for (merchant, minor) in funded {
            let balances = ledger::balances(&client, merchant).await.expect("balances");
            assert_eq!(balances.available.minor(), minor);
            assert_eq!(balances.received.minor(), minor);
        }
        assert!(ledger::audit(&client).await.expect("audit").is_sound());
    });
}
