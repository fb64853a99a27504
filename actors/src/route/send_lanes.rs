//! A route's sends in two lanes: single payouts first, then payroll lines, each lane served
//! merchant by merchant (`FairQueue`), so a payroll's queued lines never hold back a single
//! payout, not even one of the same merchant.

use payrail_engine::ids::MerchantId;

use super::fair_queue::FairQueue;

#[derive(Debug)]
pub struct SendLanes<T> {
    singles: FairQueue<T>,
    bulk: FairQueue<T>,
}

impl<T> Default for SendLanes<T> {
    fn default() -> SendLanes<T> {
        SendLanes {
            singles: FairQueue::default(),
            bulk: FairQueue::default(),
        }
    }
}

impl<T> SendLanes<T> {
    pub fn push(&mut self, merchant: MerchantId, single: bool, item: T) {
        let lane = if single {
            &mut self.singles
        } else {
            &mut self.bulk
        };
        lane.push(merchant, item);
    }

    /// The next single payout, or else the next payroll line.
    pub fn pop(&mut self) -> Option<T> {
        self.singles.pop().or_else(|| self.bulk.pop())
    }

    pub fn is_empty(&self) -> bool {
        self.singles.is_empty() && self.bulk.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_payout_goes_before_its_own_merchants_payroll() {
        let merchant = MerchantId::new();
        let mut lanes = SendLanes::default();
        for line in 0..1_000 {
            lanes.push(merchant, false, ("payroll", line));
        }
        lanes.push(merchant, true, ("single", 0));
        assert_eq!(lanes.pop(), Some(("single", 0)));
        assert_eq!(lanes.pop(), Some(("payroll", 0)));
        let rest = std::iter::from_fn(|| lanes.pop()).count();
        assert_eq!(rest, 999);
        assert!(lanes.is_empty());
    }
}
