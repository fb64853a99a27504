-- Reports: account statements, transaction reports, analytics, batch reconciliation, and
-- the exports that carry them.

-- A merchant's reports are dated in its own time zone (an IANA name).
ALTER TABLE merchants ADD COLUMN time_zone text NOT NULL DEFAULT 'Africa/Kigali'
    CHECK (length(time_zone) BETWEEN 1 AND 64);

-- Corrections are entries of their own. Fundings and corrections get an id a person can
-- quote (a UUIDv7, like every other id a merchant sees) and a description.
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('funding', 'reservation', 'settlement', 'release', 'collection',
                    'correction'));
ALTER TABLE journal_entries ADD COLUMN movement_id uuid, ADD COLUMN description text
    CHECK (length(description) <= 200);
-- Entries are immutable; this one backfill names the fundings written before, with an id
-- whose time part is the funding's own.
ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable;
UPDATE journal_entries
   SET movement_id = (lpad(to_hex((extract(epoch FROM created_at) * 1000)::bigint), 12, '0')
                      || '7' || substr(md5(id::text), 1, 3) || '8'
                      || substr(md5(id::text), 4, 15))::uuid,
       description = 'Top-up'
 WHERE kind = 'funding';
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_immutable;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_movement_named
    CHECK ((kind IN ('funding', 'correction')) = (movement_id IS NOT NULL));
CREATE UNIQUE INDEX journal_entries_movement ON journal_entries (movement_id)
    WHERE movement_id IS NOT NULL;
-- A statement reads a merchant's entries of a period in time order.
CREATE INDEX journal_entries_merchant_time ON journal_entries (merchant_id, created_at, id);
-- ... and each settlement's payouts. Entry ids grow, so this index is appended to.
CREATE INDEX payout_outcomes_entry ON payout_outcomes (entry_id);

-- When a line was first sent (its final time is `updated_at`: nothing changes it after).
ALTER TABLE payout_lines ADD COLUMN sent_at timestamptz;

-- A number searched by its last digits: the reversed number's prefix.
CREATE INDEX payout_lines_msisdn_suffix
    ON payout_lines (merchant_id, reverse(msisdn) text_pattern_ops);
CREATE INDEX collections_msisdn_suffix
    ON collections (merchant_id, reverse(msisdn) text_pattern_ops);

-- Analytics: what ended, per merchant and quarter of an hour (every time zone's offset is
-- a whole number of quarters), route and outcome, kept by whoever writes the end (the
-- journal's flush, the single payouts' group commit, the collector). `latency` counts the
-- times from sending to the end in the buckets of engine/src/store/activity.rs.
CREATE TABLE activity_stats (
    merchant_id  uuid        NOT NULL REFERENCES merchants (id),
    bucket       timestamptz NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('payout', 'collection')),
    route        text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    failure_code text        NOT NULL DEFAULT '',
    count        bigint      NOT NULL CHECK (count > 0),
    amount       bigint      NOT NULL CHECK (amount >= 0),
    fee          bigint      NOT NULL CHECK (fee >= 0),
    latency      bigint[]    NOT NULL,
    PRIMARY KEY (merchant_id, bucket, kind, route, outcome, failure_code)
);

-- The latency histogram's bucket bounds in milliseconds (10 a decade, 10 ms to 28 hours):
-- bucket 1 is below 10 ms, bucket n below bound n, the last at or above 10^8 ms.
-- engine/src/store/activity.rs holds the same list, and a test compares them.
CREATE FUNCTION payrail_latency_bounds() RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
                 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000,
                 10000, 12000, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 80000,
                 100000, 120000, 150000, 200000, 250000, 300000, 400000, 500000, 600000,
                 800000, 1000000, 1200000, 1500000, 2000000, 2500000, 3000000, 4000000,
                 5000000, 6000000, 8000000, 10000000, 12000000, 15000000, 20000000,
                 25000000, 30000000, 40000000, 50000000, 60000000, 80000000,
                 100000000]::bigint[]
$$;

-- Counts latencies (ms) into the histogram's 72 buckets.
CREATE FUNCTION payrail_latency_histogram(latencies bigint[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(coalesce(h.n, 0) ORDER BY b.i)
      FROM generate_series(1, 72) AS b (i)
      LEFT JOIN (SELECT width_bucket(ms, payrail_latency_bounds()) + 1 AS i, count(*) AS n
                   FROM unnest(latencies) AS ms GROUP BY 1) AS h USING (i)
$$;

-- Two histograms added bucket by bucket.
CREATE FUNCTION payrail_latency_add(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
      FROM unnest(a, b) WITH ORDINALITY AS h (x, y, i)
$$;

-- What ended before this migration, counted once.
INSERT INTO activity_stats (merchant_id, bucket, kind, route, outcome, failure_code, count,
                            amount, fee, latency)
SELECT merchant_id, date_bin('15 minutes', updated_at, timestamptz 'epoch'), 'payout', route,
       CASE state WHEN 'succeeded' THEN 'succeeded' ELSE 'failed' END,
       coalesce(failure_code, ''), count(*),
       coalesce(sum(amount) FILTER (WHERE state = 'succeeded'), 0),
       coalesce(sum(fee) FILTER (WHERE state = 'succeeded'), 0),
       payrail_latency_histogram(array_agg((extract(epoch FROM updated_at - created_at) * 1000)::bigint))
  FROM payout_lines WHERE state IN ('succeeded', 'failed')
 GROUP BY 1, 2, 4, 5, 6;
INSERT INTO activity_stats (merchant_id, bucket, kind, route, outcome, failure_code, count,
                            amount, fee, latency)
SELECT merchant_id, date_bin('15 minutes', updated_at, timestamptz 'epoch'), 'collection',
       route, CASE state WHEN 'paid' THEN 'succeeded' ELSE 'failed' END,
       CASE state WHEN 'expired' THEN 'expired' ELSE coalesce(failure_code, '') END, count(*),
       coalesce(sum(amount) FILTER (WHERE state = 'paid'), 0),
       coalesce(sum(fee) FILTER (WHERE state = 'paid'), 0),
       payrail_latency_histogram(array_agg((extract(epoch FROM updated_at - created_at) * 1000)::bigint))
  FROM collections WHERE state IN ('paid', 'failed', 'expired')
 GROUP BY 1, 2, 5, 6, 4;

-- Exports run in the background: a job, then its file in chunks, marked ready in the
-- transaction that writes the last chunk (never served half-written), removed after
-- `expires_at`.
CREATE TABLE exports (
    id          uuid        PRIMARY KEY,
    merchant_id uuid        NOT NULL REFERENCES merchants (id),
    report      text        NOT NULL CHECK (report IN ('statement', 'transactions',
                                                       'batch_statement', 'analytics')),
    format      text        NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
    parameters  jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'ready', 'failed', 'expired')),
    created_by  uuid        REFERENCES api_keys (id),
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_until timestamptz,
    failure     text,
    file_name   text,
    rows        bigint,
    bytes       bigint,
    sha256      bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    expires_at  timestamptz
);
CREATE INDEX exports_merchant ON exports (merchant_id, id);
CREATE INDEX exports_due ON exports (created_at) WHERE state IN ('queued', 'running');
CREATE INDEX exports_expiring ON exports (expires_at) WHERE state = 'ready';

CREATE TABLE export_chunks (
    export_id uuid    NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq       integer NOT NULL CHECK (seq >= 0),
    data      bytea   NOT NULL,
    PRIMARY KEY (export_id, seq)
);
-- Stored as written: XLSX and PDF are compressed already, and pglz on a large CSV is CPU
-- time spent on every export.
ALTER TABLE export_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
