//! A route's status queries, in the order its one query budget is spent: first lines whose
//! outcome is really unknown (a timeout, a 5xx, a line recovered after a crash), then lines
//! whose callback is overdue (or that have no callback to wait for), and last the
//! verification of lines an authenticated callback already ended, with what is left over.

use std::collections::VecDeque;

use payrail_engine::store::callback_settlements::Unverified;
use ractor::DerivedActorRef;

use super::fair_queue::FairQueue;
use crate::job::{Job, Verified};

/// Which lane a line's status query waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lane {
    /// The outcome is unknown: the operator may or may not have it.
    Unknown,
    /// The operator has it and its callback is late (or it has none).
    Overdue,
}

/// A verification to make: the payout, and who wants the answer.
pub(super) type Verification = (Unverified, DerivedActorRef<Verified>);

/// The next status query to make.
pub(super) enum NextQuery {
    Line(Job),
    Verification(Verification),
}

#[derive(Debug, Default)]
pub(super) struct QueryLanes {
    unknown: FairQueue<Job>,
    overdue: FairQueue<Job>,
    verifications: VecDeque<Verification>,
}

impl QueryLanes {
    pub(super) fn push(&mut self, job: Job, lane: Lane) {
        match lane {
            Lane::Unknown => self.unknown.push(job.merchant, job),
            Lane::Overdue => self.overdue.push(job.merchant, job),
        }
    }

    /// Verifications go last in line; one the operator refused to answer yet goes first
    /// among them.
    pub(super) fn verify(&mut self, verification: Verification, again: bool) {
        if again {
            self.verifications.push_front(verification);
        } else {
            self.verifications.push_back(verification);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.unknown.is_empty() && self.overdue.is_empty() && self.verifications.is_empty()
    }

    /// The most urgent query waiting.
    pub(super) fn pop(&mut self) -> Option<NextQuery> {
        self.unknown
            .pop()
            .or_else(|| self.overdue.pop())
            .map(NextQuery::Line)
            .or_else(|| self.verifications.pop_front().map(NextQuery::Verification))
    }

    /// Takes out the lines `wanted` picks from both lanes.
    pub(super) fn extract(&mut self, mut wanted: impl FnMut(&Job) -> bool) -> Vec<Job> {
        let mut taken = self.unknown.extract(&mut wanted);
        taken.extend(self.overdue.extract(wanted));
        taken
    }

    /// Verifications waiting.
    pub(super) fn verifications(&self) -> usize {
        self.verifications.len()
    }
}
