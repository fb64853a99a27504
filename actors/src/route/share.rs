//! This node's share of one route's quotas (docs/cluster.md, "Route quotas"). Nodes that
//! have work to send split the quota, and nodes without keep a floor, so a payroll owned by
//! one node of three runs near the whole quota. The shares never add up to more than the
//! quota in any one-second window: each node publishes its share in the database, raises
//! its own only into what the others have not published, and publishes a lowered share
//! only once its limiter has run at it for `SETTLE`.
//!
//! The route actor reads the share it may apply and flags when its quota held calls back;
//! the membership actor runs a round at each renewal, under a lock held by one node at a
//! time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::RouteConfig;

/// How long a lowered share runs before it is published: past a one-second window, with a
/// margin for the message that takes it to the route.
const SETTLE: Duration = Duration::from_secs(2);

/// The part of a quota set aside for the nodes without work: their single payouts and
/// queries still leave at once, at up to this part split between them.
const IDLE_PART: u32 = 10;

/// One call's share (sends or status queries) of one route's per-second quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallShare {
    /// What this node's limiter runs at.
    pub applied: u32,
    /// What the other nodes see: never below what the limiter ran at in the last second.
    pub published: u32,
    /// When `applied` went below `published`.
    pub lowered_at: Option<Instant>,
}

/// What one node shows the others for one route: its published shares and whether its
/// quotas held calls back since its last round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Published {
    pub sends_per_second: u32,
    pub queries_per_second: u32,
    pub sends_busy: bool,
    pub queries_busy: bool,
}

/// Another node as a round sees it.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    /// Its lease has not expired. An expired one's shares still count until it is reaped.
    pub live: bool,
    pub published: Published,
}

/// The target share of a quota for a node: with nobody busy, an equal part; otherwise the
/// idle nodes split a tenth of the quota (at least one call a second each, where the quota
/// allows) and the busy ones split the rest, rounded down.
pub fn target(quota: u32, busy: bool, others_busy: u32, others_idle: u32) -> u32 {
    let nodes = 1 + others_busy + others_idle;
    let busy_nodes = others_busy + u32::from(busy);
    if busy_nodes == 0 {
        return quota / nodes;
    }
    let idle_nodes = nodes - busy_nodes;
    let floor = (quota / IDLE_PART)
        .checked_div(idle_nodes)
        .map_or(0, |part| part.max(1).min(quota / nodes));
    if busy {
        (quota - floor * idle_nodes) / busy_nodes
    } else {
        floor
    }
}

impl CallShare {
    /// One round towards `target`, given what the others published in all.
    pub fn round(self, target: u32, quota: u32, others_published: u32, now: Instant) -> CallShare {
        let mut next = self;
        if next
            .lowered_at
            .is_some_and(|at| now.saturating_duration_since(at) >= SETTLE)
        {
            next.published = next.applied;
            next.lowered_at = None;
        }
        if target < next.applied {
            next.applied = target;
            next.lowered_at = Some(now);
        } else if target > next.applied {
            let room = quota.saturating_sub(others_published);
            next.applied = target.min(room).max(next.applied);
        }
        if next.applied >= next.published {
            next.published = next.applied;
            next.lowered_at = None;
        }
        next
    }
}

/// This node's shares of one route's two quotas, shared by its route actor (which applies
/// them and says when it wanted more) and the membership actor (which runs the rounds).
#[derive(Debug)]
pub struct RouteShare {
    config: RouteConfig,
    shares: Mutex<(CallShare, CallShare)>,
    sends_held_back: AtomicBool,
    queries_held_back: AtomicBool,
}

impl RouteShare {
    /// Nothing applied yet: the route sends nothing until the first round grants a share.
    pub fn new(config: RouteConfig) -> RouteShare {
        RouteShare {
            config,
            shares: Mutex::new((CallShare::default(), CallShare::default())),
            sends_held_back: AtomicBool::new(false),
            queries_held_back: AtomicBool::new(false),
        }
    }

    pub fn config(&self) -> &RouteConfig {
        &self.config
    }

    /// The sends and queries per second the route may run at now.
    pub fn applied(&self) -> (u32, u32) {
        let shares = self.lock();
        (shares.0.applied, shares.1.applied)
    }

    /// The route's send quota held a send back.
    pub fn sends_held_back(&self) {
        self.sends_held_back.store(true, Ordering::Relaxed);
    }

    /// The route's query quota held a query back.
    pub fn queries_held_back(&self) {
        self.queries_held_back.store(true, Ordering::Relaxed);
    }

    /// Whether the quotas held calls back since the last round, and this round begins.
    pub fn take_busy(&self) -> (bool, bool) {
        (
            self.sends_held_back.swap(false, Ordering::Relaxed),
            self.queries_held_back.swap(false, Ordering::Relaxed),
        )
    }

