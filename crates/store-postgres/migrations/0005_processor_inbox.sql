-- Payment-processor deliveries and what they became.

-- Every verified delivery, stored in the request that received it (raw, for replay and
-- debugging), then processed from here. One row per processor event: a redelivery hits the
-- unique key and is recognised.
CREATE TABLE processor_inbox (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL,
    integration_id   TEXT NOT NULL,
    provider         TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL,
    event_type       TEXT,
    headers          TEXT NOT NULL,
    query            TEXT NOT NULL,
    body             TEXT NOT NULL,
    verification     TEXT NOT NULL,
    status           TEXT NOT NULL,
    outcome          TEXT,
    conversion_id    TEXT,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    processed_at     BIGINT,
    CONSTRAINT processor_inbox_dedupe_key UNIQUE (merchant_id, provider, dedupe_key)
);
CREATE INDEX processor_inbox_due_idx ON processor_inbox (status, next_attempt_at);
CREATE INDEX processor_inbox_integration_idx ON processor_inbox (integration_id, received_at);

-- Business objects already credited (invoice, transaction, order, sale…), and the other ids a
-- refund or dispute may name them by: one commission per object, however many event types
-- report the same money.
CREATE TABLE processor_payments (
    merchant_id    TEXT NOT NULL,
    provider       TEXT NOT NULL,
    object_key     TEXT NOT NULL,
    conversion_id  TEXT NOT NULL,
    PRIMARY KEY (merchant_id, provider, object_key)
);

-- Which affiliate a subscription (or customer) belongs to: renewals and trial conversions find
-- their attribution and their first payment here.
CREATE TABLE processor_subscriptions (
    merchant_id          TEXT NOT NULL,
    provider             TEXT NOT NULL,
    subscription_key     TEXT NOT NULL,
    campaign_id          TEXT NOT NULL,
    affiliate_id         TEXT NOT NULL,
    click_id             TEXT,
    first_conversion_id  TEXT,
    trial_conversion_id  TEXT,
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, provider, subscription_key)
);

-- Refund state per conversion: what was refunded so far and the commission before refunds,
-- so partial refunds reduce the commission proportionally and repeats do not double-count.
CREATE TABLE processor_refunds (
    merchant_id                TEXT NOT NULL,
    conversion_id              TEXT NOT NULL,
    refunded_minor             BIGINT NOT NULL,
    original_commission_minor  BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, conversion_id)
);

-- Money owed back by an affiliate: a refund after the commission was paid does not rewrite
-- the paid conversion; it records a negative adjustment to settle in the next payout.
CREATE TABLE commission_adjustments (
    id             TEXT PRIMARY KEY,
    merchant_id    TEXT NOT NULL,
    conversion_id  TEXT NOT NULL,
    affiliate_id   TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    is_test        BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX commission_adjustments_affiliate_idx ON commission_adjustments (merchant_id, affiliate_id);
