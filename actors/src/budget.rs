//! A merchant's in-flight budget: lines handed to routes and not final yet, across all of
//! the merchant's batches, so that one merchant with many payrolls cannot fill the routes.

use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug)]
pub struct MerchantBudget {
    in_flight: AtomicU32,
    max: u32,
}

impl MerchantBudget {
    pub fn new(max: u32) -> MerchantBudget {
        MerchantBudget {
            in_flight: AtomicU32::new(0),
            max,
        }
    }

    /// Whether `lines` more fit in the budget now.
    pub fn has_room(&self, lines: u32) -> bool {
        self.in_flight.load(Ordering::Relaxed).saturating_add(lines) <= self.max
    }

    pub fn take(&self, lines: u32) {
        self.in_flight.fetch_add(lines, Ordering::Relaxed);
    }

    pub fn give_back(&self, lines: u32) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(lines))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_taken_use_the_budget_until_given_back() {
        let budget = MerchantBudget::new(100);
        assert!(budget.has_room(100));
        budget.take(60);
        assert!(budget.has_room(40) && !budget.has_room(41));
        budget.give_back(60);
        budget.give_back(5);
        assert!(
            budget.has_room(100),
            "giving back more than taken cannot go below zero"
        );
    }
}
