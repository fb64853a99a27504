//! The book: every transfer and payment by operator, kind and reference, in sharded maps,
//! with the float per currency. A reference is created at most once and money moves for
//! it at most once; `report` counts executions, the ground truth audits read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use payrail_engine::money::{Amount, Currency};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::draws::fnv1a;
use super::faults::{Course, Decision, Refusal, ReplyFault};
use crate::simulator::progress::Progress;

mod report;

pub use report::{ExecutedTransfer, TransferStatus, TransfersReport};

/// Shards of the maps: enough that two cores rarely wait on each other's lock.
const SHARDS: usize = 32;
/// First operator transaction id handed out: ids look like the operators' long numbers.
const TRANSACTION_ID_FIRST: u64 = 7_000_000_001;

/// Which simulated operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimOperator {
    Mtn,
    Airtel,
}

/// Money out (a transfer, disbursement) or money in (a request to pay, collection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Transfer,
    Payment,
}

/// The status now, with MTN's reason for a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    /// Airtel TA: executed, outcome not yet told.
    Ambiguous,
    Successful,
    Failed(&'static str),
}

/// What a POST asks to create; the book owns it once created.
#[derive(Debug)]
pub(crate) struct Order {
    pub(crate) operator: SimOperator,
    pub(crate) kind: Kind,
    pub(crate) id: String,
    pub(crate) owner: Arc<str>,
    pub(crate) external_id: String,
    pub(crate) msisdn: String,
    pub(crate) amount: Amount,
    pub(crate) currency: Currency,
    pub(crate) payer_message: String,
    pub(crate) payee_note: String,
}

/// A created transfer or payment.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) order: Order,
    pub(crate) progress: Progress<Status>,
    /// Pending shows as TA (Airtel's ambiguous) rather than TIP.
    pub(crate) ambiguous: bool,
    pub(crate) executions: u32,
    pub(crate) transaction_id: u64,
    /// Milliseconds after the book opened that it was created.
    pub(crate) created_ms: u64,
}

impl Created {
    /// The status now; a due pending turns final for good.
    pub(crate) fn status(&mut self) -> Status {
        let pending = if self.ambiguous {
            Status::Ambiguous
        } else {
            Status::Pending
        };
        self.progress.current(pending)
    }
}

#[derive(Debug, Default)]
struct Record {
    seq: u64,
    attempts: u32,
    queries: u32,
    created: Option<Box<Created>>,
}

/// What a POST came to.
#[derive(Debug)]
pub(crate) enum Submitted {
    /// The reference exists: nothing done.
    Duplicate,
    /// The book is full (`transfers_max`).
    Full,
    /// Not created: the decision said so.
    Refused(Refusal),
    Created(Receipt),
}

/// An accepted POST: how to reply, and when and how it ends (for callbacks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Receipt {
    pub(crate) reply: ReplyFault,
    /// The `pending` fault fired.
    pub(crate) slow: bool,
    pub(crate) status: Status,
    pub(crate) executed: bool,
    /// The final status and when it is reached; `None` for pending for ever.
    pub(crate) ends: Option<(Instant, Status)>,
}

type Shard = [HashMap<Box<str>, Record>; 4];

#[derive(Debug)]
pub(crate) struct Book {
    shards: Vec<Mutex<Shard>>,
    floats: [AtomicI64; Currency::ALL.len()],
    entries: AtomicU64,
    seq: AtomicU64,
    transaction_ids: AtomicU64,
    /// When the book opened: creation times are counted from it.
    opened: Instant,
}

fn slot(operator: SimOperator, kind: Kind) -> usize {
    match (operator, kind) {
        (SimOperator::Mtn, Kind::Transfer) => 0,
        (SimOperator::Mtn, Kind::Payment) => 1,
        (SimOperator::Airtel, Kind::Transfer) => 2,
        (SimOperator::Airtel, Kind::Payment) => 3,
    }
}

fn currency_slot(currency: Currency) -> usize {
    match currency {
        Currency::Rwf => 0,
        Currency::Eur => 1,
    }
}

