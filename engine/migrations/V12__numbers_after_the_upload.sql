-- A payout line's number, reversed, for a search by its last digits, kept apart from
-- payout_lines and filled after its batch is stored.
--
-- As an index on payout_lines, every uploaded line put one entry on a random page of it:
-- more than a third of a 1,000,000-line upload's time. Here a batch's numbers are written
-- once it is stored, sorted, in one statement, by the engine's sweep (about a second
-- later). Until then its batch is `numbers_indexed = false`, and a search reads that
-- batch's lines themselves, so a search never misses a line.

CREATE TABLE payout_line_numbers (
    merchant_id     uuid NOT NULL,
    reversed_msisdn text COLLATE "C" NOT NULL,
    payout_id       uuid NOT NULL,
    PRIMARY KEY (merchant_id, reversed_msisdn, payout_id)
);

-- Every batch stored so far is indexed here; a new one waits for the sweep.
ALTER TABLE batches ADD COLUMN numbers_indexed boolean NOT NULL DEFAULT true;
ALTER TABLE batches ALTER COLUMN numbers_indexed SET DEFAULT false;
CREATE INDEX batches_numbers_pending ON batches (merchant_id, id) WHERE NOT numbers_indexed;

INSERT INTO payout_line_numbers (merchant_id, reversed_msisdn, payout_id)
SELECT merchant_id, reverse(msisdn), id FROM payout_lines ORDER BY 1, 2, 3;

DROP INDEX payout_lines_msisdn_suffix;
