-- Merchants with their fee agreement, and their API keys (stored hashed, with a role).
-- The CHECK constraints repeat the Rust invariants in engine/src/fee.rs and api_key.rs.

CREATE TABLE merchants (
    id                 uuid        PRIMARY KEY,
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency           text        NOT NULL CHECK (currency IN ('RWF', 'EUR')),
    payout_fee         bigint      NOT NULL CHECK (payout_fee >= 0),
    collection_fee_bps integer     NOT NULL CHECK (collection_fee_bps BETWEEN 0 AND 10000),
    -- Four-eyes approval: NULL = never required, 0 = always, N = above N minor units.
    approval_threshold bigint      CHECK (approval_threshold >= 0),
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          uuid        PRIMARY KEY,
    merchant_id uuid        NOT NULL REFERENCES merchants (id),
    -- The public part of the key ("pr_live_ab12cd34"): how a presented key is found.
    prefix      text        NOT NULL UNIQUE,
    -- SHA-256 of the whole key; the key itself is shown once and never stored.
    hash        bytea       NOT NULL CHECK (length(hash) = 32),
    role        text        NOT NULL CHECK (role IN ('viewer', 'maker', 'checker', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);