    /// One round against `peers`: the shares to publish now, and the shares to keep once
    /// they are published (`settle`).
    pub fn round(&self, busy: (bool, bool), peers: &[Peer], now: Instant) -> Round {
        let (sends, queries) = *self.lock();
        let count = |busy_of: fn(&Published) -> bool| {
            let live = peers.iter().filter(|peer| peer.live);
            let busy = live.clone().filter(|peer| busy_of(&peer.published)).count();
            let idle = live.count() - busy;
            (
                u32::try_from(busy).unwrap_or(u32::MAX),
                u32::try_from(idle).unwrap_or(u32::MAX),
            )
        };
        let sum = |of: fn(&Published) -> u32| {
            peers
                .iter()
                .map(|peer| of(&peer.published))
                .fold(0u32, u32::saturating_add)
        };
        let (quota_s, quota_q) = (
            self.config.sends_per_second.get(),
            self.config.queries_per_second.get(),
        );
        let (busy_s, idle_s) = count(|p| p.sends_busy);
        let (busy_q, idle_q) = count(|p| p.queries_busy);
        let sends = sends.round(
            target(quota_s, busy.0, busy_s, idle_s),
            quota_s,
            sum(|p| p.sends_per_second),
            now,
        );
        let queries = queries.round(
            target(quota_q, busy.1, busy_q, idle_q),
            quota_q,
            sum(|p| p.queries_per_second),
            now,
        );
        Round {
            sends,
            queries,
            published: Published {
                sends_per_second: sends.published,
                queries_per_second: queries.published,
                sends_busy: busy.0,
                queries_busy: busy.1,
            },
        }
    }

    /// A round's shares, kept once the database holds what it published; the route applies
    /// them when told. A lowering settles from now, when it starts to apply.
    pub fn settle(&self, round: &Round) {
        let now = Instant::now();
        let mut shares = self.lock();
        let lowered_now = |mut next: CallShare, before: CallShare| {
            if next.applied < before.applied {
                next.lowered_at = Some(now);
            }
            next
        };
        *shares = (
            lowered_now(round.sends, shares.0),
            lowered_now(round.queries, shares.1),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (CallShare, CallShare)> {
        // Every write replaces the whole pair, so a poisoned lock still holds one.
        self.shares
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What one round decided for one route.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    sends: CallShare,
    queries: CallShare,
    pub published: Published,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_never_add_up_to_more_than_the_quota() {
        for quota in [1, 2, 3, 10, 300, 1_000] {
            for nodes in 1..=6u32 {
                for busy_nodes in 0..=nodes {
                    let idle_nodes = nodes - busy_nodes;
                    let busy_target = busy_nodes
                        .checked_sub(1)
                        .map_or(0, |others| target(quota, true, others, idle_nodes));
                    let idle_target = idle_nodes
                        .checked_sub(1)
                        .map_or(0, |others| target(quota, false, busy_nodes, others));
                    let total = busy_target * busy_nodes + idle_target * idle_nodes;
                    assert!(
                        total <= quota,
                        "{quota}/s, {busy_nodes} of {nodes} busy: {total}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_busy_node_among_idle_ones_gets_all_but_their_floors() {
        assert_eq!(target(300, true, 0, 2), 270, "nine tenths");
        assert_eq!(target(300, false, 1, 0), 30, "the tenth, for one idle node");
        assert_eq!(target(300, false, 1, 1), 15, "the tenth split");
        assert_eq!(target(300, false, 0, 2), 100, "nobody busy: equal parts");
        assert_eq!(target(10, true, 0, 2), 8, "MTN's queries: a floor of one");
        assert_eq!(target(300, true, 1, 1), 135);
    }

    fn route(sends: u32, queries: u32) -> RouteShare {
        RouteShare::new(RouteConfig {
            name: payrail_engine::route::RouteName::new("mtn-rw").expect("a route"),
            sends_per_second: std::num::NonZeroU32::new(sends).expect("positive"),
            queries_per_second: std::num::NonZeroU32::new(queries).expect("positive"),
            max_in_flight: 64,
            callback_deadline: None,
        })
    }

    fn peer(live: bool, sends: u32, sends_busy: bool) -> Peer {
        Peer {
            live,
            published: Published {
                sends_per_second: sends,
                queries_per_second: 3,
                sends_busy,
                queries_busy: false,
            },
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_route_takes_what_idle_peers_gave_up_and_an_expired_peers_share_counts() {
        let share = route(300, 10);
        let now = Instant::now();
        let idle = [peer(true, 100, false), peer(true, 100, false)];
        let first = share.round((false, false), &idle, now);
        share.settle(&first);
        assert_eq!(share.applied(), (100, 3), "an equal part of the room");
        let busy = share.round((true, false), &idle, now);
        share.settle(&busy);
        assert_eq!(
            share.applied().0,
            100,
            "no room until the others publish less"
        );
        let lowered = [peer(true, 15, false), peer(true, 15, false)];
        let raised = share.round((true, false), &lowered, now);
        share.settle(&raised);
        assert_eq!(share.applied().0, 270, "nine tenths");
        assert_eq!(raised.published.sends_per_second, 270);
        assert!(raised.published.sends_busy);

        let dead = [peer(true, 15, false), peer(false, 100, true)];
        let alone = route(300, 10);
        let round = alone.round((true, false), &dead, now);
        alone.settle(&round);
        assert_eq!(
            alone.applied().0,
            185,
            "the unreaped node's 100 still counts, its busy flag does not"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_share_rises_only_into_room_and_publishes_a_lowering_after_it_settled() {
        let start = CallShare::default();
        let now = Instant::now();
        let first = start.round(280, 300, 200, now);
        assert_eq!(
            (first.applied, first.published),
            (100, 100),
            "only the room"
        );
        let lowered = first.round(10, 300, 200, now);
        assert_eq!(
            (lowered.applied, lowered.published),
            (10, 100),
            "lowered at once, published as before"
        );
        let soon = lowered.round(10, 300, 200, now + Duration::from_millis(500));
        assert_eq!(soon.published, 100, "not before it settled");
        let settled = soon.round(10, 300, 200, now + SETTLE);
        assert_eq!((settled.applied, settled.published), (10, 10));
        let raised = settled.round(280, 300, 20, now + SETTLE);
        assert_eq!((raised.applied, raised.published), (280, 280));
    }
}
