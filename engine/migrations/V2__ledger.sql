-- The double-entry ledger. Every account belongs to one merchant, so no transaction spans
-- two merchants. Postings are immutable and every journal entry sums to zero; account
-- balances are maintained by a statement-level trigger from the postings themselves, so a
-- balance always equals the sum of its postings and the CHECK refuses any negative one.

CREATE TABLE ledger_accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id uuid   NOT NULL REFERENCES merchants (id),
    kind        text   NOT NULL CHECK (kind IN ('merchant_available', 'merchant_reserved',
                                                'route_clearing', 'fee_revenue', 'external_funding')),
    -- Only route clearing accounts name a route; '' elsewhere keeps the key simple.
    route       text   NOT NULL DEFAULT '' CHECK ((kind = 'route_clearing') = (route <> '')),
    balance     bigint NOT NULL DEFAULT 0,
    -- The external funding account is the world outside Payrail: it goes negative by
    -- exactly what merchants have been funded with. Every other balance is money held.
    CONSTRAINT ledger_accounts_balance_non_negative
        CHECK (balance >= 0 OR kind = 'external_funding'),
    UNIQUE (merchant_id, kind, route)
);

CREATE TABLE journal_entries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id   uuid        NOT NULL REFERENCES merchants (id),
    kind          text        NOT NULL CHECK (kind IN ('funding', 'reservation', 'settlement',
                                                       'release', 'collection')),
    batch_id      uuid,
    collection_id uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'reservation') = (batch_id IS NOT NULL)),
    CHECK ((kind = 'collection') = (collection_id IS NOT NULL))
);
-- A batch reserves once; a collection is credited once (payouts: see payout_outcomes).
CREATE UNIQUE INDEX journal_entries_one_reservation_per_batch
    ON journal_entries (batch_id) WHERE kind = 'reservation';
CREATE UNIQUE INDEX journal_entries_one_credit_per_collection
    ON journal_entries (collection_id) WHERE kind = 'collection';
CREATE INDEX journal_entries_merchant ON journal_entries (merchant_id, id);

-- Settlements and releases are booked many payouts to one entry (the entry's postings are
-- the sums), and each payout's share is a row here: its primary key is what makes a payout
-- settled or released once. Per payout that is one row, where an entry per payout would
-- cost an entry, three postings and their nine index entries.
CREATE TABLE payout_outcomes (
    payout_id   uuid   PRIMARY KEY,
    merchant_id uuid   NOT NULL,
    entry_id    bigint NOT NULL REFERENCES journal_entries (id),
    kind        text   NOT NULL CHECK (kind IN ('settlement', 'release')),
    -- Settled: the amount paid and the fee earned. Released: the reservation returned
    -- (amount + fee), with fee 0.
    amount      bigint NOT NULL CHECK (amount > 0),
    fee         bigint NOT NULL CHECK (fee >= 0)
);

CREATE TABLE postings (
    entry_id    bigint NOT NULL REFERENCES journal_entries (id),
    merchant_id uuid   NOT NULL,
    account_id  bigint NOT NULL REFERENCES ledger_accounts (id),
    amount      bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX postings_entry ON postings (entry_id);
CREATE INDEX postings_account ON postings (account_id);

-- Entries are balanced and balances follow postings, checked once per statement so that a
-- bulk settlement of thousands of lines costs one aggregate, not one trigger per row.
CREATE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced bigint;
BEGIN
    SELECT entry_id INTO unbalanced
      FROM new_postings GROUP BY entry_id HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance', unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entries_balanced';
    END IF;
    UPDATE ledger_accounts AS a
       SET balance = a.balance + d.delta
      FROM (SELECT account_id, sum(amount) AS delta FROM new_postings GROUP BY account_id) AS d
     WHERE a.id = d.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER postings_apply AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings();

-- Entries and postings are immutable: mistakes are corrected by new entries.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger % is immutable', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER payout_outcomes_immutable BEFORE UPDATE OR DELETE ON payout_outcomes
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER payout_outcomes_no_truncate BEFORE TRUNCATE ON payout_outcomes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
