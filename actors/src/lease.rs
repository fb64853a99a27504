//! This node's lease as the actors see it (docs/cluster.md): its id, which is the fencing
//! token the database checks on every claim, and how long the lease surely holds on this
//! process's monotonic clock. Routes and the collector call operators only while it
//! holds; the membership actor renews it, and fences it for good when another node took
//! this node's work.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use payrail_engine::ids::NodeId;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The part of a lease a node does not count on: the database's clock may run a little
/// fast against ours, and a renewal's answer may take a while to come back.
const MARGIN_FRACTION: u32 = 5;

/// How often work held back because the lease does not hold looks again.
pub const RECHECK: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct NodeLease {
    node: NodeId,
    name: String,
    /// How long a renewal leases the node for, on the database's clock.
    term: Duration,
    origin: Instant,
    /// Milliseconds after `origin` until which the lease surely holds.
    holds_until_ms: AtomicU64,
    /// Another node reaped this one: nothing this run held is its own any more.
    fenced: AtomicBool,
    /// Wakes whoever waits for the fence.
    fence_notice: Notify,
    /// Live nodes, this one included, at the last renewal.
    live_nodes: AtomicU32,
    /// This node holds the verifier role.
    verifier: AtomicBool,
}

impl NodeLease {
    /// A lease taken at `asked_at`, which holds nothing until `renewed` says it does.
    pub fn new(node: NodeId, name: String, term: Duration, asked_at: Instant) -> NodeLease {
        NodeLease {
            node,
            name,
            term,
            origin: asked_at,
            holds_until_ms: AtomicU64::new(0),
            fenced: AtomicBool::new(false),
            fence_notice: Notify::new(),
            live_nodes: AtomicU32::new(1),
            verifier: AtomicBool::new(false),
        }
    }

    /// The fencing token: this run's id.
    pub fn node(&self) -> NodeId {
        self.node
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long one renewal leases the node for.
    pub fn term(&self) -> Duration {
        self.term
    }

    /// Whether the lease surely holds now: sends and queries may leave.
    pub fn holds(&self) -> bool {
        !self.fenced.load(Ordering::Acquire)
            && self.since_origin_ms(Instant::now()) < self.holds_until_ms.load(Ordering::Acquire)
    }

    /// A renewal asked at `asked_at` succeeded: the database's expiry is at least `term`
    /// after it, so the lease surely holds until `term` less the margin after it.
    pub fn renewed(&self, asked_at: Instant) {
        let sure = self.term - self.term / MARGIN_FRACTION;
        let until = self.since_origin_ms(asked_at) + u64::try_from(sure.as_millis()).unwrap_or(0);
        self.holds_until_ms.fetch_max(until, Ordering::AcqRel);
    }

    /// Another node took this node's work: it never holds again.
    pub fn fence(&self) {
        self.fenced.store(true, Ordering::Release);
        self.fence_notice.notify_waiters();
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    /// Resolves once another node has fenced this one (the engine stops then): the
    /// process should end, and its service manager start it again.
    pub async fn fenced(&self) {
        loop {
            // Registered before the flag is read, so a fence in between is not missed.
            let notice = self.fence_notice.notified();
            if self.is_fenced() {
                return;
            }
            notice.await;
        }
    }

    pub fn live_nodes(&self) -> u32 {
        self.live_nodes.load(Ordering::Acquire)
    }

    pub fn set_live_nodes(&self, live: u32) {
        self.live_nodes.store(live.max(1), Ordering::Release);
    }

    pub fn is_verifier(&self) -> bool {
        self.verifier.load(Ordering::Acquire) && self.holds()
    }

    pub fn set_verifier(&self, holds: bool) {
        self.verifier.store(holds, Ordering::Release);
    }

    fn since_origin_ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_lease_holds_for_its_term_less_the_margin_and_never_after_a_fence() {
        let lease = NodeLease::new(
            NodeId::new(),
            "a".into(),
            Duration::from_secs(10),
            Instant::now(),
        );
        assert!(!lease.holds(), "not before the first renewal");
        lease.renewed(Instant::now());
        assert!(lease.holds());
        tokio::time::advance(Duration::from_millis(7_900)).await;
        assert!(lease.holds(), "within 8 s of a 10 s lease");
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(
            !lease.holds(),
            "past the margin, sends stop before the database's expiry"
        );
        lease.renewed(Instant::now());
        assert!(lease.holds(), "a renewal makes it hold again");
        lease.fence();
        lease.renewed(Instant::now());
        assert!(!lease.holds(), "a fenced lease never holds again");
    }
}