impl Book {
    pub(crate) fn new(floats: &std::collections::BTreeMap<Currency, Amount>) -> Book {
        let book = Book {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            floats: std::array::from_fn(|_| AtomicI64::new(0)),
            entries: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            transaction_ids: AtomicU64::new(TRANSACTION_ID_FIRST),
            opened: Instant::now(),
        };
        book.set_floats(floats);
        book
    }

    /// Sets every float: listed currencies to their amount, the others to zero.
    pub(crate) fn set_floats(&self, floats: &std::collections::BTreeMap<Currency, Amount>) {
        for currency in Currency::ALL {
            let minor = floats
                .get(&currency)
                .copied()
                .unwrap_or(Amount::ZERO)
                .minor();
            self.floats[currency_slot(currency)].store(minor, Ordering::SeqCst);
        }
    }

    pub(crate) fn float(&self, currency: Currency) -> Amount {
        let minor = self.floats[currency_slot(currency)].load(Ordering::SeqCst);
        Amount::from_minor(minor).unwrap_or(Amount::ZERO)
    }

    fn lock(&self, id: &str) -> MutexGuard<'_, Shard> {
        let shard = usize::try_from(fnv1a(id.as_bytes(), 0) % SHARDS as u64).expect("small");
        // Every update is a whole insert or counter bump: a poisoned shard is consistent.
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `amount` off the float, or says there is not enough.
    fn debit(&self, currency: Currency, amount: Amount) -> bool {
        let float = &self.floats[currency_slot(currency)];
        float
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |minor| {
                minor.checked_sub(amount.minor()).filter(|left| *left >= 0)
            })
            .is_ok()
    }

    fn credit(&self, currency: Currency, amount: Amount) {
        let float = &self.floats[currency_slot(currency)];
        // Saturating: a float at i64::MAX is a simulator that was paid absurdly much.
        let _ = float.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |minor| {
            Some(minor.saturating_add(amount.minor()))
        });
    }

    /// Counts the attempt, then creates the order unless its reference exists or `decide`
    /// (given the attempt number) refuses it. One shard lock for the whole step, so two
    /// POSTs of one reference cannot both create it.
    pub(crate) fn submit(
        &self,
        order: Order,
        transfers_max: u64,
        decide: impl FnOnce(u32) -> Decision,
    ) -> Submitted {
        let mut shard = self.lock(&order.id);
        let map = &mut shard[slot(order.operator, order.kind)];
        if !map.contains_key(order.id.as_str()) {
            if self.entries.load(Ordering::Relaxed) >= transfers_max {
                return Submitted::Full;
            }
            self.entries.fetch_add(1, Ordering::Relaxed);
        }
        let record = map.entry(order.id.clone().into_boxed_str()).or_default();
        record.attempts = record.attempts.saturating_add(1);
        if record.created.is_some() {
            return Submitted::Duplicate;
        }
        let acceptance = match decide(record.attempts) {
            Decision::Accepted(acceptance) => acceptance,
            Decision::Refused(refusal) => return Submitted::Refused(refusal),
        };
        let now = Instant::now();
        let (progress, executed) = match acceptance.course {
            Course::PendingForever => (Progress::PendingForever, false),
            Course::Fails { reason, after } => {
                (pending_then(now, after, Status::Failed(reason)), false)
            }
            Course::Succeeds { after } => {
                let paid = match order.kind {
                    Kind::Transfer => self.debit(order.currency, order.amount),
                    Kind::Payment => {
                        self.credit(order.currency, order.amount);
                        true
                    }
                };
                if paid {
                    (pending_then(now, after, Status::Successful), true)
                } else {
                    (Progress::Final(Status::Failed("NOT_ENOUGH_FUNDS")), false)
                }
            }
        };
        let ends = match &progress {
            Progress::Final(status) => Some((now, *status)),
            Progress::PendingUntil(due, status) => Some((*due, *status)),
            Progress::PendingForever => None,
        };
        let transaction_id = self.transaction_ids.fetch_add(1, Ordering::Relaxed);
        let mut created = Box::new(Created {
            order,
            progress,
            ambiguous: acceptance.reply == ReplyFault::Ambiguous,
            executions: u32::from(executed),
            transaction_id,
            created_ms: u64::try_from(now.duration_since(self.opened).as_millis())
                .unwrap_or(u64::MAX),
        });
        let status = created.status();
        record.seq = self.seq.fetch_add(1, Ordering::Relaxed);
        record.created = Some(created);
        Submitted::Created(Receipt {
            reply: acceptance.reply,
            slow: acceptance.slow,
            status,
            executed,
            ends,
        })
    }

    /// Runs `read` on a created transfer of `owner` (another credential's is not found),
    /// with its status now and how many queries it has had, this one included.
    pub(crate) fn query<T>(
        &self,
        operator: SimOperator,
        kind: Kind,
        id: &str,
        owner: &str,
        read: impl FnOnce(&Created, Status, u32) -> T,
    ) -> Option<T> {
        let mut shard = self.lock(id);
        let record = shard[slot(operator, kind)].get_mut(id)?;
        let created = record
            .created
            .as_mut()
            .filter(|c| &*c.order.owner == owner)?;
        record.queries = record.queries.saturating_add(1);
        let status = created.status();
        Some(read(created, status, record.queries))
    }

    /// Runs `read` on a created transfer, whoever owns it (for building callbacks).
    pub(crate) fn with_created<T>(
        &self,
        operator: SimOperator,
        kind: Kind,
        id: &str,
        read: impl FnOnce(&Created) -> T,
    ) -> Option<T> {
        let shard = self.lock(id);
        let record = shard[slot(operator, kind)].get(id)?;
        record.created.as_deref().map(read)
    }
}

