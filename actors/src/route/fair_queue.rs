//! A queue that serves merchants in turn, one item each, so one merchant's 100,000-line
//! payroll cannot starve another merchant's single payout.

use std::collections::{HashMap, VecDeque};

use payrail_engine::ids::MerchantId;

#[derive(Debug)]
pub struct FairQueue<T> {
    queues: HashMap<MerchantId, VecDeque<T>>,
    /// Merchants with something waiting, in the order they are served next.
    turns: VecDeque<MerchantId>,
}

impl<T> Default for FairQueue<T> {
    fn default() -> FairQueue<T> {
        FairQueue {
            queues: HashMap::new(),
            turns: VecDeque::new(),
        }
    }
}

impl<T> FairQueue<T> {
    pub fn push(&mut self, merchant: MerchantId, item: T) {
        let queue = self.queues.entry(merchant).or_default();
        if queue.is_empty() {
            self.turns.push_back(merchant);
        }
        queue.push_back(item);
    }

    /// The next merchant's oldest item; that merchant goes to the back of the line.
    pub fn pop(&mut self) -> Option<T> {
        let merchant = self.turns.pop_front()?;
        let queue = self.queues.get_mut(&merchant)?;
        let item = queue.pop_front();
        if queue.is_empty() {
            self.queues.remove(&merchant);
        } else {
            self.turns.push_back(merchant);
        }
        item
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// Takes out every item `wanted` picks, keeping the others in their order.
    pub fn extract(&mut self, mut wanted: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut taken = Vec::new();
        for queue in self.queues.values_mut() {
            let (out, kept): (VecDeque<T>, VecDeque<T>) =
                std::mem::take(queue).into_iter().partition(&mut wanted);
            *queue = kept;
            taken.extend(out);
        }
        self.queues.retain(|_, queue| !queue.is_empty());
        let queues = &self.queues;
        self.turns.retain(|merchant| queues.contains_key(merchant));
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchants_take_turns_whatever_their_backlog() {
        let (big, small) = (MerchantId::new(), MerchantId::new());
        let mut queue = FairQueue::default();
        for line in 0..1_000 {
            queue.push(big, ("big", line));
        }
        queue.push(small, ("small", 0));
        assert_eq!(queue.pop(), Some(("big", 0)));
        assert_eq!(
            queue.pop(),
            Some(("small", 0)),
            "the single payout goes second, not 1,001st"
        );
        assert_eq!(queue.pop(), Some(("big", 1)));
    }

    #[test]
    fn extracting_keeps_the_rest_in_order_and_forgets_emptied_merchants() {
        let (big, small) = (MerchantId::new(), MerchantId::new());
        let mut queue = FairQueue::default();
        for line in 0..6 {
            queue.push(big, line);
        }
        queue.push(small, 100);
        let mut taken = queue.extract(|line| line % 2 == 0);
        taken.sort_unstable();
        assert_eq!(taken, [0, 2, 4, 100]);
        let rest: Vec<i32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(rest, [1, 3, 5]);
        assert!(queue.is_empty());
    }

    #[test]
    fn items_of_one_merchant_keep_their_order_and_the_queue_empties() {
        let merchant = MerchantId::new();
        let mut queue = FairQueue::default();
        for line in 0..3 {
            queue.push(merchant, line);
        }
        let drained: Vec<i32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(drained, [0, 1, 2]);
        assert!(queue.is_empty());
    }
}
