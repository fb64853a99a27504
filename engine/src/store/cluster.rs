//! The cluster's membership: each node's lease (a `cluster_nodes` row it renews, expiring on
//! the database's clock), the roles one node holds for all, and the reaping of nodes whose
//! lease expired, which frees their batches, collections and roles (docs/cluster.md).

use std::time::Duration;

use deadpool_postgres::{Client, GenericClient, Transaction};
use jiff::Timestamp;

use super::StoreError;
use crate::ids::NodeId;

/// A node in the cluster, as `GET /v1/cluster` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub id: NodeId,
    pub name: String,
    pub schema_version: i32,
    pub started_at: Timestamp,
    pub renewed_at: Timestamp,
    pub expires_at: Timestamp,
    /// Its lease has not expired, on the database's clock.
    pub live: bool,
    /// Per route, its share of the send and query quotas at its last renewal.
    pub quota_shares: serde_json::Value,
    /// Running, scheduled or awaiting-funds batches it owns (single payouts' groups too).
    pub batches: i64,
    /// Pending collections it follows.
    pub collections: i64,
    /// Roles it holds for the cluster (`verifier`).
    pub roles: Vec<String>,
}

/// A node whose lease expired, deleted by another: what it held is free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaped {
    pub id: NodeId,
    pub name: String,
    pub batches: i64,
    pub collections: i64,
}

/// What a node holds: counted for its metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    pub batches: i64,
    pub collections: i64,
}

/// Another node's quota shares, as it published them at its last renewal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerShares {
    /// Its lease has not expired. An expired node's shares count until it is reaped.
    pub live: bool,
    pub quota_shares: serde_json::Value,
}

/// The advisory lock of a quota round: one node shares the route quotas at a time.
const QUOTA_ROUND_LOCK: i64 = 0x7061_7972_6169_6c71; // "payrailq"

/// The role that verifies payouts ended on callbacks with spare status queries.
pub const VERIFIER: &str = "verifier";

/// The batches a node owns while it runs them (the partial index `batches_owner_node`).
const ACTIVE_BATCHES: &str = "state IN ('running', 'scheduled', 'awaiting_funds')";

const FREE_COLLECTIONS: &str =
    "UPDATE collections SET owner_node = NULL WHERE owner_node = ANY($1) AND state = 'pending'";

/// `OtherVersion` when live nodes run another schema version than `ours`: a node of
/// another version must not join, nor migrate the schema under them.
pub async fn refuse_other_versions(
    client: &impl GenericClient,
    ours: i32,
) -> Result<(), StoreError> {
    const EXISTS: &str = "SELECT to_regclass('cluster_nodes') IS NOT NULL";
    const OTHERS: &str = "
        SELECT name || ' runs schema version ' || schema_version FROM cluster_nodes
         WHERE expires_at > now() AND schema_version <> $1 ORDER BY name";
    if !client.query_one(EXISTS, &[]).await?.try_get::<_, bool>(0)? {
        return Ok(());
    }
    let rows = client.query(OTHERS, &[&ours]).await?;
    let theirs = rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    if theirs.is_empty() {
        return Ok(());
    }
    Err(StoreError::OtherVersion {
        ours,
        theirs: theirs.join(", "),
    })
}

/// Joins the cluster as `node`, leased for `lease`. An earlier run under the same `name`
/// is gone (names identify a machine or a container, one process each), so its row is
/// deleted first and what it held is free at once. Returns that earlier run, if any.
pub async fn join(
    client: &mut Client,
    node: NodeId,
    name: &str,
    schema_version: i32,
    lease: Duration,
) -> Result<Option<Reaped>, StoreError> {
    const INSERT: &str = "
        INSERT INTO cluster_nodes (id, name, schema_version, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))";
    let tx = client.transaction().await?;
    let earlier = reap_where(&tx, "name = $1", &[&name])
        .await?
        .into_iter()
        .next();
    tx.execute(
        INSERT,
        &[&node, &name, &schema_version, &lease.as_secs_f64()],
    )
    .await?;
    tx.commit().await?;
    Ok(earlier)
}

/// Renews the lease for `lease` from now on the database's clock, recording the node's
/// quota shares; `NotOwner` when the row is gone (another node reaped it: everything this
/// node held is someone else's now). A lease that expired but was not reaped is renewed:
/// nobody took anything over.
pub async fn renew(
    client: &impl GenericClient,
    node: NodeId,
    lease: Duration,
    quota_shares: &serde_json::Value,
) -> Result<Holdings, StoreError> {
    const RENEW: &str = "
        UPDATE cluster_nodes
           SET renewed_at = now(), expires_at = now() + make_interval(secs => $2),
               quota_shares = $3
         WHERE id = $1
        RETURNING (SELECT count(*) FROM batches WHERE owner_node = $1 AND state IN
                      ('running', 'scheduled', 'awaiting_funds')),
                  (SELECT count(*) FROM collections WHERE owner_node = $1 AND state = 'pending')";
    let row = client
        .query_opt(RENEW, &[&node, &lease.as_secs_f64(), quota_shares])
        .await?
        .ok_or(StoreError::NotOwner)?;
    Ok(Holdings {
        batches: row.try_get(0)?,
        collections: row.try_get(1)?,
    })
}