fn pending_then(now: Instant, after: std::time::Duration, status: Status) -> Progress<Status> {
    if after.is_zero() {
        Progress::Final(status)
    } else {
        Progress::PendingUntil(now + after, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simserver::faults::Acceptance;

    fn order(id: &str) -> Order {
        Order {
            operator: SimOperator::Mtn,
            kind: Kind::Transfer,
            id: id.to_owned(),
            owner: "mtn:user".into(),
            external_id: String::new(),
            msisdn: "250788123456".into(),
            amount: Amount::from_minor(10).expect("an amount"),
            currency: Currency::Rwf,
            payer_message: String::new(),
            payee_note: String::new(),
        }
    }

    fn succeeds(_attempt: u32) -> Decision {
        Decision::Accepted(Acceptance {
            course: Course::Succeeds {
                after: std::time::Duration::ZERO,
            },
            reply: ReplyFault::None,
            slow: false,
        })
    }

    #[test]
    fn concurrent_posts_of_one_reference_create_it_once() {
        let floats = std::collections::BTreeMap::from([(
            Currency::Rwf,
            Amount::from_minor(1_000).expect("an amount"),
        )]);
        let book = Arc::new(Book::new(&floats));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let book = Arc::clone(&book);
                std::thread::spawn(move || {
                    matches!(
                        book.submit(order("same"), 100, succeeds),
                        Submitted::Created(_)
                    )
                })
            })
            .collect();
        let created = threads
            .into_iter()
            .map(|thread| thread.join().expect("no panic"))
            .filter(|created| *created)
            .count();
        assert_eq!(created, 1);
        let report = book.report();
        assert_eq!(report.transfers[0].attempts, 8);
        assert_eq!(report.transfers[0].executions, 1);
        assert_eq!(book.float(Currency::Rwf).minor(), 990);
    }

    #[test]
    fn a_full_book_refuses_new_references_but_answers_known_ones() {
        let book = Book::new(&std::collections::BTreeMap::new());
        assert!(matches!(
            book.submit(order("a"), 1, succeeds),
            Submitted::Created(_)
        ));
        assert!(matches!(
            book.submit(order("b"), 1, succeeds),
            Submitted::Full
        ));
        assert!(matches!(
            book.submit(order("a"), 1, succeeds),
            Submitted::Duplicate
        ));
    }
}
