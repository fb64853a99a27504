//! The membership actor: keeps this node in the cluster (docs/cluster.md). At its start and
//! then a third of each lease term it renews the node's lease, and in the same transaction
//! runs a quota round (`route::share`): each route's share is published for the other
//! nodes, and applied once published. Before that it reaps nodes whose lease expired
//! (freeing their batches, collections and roles, which the supervisor's and the
//! collector's sweeps then take, and their quota shares); after, it counts the live nodes
//! and takes the roles nobody holds. A failed renewal
//! lets the lease run out: routes stop sending before the database's expiry. A node back
//! after a whole lease without PostgreSQL (a failover) reaps nobody for a lease, so that
//! the others, cut off too, can renew. Finding its own row reaped, the node is fenced for
//! good and the supervisor stops the engine.
//! Database work runs in tasks that answer as messages.
//!
//! Parent: the supervisor. Children: none.

use std::sync::Arc;

use deadpool_postgres::Pool;
use metrics::{Gauge, counter, gauge};
use payrail_engine::metrics::{
    CLUSTER_LEASE_RENEWALS, CLUSTER_LEASES, CLUSTER_LIVE_NODES, CLUSTER_TAKEOVERS,
};
use payrail_engine::store::StoreError;
use payrail_engine::store::cluster::{self, Holdings, PeerShares, Reaped};
use ractor::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef};
use tokio::time::Instant;

use crate::directory::RouteDirectory;
use crate::lease::NodeLease;
use crate::route::share::{self, Peer, RouteShare};

/// What the membership actor tells its parent.
#[derive(Debug)]
pub enum Membership {
    /// Nodes whose lease expired were reaped: take their batches and collections now.
    TakeOver,
    /// Another node reaped this one: nothing it ran is its own any more; stop the engine.
    Fenced,
}

#[derive(Debug)]
pub enum MemberMsg {
    /// Time to renew the lease.
    Renew,
    /// A renewal asked at `asked_at` came back, with what followed it.
    Renewed(Instant, Result<Round, RoundFailed>),
}

/// Why a renewal's round did not complete.
#[derive(Debug)]
pub enum RoundFailed {
    /// Another node reaped this one.
    Fenced,
    /// The database did not answer, or answered with an error, within a third of a lease.
    Unanswered(String),
}

/// What one renewal found.
#[derive(Debug)]
pub struct Round {
    holdings: Holdings,
    /// Each route's shares, published: to apply.
    shares: Vec<(Arc<RouteShare>, share::Round)>,
    reaped: Vec<Reaped>,
    live: i64,
    roles: Vec<String>,
}

#[derive(Debug)]
pub struct MemberArgs {
    pub pool: Pool,
    pub lease: Arc<NodeLease>,
    pub routes: Arc<RouteDirectory>,
    /// This node's share of each route's quotas, which the rounds set.
    pub shares: Vec<Arc<RouteShare>>,
    /// Where takeovers and the fence are told.
    pub parent: DerivedActorRef<Membership>,
}

#[derive(Debug)]
pub struct MemberState {
    args: MemberArgs,
    renewing: bool,
    /// When the last round that renewed the lease was asked.
    renewed_at: Instant,
    /// No other node is reaped before this: after this node was itself cut off from
    /// PostgreSQL for a whole lease (a failover, say), the others get a lease to renew too.
    reap_from: Instant,
    live_nodes: Gauge,
    batches: Gauge,
    collections: Gauge,
    roles: Gauge,
}

/// The membership actor (its state is `MemberState`).
#[derive(Debug)]
pub struct Member;

