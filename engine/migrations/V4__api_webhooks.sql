-- What the HTTP API needs: single payouts told apart from payroll batches, per-line
-- validation reports, who approved or cancelled, a merchant's webhook endpoint, and the
-- webhook outbox. Events are written by triggers, so every state change and its event
-- commit in the same transaction whatever code made the change.

ALTER TABLE merchants
    ADD COLUMN webhook_url    text CHECK (length(webhook_url) <= 2000),
    -- Standard Webhooks signing secret: "whsec_" then base64 of 24 random bytes.
    ADD COLUMN webhook_secret text CHECK (webhook_secret LIKE 'whsec\_%');

ALTER TABLE batches
    -- `single`: a payout made through POST /v1/payouts (a batch of one on the fast path).
    ADD COLUMN kind         text        NOT NULL DEFAULT 'batch' CHECK (kind IN ('batch', 'single')),
    -- How many lines of an `invalid` batch failed validation (the report may be capped).
    ADD COLUMN error_count  integer     NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    ADD COLUMN approved_at  timestamptz,
    ADD COLUMN cancelled_at timestamptz;

-- The per-line report of a batch refused as `invalid`; line numbers are the file's own.
CREATE TABLE batch_line_errors (
    batch_id    uuid    NOT NULL REFERENCES batches (id),
    merchant_id uuid    NOT NULL,
    line_no     integer NOT NULL CHECK (line_no >= 1),
    field       text    NOT NULL,
    reason      text    NOT NULL,
    PRIMARY KEY (batch_id, line_no, field)
);

ALTER TABLE collections
    -- The operator's name as LTGS shows it ("MTN MoMo", "Airtel Money").
    ADD COLUMN payment_channel text,
    ADD COLUMN created_by      uuid REFERENCES api_keys (id),
    -- When a collection still pending is given up as `expired`.
    ADD COLUMN expires_at      timestamptz;
CREATE INDEX collections_pending ON collections (created_at) WHERE state = 'pending';

-- The transactional outbox: one row per event to deliver, delivered by the webhook actor.
CREATE TABLE webhook_events (
    -- The `webhook-id` header is "msg_" followed by this id; it never changes on retries.
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id     uuid        NOT NULL REFERENCES merchants (id),
    event_type      text        NOT NULL,
    -- NULL: the merchant's webhook_url; set: a collection's own Callback_URL (LTGS).
    url             text,
    payload         jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'failed', 'stopped')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_events_merchant ON webhook_events (merchant_id, created_at, id);

-- Amounts in events are decimal strings in the currency's major unit, as the API shows them.
CREATE FUNCTION payrail_amount_text(minor bigint, currency text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE currency WHEN 'EUR' THEN to_char(minor / 100.0, 'FM9999999999999990.00')
                         ELSE minor::text END
$$;

-- batch.<state> for payroll batches, once per change of state.
CREATE FUNCTION payrail_batch_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (merchant_id, event_type, payload)
    SELECT m.id, 'batch.' || NEW.state,
           jsonb_build_object(
               'type', 'batch.' || NEW.state,
               'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', jsonb_build_object(
                   'id', NEW.id, 'state', NEW.state, 'currency', NEW.currency,
                   'line_count', NEW.line_count,
                   'total_amount', payrail_amount_text(NEW.total_amount, NEW.currency),
                   'total_fee', payrail_amount_text(NEW.total_fee, NEW.currency)))
      FROM merchants m
     WHERE m.id = NEW.merchant_id AND m.webhook_url IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER batches_event AFTER UPDATE OF state ON batches
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.kind = 'batch'
          AND NEW.state NOT IN ('received', 'validating'))
    EXECUTE FUNCTION payrail_batch_event();

-- payout.<state> when a single payout ends. Statement-level, so a journal flush of
-- thousands of payroll lines costs one join, not a trigger call per line.
CREATE FUNCTION payrail_payout_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (merchant_id, event_type, payload)
    SELECT n.merchant_id, 'payout.' || n.state,
           jsonb_build_object(
               'type', 'payout.' || n.state,
               'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', jsonb_build_object(
                   'id', n.id, 'batch_id', n.batch_id, 'state', n.state,
                   'msisdn', n.msisdn, 'currency', b.currency,
                   'amount', payrail_amount_text(n.amount, b.currency),
                   'fee', payrail_amount_text(n.fee, b.currency),
                   'reference', n.client_reference, 'failure_code', n.failure_code,
                   'operator_transaction_id', n.operator_transaction_id))
      FROM new_lines n
      JOIN old_lines o ON o.id = n.id AND o.state IS DISTINCT FROM n.state
      JOIN batches b ON b.id = n.batch_id AND b.kind = 'single'
      JOIN merchants m ON m.id = n.merchant_id AND m.webhook_url IS NOT NULL
     WHERE n.state IN ('succeeded', 'failed', 'requires_review', 'cancelled');
    RETURN NULL;
END $$;
CREATE TRIGGER payout_lines_events AFTER UPDATE ON payout_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION payrail_payout_events();

-- collection.<state> to the merchant's endpoint, and the LTGS callback to Callback_URL.
CREATE FUNCTION payrail_collection_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (merchant_id, event_type, payload)
    SELECT m.id, 'collection.' || NEW.state,
           jsonb_build_object(
               'type', 'collection.' || NEW.state,
               'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', jsonb_build_object(
                   'id', NEW.id, 'state', NEW.state, 'msisdn', NEW.msisdn,
                   'currency', NEW.currency,
                   'amount', payrail_amount_text(NEW.amount, NEW.currency),
                   'fee', payrail_amount_text(NEW.fee, NEW.currency),
                   'reference', NEW.client_reference, 'failure_code', NEW.failure_code,
                   'operator_transaction_id', NEW.operator_transaction_id))
      FROM merchants m
     WHERE m.id = NEW.merchant_id AND m.webhook_url IS NOT NULL;
    IF NEW.callback_url IS NOT NULL THEN
        INSERT INTO webhook_events (merchant_id, event_type, url, payload)
        VALUES (NEW.merchant_id, 'ltgs.payment_status', NEW.callback_url,
                jsonb_build_object(
                    'Sale_Reference_ID', NEW.client_reference,
                    'Payment_Status', CASE NEW.state WHEN 'paid' THEN 'PAID'
                                                     WHEN 'expired' THEN 'EXPIRED'
                                                     ELSE 'FAILED' END,
                    'Payment_Channel', NEW.payment_channel,
                    'Payment_Ref_ID', NEW.operator_transaction_id,
                    'Total_Amount_Paid', CASE NEW.state WHEN 'paid'
                        THEN payrail_amount_text(NEW.amount, NEW.currency) ELSE '0' END,
                    'Paid_On', CASE NEW.state WHEN 'paid'
                        THEN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER collections_event AFTER UPDATE OF state ON collections
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.state <> 'pending')
    EXECUTE FUNCTION payrail_collection_events();
