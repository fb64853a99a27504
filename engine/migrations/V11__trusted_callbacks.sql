-- Callbacks that can be trusted (docs/operators.md, "Callbacks as capabilities").
--
-- Each MTN payout's X-Callback-Url carries a token: an HMAC of the payout id under a node
-- secret kept here, so every node signs and checks with the same secrets. The newest
-- secret signs; a secret that was replaced is still accepted until `accepted_until`.

CREATE TABLE callback_secrets (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret         bytea       NOT NULL CHECK (length(secret) = 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    accepted_until timestamptz
);

-- The first secret: two random UUIDs' 32 bytes (244 random bits).
INSERT INTO callback_secrets (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Payouts settled or failed on an authenticated callback's word, each to be confirmed by a
-- status query with the budget left over. A row is written by the journal's flush that
-- ended the line; `verified_at` is set when a status query agrees. The rows not yet
-- verified are the verification backlog.
CREATE TABLE callback_settlements (
    payout_id   uuid        PRIMARY KEY,
    merchant_id uuid        NOT NULL,
    route       text        NOT NULL,
    reference   uuid        NOT NULL,
    succeeded   boolean     NOT NULL,
    settled_at  timestamptz NOT NULL DEFAULT now(),
    verified_at timestamptz
);
CREATE INDEX callback_settlements_backlog ON callback_settlements (route, settled_at)
    WHERE verified_at IS NULL;

-- Verifications that disagreed with the callback: the line went to review, and the
-- correcting entry (when the balance allowed it) put its money back in reserve.
CREATE TABLE callback_disagreements (
    payout_id        uuid        PRIMARY KEY,
    merchant_id      uuid        NOT NULL,
    callback_said    text        NOT NULL CHECK (callback_said IN ('succeeded', 'failed')),
    operator_says    text        NOT NULL CHECK (operator_says IN ('succeeded', 'failed', 'not_found')),
    correction       uuid,
    found_at         timestamptz NOT NULL DEFAULT now()
);