impl Actor for Member {
    type Msg = MemberMsg;
    type State = MemberState;
    type Arguments = MemberArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<MemberMsg>,
        args: MemberArgs,
    ) -> Result<MemberState, ActorProcessingErr> {
        myself.send_interval(args.lease.term() / 3, || MemberMsg::Renew);
        // Served at 0 from the start, so the first takeover shows in `increase()`.
        for kind in ["nodes", "batches", "collections"] {
            counter!(CLUSTER_TAKEOVERS, "kind" => kind).increment(0);
        }
        for result in ["renewed", "failed", "fenced"] {
            counter!(CLUSTER_LEASE_RENEWALS, "result" => result).increment(0);
        }
        let live_nodes = gauge!(CLUSTER_LIVE_NODES);
        live_nodes.set(f64::from(args.lease.live_nodes()));
        Ok(MemberState {
            args,
            renewing: false,
            renewed_at: Instant::now(),
            reap_from: Instant::now(),
            live_nodes,
            batches: gauge!(CLUSTER_LEASES, "kind" => "batches"),
            collections: gauge!(CLUSTER_LEASES, "kind" => "collections"),
            roles: gauge!(CLUSTER_LEASES, "kind" => "roles"),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<MemberMsg>,
        _state: &mut MemberState,
    ) -> Result<(), ActorProcessingErr> {
        // The routes send nothing until a first round grants them a share.
        let _ = myself.send_message(MemberMsg::Renew);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<MemberMsg>,
        message: MemberMsg,
        state: &mut MemberState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            MemberMsg::Renew if !state.renewing && !state.args.lease.is_fenced() => {
                state.renewing = true;
                let shares = state.args.shares.iter();
                let busy = shares.map(|share| (Arc::clone(share), share.take_busy()));
                let reap = state.may_reap(Instant::now());
                renew(
                    &myself,
                    &state.args.pool,
                    &state.args.lease,
                    busy.collect(),
                    reap,
                );
            }
            MemberMsg::Renew => {}
            MemberMsg::Renewed(asked_at, round) => {
                state.renewing = false;
                state.renewed(asked_at, round);
            }
        }
        Ok(())
    }
}

/// Each route's round against the other nodes' published shares: what this node shows
/// them (`GET /v1/cluster` too), and each route's decision.
fn share_quotas(
    busy: &[(Arc<RouteShare>, (bool, bool))],
    peers: &[PeerShares],
) -> (serde_json::Value, Vec<(Arc<RouteShare>, share::Round)>) {
    let now = Instant::now();
    let mut published = serde_json::Map::new();
    let mut rounds = Vec::new();
    for (route, busy) in busy {
        let name = route.config().name.as_str();
        let peers: Vec<Peer> = peers
            .iter()
            .map(|peer| Peer {
                live: peer.live,
                // A node that published nothing for this route holds none of it.
                published: peer
                    .quota_shares
                    .get(name)
                    .and_then(|shares| serde_json::from_value(shares.clone()).ok())
                    .unwrap_or_default(),
            })
            .collect();
        let round = route.round(*busy, &peers, now);
        let shown = serde_json::to_value(round.published).unwrap_or_default();
        published.insert(name.to_owned(), shown);
        rounds.push((Arc::clone(route), round));
    }
    (published.into(), rounds)
}

/// Reaps dead nodes (when `reap`), then renews the lease and shares the quotas in one
/// transaction, then counts the live nodes and takes roles, all in a task.
fn renew(
    myself: &ActorRef<MemberMsg>,
    pool: &Pool,
    lease: &Arc<NodeLease>,
    busy: Vec<(Arc<RouteShare>, (bool, bool))>,
    reap: bool,
) {
    let (myself, pool, node, term) = (myself.clone(), pool.clone(), lease.node(), lease.term());
    tokio::spawn(async move {
        let asked_at = Instant::now();
        let round = async {
            let mut client = pool.get().await.map_err(StoreError::from)?;
            // Reaped first, so that a dead node's quota shares are shared out in this round.
            let reaped = if reap {
                cluster::reap_expired(&mut client, node).await?
            } else {
                Vec::new()
            };
            let tx = client.transaction().await?;
            let peers = cluster::quota_peers(&tx, node).await?;
            let (published, shares) = share_quotas(&busy, &peers);
            let holdings = cluster::renew(&tx, node, term, &published).await?;
            tx.commit().await?;
            let live = cluster::live_count(&client).await?;
            let roles = cluster::take_roles(&client, node).await?;
            Ok(Round {
                holdings,
                shares,
                reaped,
                live,
                roles,
            })
        };
        // A round that hangs (a partition: no answer, no error) must not hold back the
        // next one; the lease runs out meanwhile and sends stop.
        let round = match tokio::time::timeout(term / 3, round).await {
            Ok(Ok(round)) => Ok(round),
            Ok(Err(StoreError::NotOwner)) => Err(RoundFailed::Fenced),
            Ok(Err(error)) => Err(RoundFailed::Unanswered(error.to_string())),
            Err(_) => Err(RoundFailed::Unanswered(
                "no answer within a third of a lease".into(),
            )),
        };
        let _ = myself.send_message(MemberMsg::Renewed(asked_at, round));
    });
}