/// Takes the quota round's lock, held until `tx` ends, and reads every other node's
/// published quota shares, expired ones included.
pub async fn quota_peers(
    tx: &Transaction<'_>,
    node: NodeId,
) -> Result<Vec<PeerShares>, StoreError> {
    const PEERS: &str = "
        SELECT expires_at > now(), quota_shares FROM cluster_nodes WHERE id <> $1";
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&QUOTA_ROUND_LOCK])
        .await?;
    tx.query(PEERS, &[&node])
        .await?
        .iter()
        .map(|row| {
            Ok(PeerShares {
                live: row.try_get(0)?,
                quota_shares: row.try_get(1)?,
            })
        })
        .collect()
}

/// Leaves the cluster (a clean stop): what this node held is free at once.
pub async fn leave(client: &impl GenericClient, node: NodeId) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM cluster_nodes WHERE id = $1", &[&node])
        .await?;
    Ok(())
}

/// Deletes every other node whose lease expired, on the database's clock; their active
/// batches, pending collections and roles lose their owner in the same transaction. (This
/// node's own expired lease is renewed, not reaped: nobody took its work.)
pub async fn reap_expired(client: &mut Client, node: NodeId) -> Result<Vec<Reaped>, StoreError> {
    let tx = client.transaction().await?;
    let reaped = reap_where(&tx, "expires_at < now() AND id <> $1", &[&node]).await?;
    tx.commit().await?;
    Ok(reaped)
}

/// Deletes the nodes matching `condition` that no other transaction holds, and frees what
/// they owned.
async fn reap_where(
    tx: &Transaction<'_>,
    condition: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Reaped>, StoreError> {
    let sql = format!(
        "WITH gone AS (
            SELECT id, name FROM cluster_nodes WHERE {condition} FOR UPDATE SKIP LOCKED),
         counted AS (
            SELECT g.id, g.name,
                   (SELECT count(*) FROM batches b
                     WHERE b.owner_node = g.id AND b.{ACTIVE_BATCHES}),
                   (SELECT count(*) FROM collections c
                     WHERE c.owner_node = g.id AND c.state = 'pending')
              FROM gone g)
         SELECT * FROM counted"
    );
    let rows = tx.query(&sql, params).await?;
    let reaped = rows
        .iter()
        .map(|row| {
            Ok(Reaped {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                batches: row.try_get(2)?,
                collections: row.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ids: Vec<NodeId> = reaped.iter().map(|node| node.id).collect();
    let free_batches = format!(
        "UPDATE batches SET owner_node = NULL WHERE owner_node = ANY($1) AND {ACTIVE_BATCHES}"
    );
    tx.execute(&free_batches, &[&ids]).await?;
    tx.execute(FREE_COLLECTIONS, &[&ids]).await?;
    tx.execute("DELETE FROM cluster_nodes WHERE id = ANY($1)", &[&ids])
        .await?;
    Ok(reaped)
}

/// Takes every role nobody holds; returns the roles this node holds.
pub async fn take_roles(
    client: &impl GenericClient,
    node: NodeId,
) -> Result<Vec<String>, StoreError> {
    const TAKE: &str = "
        WITH taken AS (
            UPDATE cluster_roles SET owner_node = $1, taken_at = now()
             WHERE owner_node IS NULL AND EXISTS (SELECT 1 FROM cluster_nodes WHERE id = $1)
            RETURNING role)
        SELECT role FROM cluster_roles WHERE owner_node = $1
        UNION SELECT role FROM taken ORDER BY 1";
    let rows = client.query(TAKE, &[&node]).await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

/// Every node with a row (live, or expired and not yet reaped), oldest first, with what
/// each holds.
pub async fn members(client: &impl GenericClient) -> Result<Vec<Member>, StoreError> {
    let sql = format!(
        "SELECT n.id, n.name, n.schema_version, n.started_at, n.renewed_at, n.expires_at,
                n.expires_at > now(), n.quota_shares,
                (SELECT count(*) FROM batches b WHERE b.owner_node = n.id AND b.{ACTIVE_BATCHES}),
                (SELECT count(*) FROM collections c WHERE c.owner_node = n.id AND c.state = 'pending'),
                ARRAY(SELECT role FROM cluster_roles r WHERE r.owner_node = n.id ORDER BY role)
           FROM cluster_nodes n ORDER BY n.started_at, n.id"
    );
    let rows = client.query(&sql, &[]).await?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                schema_version: row.try_get(2)?,
                started_at: row.try_get(3)?,
                renewed_at: row.try_get(4)?,
                expires_at: row.try_get(5)?,
                live: row.try_get(6)?,
                quota_shares: row.try_get(7)?,
                batches: row.try_get(8)?,
                collections: row.try_get(9)?,
                roles: row.try_get(10)?,
            })
        })
        .collect()
}

/// Nodes whose lease has not expired, on the database's clock.
pub async fn live_count(client: &impl GenericClient) -> Result<i64, StoreError> {
    const LIVE: &str = "SELECT payrail_live_nodes()";
    Ok(client.query_one(LIVE, &[]).await?.try_get(0)?)
}

/// Reads a claim's fencing check (`payrail_holds_batches`, SQLSTATE PR001) as `NotOwner`.
pub(crate) fn fenced(error: tokio_postgres::Error) -> StoreError {
    match error.code() {
        Some(code) if code.code() == "PR001" => StoreError::NotOwner,
        _ => StoreError::Database(error),
    }
}
