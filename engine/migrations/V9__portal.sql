-- The web portal: people who sign in, their sessions, and payroll files kept between their
-- preview and their submission.

-- A key row is either an API key or the principal a portal user acts through, so that what
-- a person makes, approves and cancels is recorded as a key's is (created_by, approved_by…),
-- and the four-eyes rule compares people as it compares keys. A user's principal has no
-- secret anyone knows: its hash is of random bytes and it is never listed as an API key.
ALTER TABLE api_keys ADD COLUMN kind text NOT NULL DEFAULT 'key' CHECK (kind IN ('key', 'user'));

CREATE TABLE users (
    -- The user's principal in api_keys, which also carries the role and the revocation.
    id            uuid        PRIMARY KEY REFERENCES api_keys (id),
    merchant_id   uuid        NOT NULL REFERENCES merchants (id),
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    -- argon2id in PHC form; empty until the user follows their setup link.
    password_hash text,
    locale        text        NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_merchant ON users (merchant_id, created_at);

-- One-time links that let a person set their password: the first admin's (from the command
-- line) and every invitation. Only the SHA-256 of the token is kept.
CREATE TABLE user_setup_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    uuid        NOT NULL REFERENCES users (id),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX user_setup_tokens_user ON user_setup_tokens (user_id);

-- Signed-in sessions, found by the SHA-256 of the cookie's random token. The CSRF token is
-- the session's synchronizer token, sent back in every form.
CREATE TABLE portal_sessions (
    token_hash   bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      uuid        NOT NULL REFERENCES users (id),
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

-- A payroll file between its preview and its submission (or until it is a day old).
CREATE TABLE payroll_drafts (
    id          uuid        PRIMARY KEY,
    merchant_id uuid        NOT NULL REFERENCES merchants (id),
    user_id     uuid        NOT NULL REFERENCES users (id),
    file_name   text        NOT NULL CHECK (length(file_name) <= 255),
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payroll_drafts_age ON payroll_drafts (created_at);

-- Why a checker approved or rejected a batch, in their words.
ALTER TABLE batches ADD COLUMN decision_note text CHECK (length(decision_note) <= 500);