impl MemberState {
    /// Whether a round asked `now` may reap other nodes: not while this node's own last
    /// renewal is a lease old (it was cut off, and so may the others have been), nor for a
    /// lease after such a gap.
    fn may_reap(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.renewed_at) < self.args.lease.term()
            && now >= self.reap_from
    }

    fn renewed(&mut self, asked_at: Instant, round: Result<Round, RoundFailed>) {
        let lease = &self.args.lease;
        let round = match round {
            Ok(round) => round,
            Err(RoundFailed::Fenced) => {
                counter!(CLUSTER_LEASE_RENEWALS, "result" => "fenced").increment(1);
                lease.fence();
                tracing::error!(node = %lease.node(), name = lease.name(), "another node reaped this node's lease and took its work over; the engine stops");
                let _ = self.args.parent.send_message(Membership::Fenced);
                return;
            }
            Err(RoundFailed::Unanswered(error)) => {
                counter!(CLUSTER_LEASE_RENEWALS, "result" => "failed").increment(1);
                tracing::warn!(%error, "could not renew this node's lease; sends stop before it runs out");
                return;
            }
        };
        counter!(CLUSTER_LEASE_RENEWALS, "result" => "renewed").increment(1);
        lease.renewed(asked_at);
        if asked_at.saturating_duration_since(self.renewed_at) >= lease.term() {
            self.reap_from = asked_at + lease.term();
            tracing::warn!(
                "this node renewed its lease after a whole lease without PostgreSQL; it reaps no other node for a lease, so that they can renew theirs too"
            );
        }
        self.renewed_at = asked_at;
        self.batches.set(round.holdings.batches as f64);
        self.collections.set(round.holdings.collections as f64);
        self.roles.set(round.roles.len() as f64);
        lease.set_verifier(round.roles.iter().any(|role| role == cluster::VERIFIER));
        for (route, shares) in &round.shares {
            route.settle(shares);
        }
        self.args.routes.regrant();
        let live = u32::try_from(round.live).unwrap_or(u32::MAX).max(1);
        if live != lease.live_nodes() {
            tracing::info!(live, "the cluster's live nodes changed");
            lease.set_live_nodes(live);
        }
        self.live_nodes.set(f64::from(live));
        self.took_over(&round.reaped);
    }

    /// Counts and logs the nodes reaped, and has their work taken now.
    fn took_over(&self, reaped: &[Reaped]) {
        for node in reaped {
            counter!(CLUSTER_TAKEOVERS, "kind" => "nodes").increment(1);
            counter!(CLUSTER_TAKEOVERS, "kind" => "batches")
                .increment(u64::try_from(node.batches).unwrap_or(0));
            counter!(CLUSTER_TAKEOVERS, "kind" => "collections")
                .increment(u64::try_from(node.collections).unwrap_or(0));
            tracing::warn!(node = %node.id, name = node.name, batches = node.batches, collections = node.collections, "a node's lease expired; its work is free and the live nodes take it over");
        }
        if !reaped.is_empty() {
            let _ = self.args.parent.send_message(Membership::TakeOver);
        }
    }
}
