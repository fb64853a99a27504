-- Batches and their payout lines, collections, and idempotency keys. State columns hold
-- the snake_case names of engine/src/state/*.rs; the CHECKs list exactly those states.

CREATE TABLE batches (
    id           uuid        PRIMARY KEY,
    merchant_id  uuid        NOT NULL REFERENCES merchants (id),
    state        text        NOT NULL CHECK (state IN ('received', 'validating', 'invalid',
                     'awaiting_approval', 'awaiting_funds', 'scheduled', 'running', 'paused',
                     'completed', 'completed_with_failures', 'cancelled')),
    currency     text        NOT NULL CHECK (currency IN ('RWF', 'EUR')),
    line_count   integer     NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    total_amount bigint      NOT NULL DEFAULT 0 CHECK (total_amount >= 0),
    total_fee    bigint      NOT NULL DEFAULT 0 CHECK (total_fee >= 0),
    -- SHA-256 of an uploaded file, to refuse the same payroll uploaded twice.
    file_sha256  bytea       CHECK (length(file_sha256) = 32),
    created_by   uuid        REFERENCES api_keys (id),
    approved_by  uuid        REFERENCES api_keys (id),
    cancelled_by uuid        REFERENCES api_keys (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batches_merchant ON batches (merchant_id, id);
CREATE INDEX batches_unfinished ON batches (state)
    WHERE state NOT IN ('invalid', 'completed', 'completed_with_failures', 'cancelled');
CREATE INDEX batches_file ON batches (merchant_id, file_sha256) WHERE file_sha256 IS NOT NULL;

-- The hottest table: a payroll writes 100,000 lines at once, so every index and check here
-- is paid per line. It has two indexes (the primary key, and batch + line number, which
-- also serves claiming in line order), no foreign key (the insert statement locks its batch
-- and inserts nothing when the batch is not the merchant's), and no index on `reference`:
-- it is a random UUIDv4, and callbacks are matched by payout id, which we send as the
-- operator's external id. State is not indexed, so state changes can be HOT updates.
CREATE TABLE payout_lines (
    id                      uuid        PRIMARY KEY,
    merchant_id             uuid        NOT NULL,
    batch_id                uuid        NOT NULL,
    -- The line's number in its file (the header is line 1), or its index in a JSON batch.
    line_no                 integer     NOT NULL CHECK (line_no >= 1),
    -- E.164 digits, validated by engine/src/msisdn.rs; a regex here would cost more than
    -- the row itself, so the database checks the length only.
    msisdn                  text        NOT NULL CHECK (length(msisdn) BETWEEN 7 AND 15),
    amount                  bigint      NOT NULL CHECK (amount > 0),
    fee                     bigint      NOT NULL CHECK (fee >= 0),
    route                   text        NOT NULL,
    -- The id the operator knows this payout by (MTN's X-Reference-Id: a UUIDv4), assigned
    -- at insert and reused on every resend so the operator can refuse a second execution.
    reference               uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- The merchant's own reference for the line; duplicates within a batch are refused by
    -- the batch's validation before any line is written.
    client_reference        text        CHECK (length(client_reference) <= 100),
    name                    text        CHECK (length(name) <= 200),
    note                    text        CHECK (length(note) <= 160),
    state                   text        NOT NULL CHECK (state IN ('received', 'validated',
                                'rejected', 'queued', 'sending', 'submitted', 'succeeded',
                                'failed', 'unknown', 'requires_review', 'cancelled')),
    failure_code            text,
    operator_transaction_id text,
    attempts                integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payout_lines_batch_line UNIQUE (batch_id, line_no)
);

CREATE TABLE collections (
    id                      uuid        PRIMARY KEY,
    merchant_id             uuid        NOT NULL REFERENCES merchants (id),
    msisdn                  text        NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{6,14}$'),
    amount                  bigint      NOT NULL CHECK (amount > 0),
    fee                     bigint      NOT NULL CHECK (fee >= 0 AND fee <= amount),
    currency                text        NOT NULL CHECK (currency IN ('RWF', 'EUR')),
    route                   text        NOT NULL,
    reference               uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- The merchant's own reference (LTGS Sale_Reference_ID), unique per merchant.
    client_reference        text        CHECK (length(client_reference) <= 100),
    payer_message           text        CHECK (length(payer_message) <= 160),
    callback_url            text,
    -- LTGS fields kept as given (Customer_KYC_ID, Email_Address, Services_Name).
    ltgs                    jsonb,
    state                   text        NOT NULL CHECK (state IN ('pending', 'paid', 'failed', 'expired')),
    failure_code            text,
    operator_transaction_id text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collections_merchant ON collections (merchant_id, id);
CREATE UNIQUE INDEX collections_client_reference
    ON collections (merchant_id, client_reference) WHERE client_reference IS NOT NULL;

-- Idempotency-Key records: stored in the same transaction as what the request created,
-- kept at least 24 hours. A replay returns the stored status and body.
CREATE TABLE idempotency_keys (
    merchant_id     uuid        NOT NULL REFERENCES merchants (id),
    key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256  bytea       NOT NULL CHECK (length(request_sha256) = 32),
    -- NULL while the first request is still running (a replay then gets 409).
    response_status integer     CHECK (response_status BETWEEN 100 AND 599),
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
