-- Several nodes on one database (docs/cluster.md). Each node holds a lease, a row here that
-- it renews; its expiry is on the database's clock. Work belongs to a node through
-- `owner_node`: running batches (single payouts' groups among them), pending collections,
-- and the cluster-wide roles. When a lease expires, another node deletes the row, which
-- frees everything the dead node owned (ON DELETE SET NULL) in the same transaction.

CREATE TABLE cluster_nodes (
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    schema_version integer NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    renewed_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    -- Per route, the node's share of the send and query quotas at its last renewal.
    quota_shares   jsonb NOT NULL DEFAULT '{}'
);

ALTER TABLE batches ADD COLUMN owner_node uuid;
CREATE INDEX batches_owner_node ON batches (owner_node)
    WHERE state IN ('running', 'scheduled', 'awaiting_funds');

ALTER TABLE collections ADD COLUMN owner_node uuid;
CREATE INDEX collections_owner_node ON collections (owner_node) WHERE state = 'pending';

-- Work one node does for the whole cluster.
CREATE TABLE cluster_roles (
    role       text PRIMARY KEY,
    owner_node uuid REFERENCES cluster_nodes (id) ON DELETE SET NULL,
    taken_at   timestamptz
);
INSERT INTO cluster_roles (role) VALUES ('verifier');

-- Whether a node's lease has not expired, on the database's clock: the condition of every
-- take of work.
CREATE FUNCTION payrail_lease_holds(node uuid) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM cluster_nodes WHERE id = node AND expires_at > now())
$$;

-- The nodes whose lease has not expired.
CREATE FUNCTION payrail_live_nodes() RETURNS bigint
    LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM cluster_nodes WHERE expires_at > now()
$$;

-- The fencing check of a claim: the batches are this node's, and the node's lease has not
-- expired on the database's clock. Raises PR001 otherwise, so that a claim made by a node
-- that lost its lease fails instead of reading as "nothing left to claim". Called with
-- constants only, it is evaluated once per statement.
CREATE FUNCTION payrail_holds_batches(node uuid, held uuid[]) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT payrail_lease_holds(node)
       OR (SELECT count(*) FROM batches WHERE id = ANY(held) AND owner_node = node)
          < (SELECT count(DISTINCT h) FROM unnest(held) AS h) THEN
        RAISE EXCEPTION 'node % does not hold these batches', node USING ERRCODE = 'PR001';
    END IF;
    RETURN true;
END
$$;
