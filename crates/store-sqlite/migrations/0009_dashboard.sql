-- The merchant dashboard: accounts that own brands (a brand is a `merchants` row), the people
-- who sign in (users), who may act on which brand (team_members), server-side sessions,
-- one-time tokens (password reset, invitations, first password), failed logins (for the login
-- throttle) and the outgoing-mail outbox. Same text on both engines.

CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    owner_user_id  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

ALTER TABLE merchants ADD COLUMN account_id TEXT REFERENCES accounts(id);
ALTER TABLE merchants ADD COLUMN website TEXT;
ALTER TABLE merchants ADD COLUMN archived_at BIGINT;
CREATE INDEX merchants_account_idx ON merchants (account_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    -- Lower-cased and trimmed: one person, one login.
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    -- Argon2id PHC string; NULL until the person sets a password through a one-time link.
    password_hash  TEXT,
    created_at     BIGINT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

-- Who may act on a brand. An invitation is a row not yet accepted: it grants nothing.
CREATE TABLE team_members (
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    role            TEXT NOT NULL,
    manage_payouts  BOOLEAN NOT NULL,
    manage_keys     BOOLEAN NOT NULL,
    invited_by      TEXT,
    created_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- The cookie holds a random token; only its SHA-256 is stored, so a database leak opens no
-- session.
CREATE TABLE user_sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    merchant_id   TEXT,
    csrf_token    TEXT NOT NULL,
    ip_address    TEXT,
    user_agent    TEXT,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

CREATE TABLE user_tokens (
    token_hash   TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    merchant_id  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose);

CREATE TABLE login_failures (
    email       TEXT NOT NULL,
    ip_address  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, created_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip_address, created_at);

-- Written in the transaction of the change that sends it; a worker delivers it (SMTP, or a
-- file in the mail directory) and retries with back-off.
CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT,
    kind             TEXT NOT NULL,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);

-- The person behind a dashboard entry.
ALTER TABLE audit_log ADD COLUMN user_id TEXT;
