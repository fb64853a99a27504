-- A settlement's outcome row carries the particulars of the payout it pays (the name or
-- note, the merchant's reference, the number, the operator's transaction id), copied from
-- the line when the settlement is posted. A statement then reads its payout lines from
-- the ledger alone, without a lookup of each line by id (a million lookups were most of a
-- million-line statement's time; docs/benchmarks.md, "Reports").
ALTER TABLE payout_outcomes
    ADD COLUMN description text,
    ADD COLUMN reference text,
    ADD COLUMN msisdn text,
    ADD COLUMN operator_transaction_id text;

-- Settlements posted before this migration get theirs from their lines, once.
ALTER TABLE payout_outcomes DISABLE TRIGGER payout_outcomes_immutable;
UPDATE payout_outcomes o
   SET description = coalesce(l.name, l.note), reference = l.client_reference,
       msisdn = l.msisdn, operator_transaction_id = l.operator_transaction_id
  FROM payout_lines l
 WHERE l.id = o.payout_id AND o.kind = 'settlement';
ALTER TABLE payout_outcomes ENABLE TRIGGER payout_outcomes_immutable;
