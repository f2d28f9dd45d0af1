-- Outbound webhooks: endpoints, the outbox of deliveries (one row per event and endpoint,
-- written in the same transaction as the change that caused it), and every attempt.

CREATE TABLE webhook_endpoints (
    id                    TEXT PRIMARY KEY,
    merchant_id           TEXT NOT NULL REFERENCES merchants(id),
    url                   TEXT NOT NULL,
    -- Comma-wrapped list ",conversion.created,affiliate.joined," so one LIKE finds subscribers.
    events                TEXT NOT NULL,
    secret                TEXT NOT NULL,
    -- The secret before the last rotation, still used to sign (alongside) until it expires.
    previous_secret       TEXT,
    previous_secret_until BIGINT,
    status                TEXT NOT NULL,
    disabled_reason       TEXT,
    consecutive_failures  BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id, created_at);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- pending (due at next_attempt_at), held (endpoint disabled), delivered, failed (retries spent).
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id             BIGSERIAL PRIMARY KEY,
    delivery_id    TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    endpoint_id    TEXT NOT NULL,
    attempt        BIGINT NOT NULL,
    status_code    BIGINT,
    duration_ms    BIGINT NOT NULL,
    response_body  TEXT,
    error          TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
