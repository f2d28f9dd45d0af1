-- Foundation schema. Portable types on purpose (TEXT ids, BIGINT unix-ms timestamps,
-- BIGINT minor-unit money) so both engines share one set of row types and DML.

CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    kind         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    hint         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    CONSTRAINT api_keys_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id);

CREATE TABLE campaigns (
    id                        TEXT PRIMARY KEY,
    merchant_id               TEXT NOT NULL REFERENCES merchants(id),
    name                      TEXT NOT NULL,
    tracking_code             TEXT NOT NULL,
    status                    TEXT NOT NULL,
    commission_type           TEXT NOT NULL,
    commission_value          BIGINT NOT NULL,
    currency                  TEXT NOT NULL,
    target_url                TEXT,
    description               TEXT,
    is_public                 BOOLEAN NOT NULL,
    auto_approve_affiliates   BOOLEAN NOT NULL,
    recurring_enabled         BOOLEAN NOT NULL,
    recurring_mode            TEXT NOT NULL,
    recurring_type            TEXT NOT NULL,
    recurring_value           BIGINT,
    recurring_count           BIGINT,
    recurring_months          BIGINT,
    tier_basis                TEXT NOT NULL,
    tiers                     TEXT NOT NULL,
    cookie_window_days        BIGINT NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL,
    CONSTRAINT campaigns_tracking_code_key UNIQUE (tracking_code)
);
CREATE INDEX campaigns_merchant_idx ON campaigns (merchant_id, created_at);

CREATE TABLE affiliates (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    email        TEXT NOT NULL,
    name         TEXT,
    created_via  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    CONSTRAINT affiliates_merchant_email_key UNIQUE (merchant_id, email)
);

CREATE TABLE memberships (
    campaign_id   TEXT NOT NULL REFERENCES campaigns(id),
    affiliate_id  TEXT NOT NULL REFERENCES affiliates(id),
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    status        TEXT NOT NULL,
    joined_at     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, affiliate_id)
);
CREATE INDEX memberships_affiliate_idx ON memberships (affiliate_id);
CREATE INDEX memberships_merchant_idx ON memberships (merchant_id, joined_at);

CREATE TABLE conversions (
    id                    TEXT PRIMARY KEY,
    merchant_id           TEXT NOT NULL REFERENCES merchants(id),
    campaign_id           TEXT NOT NULL REFERENCES campaigns(id),
    affiliate_id          TEXT NOT NULL REFERENCES affiliates(id),
    amount_minor          BIGINT NOT NULL,
    commission_minor      BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL,
    order_id              TEXT,
    -- "<merchant_id>:<live|test>:<order_id>": one column so every duplicate lookup and
    -- ON CONFLICT is served by exactly one unique index, whatever the planner's statistics.
    order_key             TEXT,
    click_id              TEXT,
    customer_email        TEXT,
    customer_name         TEXT,
    conversion_type       TEXT NOT NULL,
    parent_conversion_id  TEXT,
    payment_number        BIGINT NOT NULL,
    source                TEXT NOT NULL,
    is_test               BOOLEAN NOT NULL,
    fraud_score           BIGINT,
    fraud_signals         TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    -- Test and live order ids live in separate namespaces so a test run never blocks a real sale.
    CONSTRAINT conversions_order_key UNIQUE (order_key)
);
CREATE INDEX conversions_merchant_created_idx ON conversions (merchant_id, is_test, created_at);
CREATE INDEX conversions_campaign_idx ON conversions (campaign_id, affiliate_id, created_at);
CREATE INDEX conversions_affiliate_idx ON conversions (affiliate_id);
CREATE INDEX conversions_parent_idx ON conversions (parent_conversion_id);

-- Tracked sales per merchant and calendar month, split over a few shard rows so concurrent
-- conversions of one merchant do not queue on a single row lock (PostgreSQL).
CREATE TABLE monthly_sales (
    merchant_id   TEXT NOT NULL,
    month         BIGINT NOT NULL,
    shard         BIGINT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, month, shard)
);

CREATE TABLE clicks (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL,
    campaign_id   TEXT NOT NULL,
    affiliate_id  TEXT NOT NULL,
    ip            TEXT,
    device_hash   TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX clicks_affiliate_idx ON clicks (affiliate_id, created_at);

-- IPs and device hashes seen from the affiliate's own activity (portal sessions, own clicks),
-- compared against the customer's click for self-referral detection.
CREATE TABLE affiliate_fingerprints (
    affiliate_id  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    value         TEXT NOT NULL,
    seen_at       BIGINT NOT NULL,
    PRIMARY KEY (affiliate_id, kind, value)
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  TEXT,
    api_key_id   TEXT,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    status_code  BIGINT NOT NULL,
    error_code   TEXT,
    ip_address   TEXT,
    user_agent   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_merchant_idx ON audit_log (merchant_id, created_at);

CREATE TABLE idempotency_keys (
    merchant_id    TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    status_code    BIGINT,
    response_body  TEXT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
