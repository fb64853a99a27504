-- A payout's states are those the code stores: `received`, `rejected` and `unknown` were
-- never written (lines are checked before they are written, and an unknown outcome lives
-- in the route's memory until it is known). `submitted` is now written: for a line the
-- operator accepted that has waited for its outcome past a short deadline.
ALTER TABLE payout_lines DROP CONSTRAINT payout_lines_state_check;
ALTER TABLE payout_lines ADD CONSTRAINT payout_lines_state_check
    CHECK (state IN ('validated', 'queued', 'sending', 'submitted', 'succeeded', 'failed',
                     'requires_review', 'cancelled'));
