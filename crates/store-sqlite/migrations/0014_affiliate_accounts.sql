-- The affiliate side: one person behind the per-merchant `affiliates` rows (one login across
-- brands and merchants), their portal sessions and one-time tokens, emailed invitations, and the
-- outbox's HTML part and sender name. Same text on both engines.

-- An affiliate person: email unique (canonical form, `refline_domain::canonical_email`).
CREATE TABLE affiliate_people (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    name           TEXT,
    -- Argon2id PHC string; NULL until the person sets a password.
    password_hash  TEXT,
    created_at     BIGINT NOT NULL,
    CONSTRAINT affiliate_people_email_key UNIQUE (email)
);

-- Which person an affiliate row belongs to. An explicit link rather than "same email": the
-- join form does not prove that its user owns the mailbox, so a stranger signing up with
-- someone's address must not see the programs the merchant's API created for that address.
-- The link is set when the person makes the row (join page) or proves the mailbox (an emailed
-- invitation, which is how API-created affiliates get a login).
ALTER TABLE affiliates ADD COLUMN person_id TEXT REFERENCES affiliate_people(id);
CREATE INDEX affiliates_person_idx ON affiliates (person_id);

-- Portal sessions: the cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE affiliate_sessions (
    id_hash       TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES affiliate_people(id),
    csrf_token    TEXT NOT NULL,
    ip_address    TEXT,
    user_agent    TEXT,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX affiliate_sessions_person_idx ON affiliate_sessions (person_id);

-- One-time tokens of people (password reset), hashed.
CREATE TABLE affiliate_tokens (
    token_hash   TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL,
    person_id    TEXT NOT NULL REFERENCES affiliate_people(id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);

-- Emailed invitations to a campaign. `status`: pending, accepted, revoked, expired (a pending
-- row past `expires_at` is expired whether or not the sweep at the next invitation wrote it).
CREATE TABLE affiliate_invitations (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
    email        TEXT NOT NULL,
    name         TEXT,
    token_hash   TEXT NOT NULL,
    status       TEXT NOT NULL,
    -- Test-key invitations are recorded but never mailed nor acceptable.
    is_test      BOOLEAN NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- The key id or user id that sent it.
    created_by   TEXT NOT NULL,
    accepted_at  BIGINT,
    CONSTRAINT affiliate_invitations_token_key UNIQUE (token_hash)
);
-- At most one pending invitation per email, campaign and mode: a second is `409 duplicate`.
CREATE UNIQUE INDEX affiliate_invitations_pending_idx
    ON affiliate_invitations (campaign_id, email, is_test) WHERE status = 'pending';
CREATE INDEX affiliate_invitations_merchant_idx ON affiliate_invitations (merchant_id, created_at);

-- Mails with an HTML part, sent in a brand's name.
ALTER TABLE mail_outbox ADD COLUMN body_html TEXT;
ALTER TABLE mail_outbox ADD COLUMN from_name TEXT;

-- Whether an affiliate whose application is rejected gets a mail (default: no).
ALTER TABLE merchants ADD COLUMN mail_rejected_affiliates BOOLEAN NOT NULL DEFAULT FALSE;
