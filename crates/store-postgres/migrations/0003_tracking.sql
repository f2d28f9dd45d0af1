-- Tracking: how each click was classified, short links, per-link click totals, visitor salts and
-- the "script seen" signal.

-- `kind`: human | bot. HEAD requests are not clicks: they are only counted in click_totals.
-- `visitor_hash`: sha256(daily salt, IP, user agent); the salt is deleted after two days, so
-- hashes cannot be linked across days. `ip` is the raw address, kept only for the fraud window
-- (REFLINE_CLICK_IP_RETENTION_DAYS, default 30) and then set to NULL by the sweeper.
ALTER TABLE clicks ADD COLUMN link_id TEXT;
ALTER TABLE clicks ADD COLUMN source TEXT NOT NULL DEFAULT 'redirect';
ALTER TABLE clicks ADD COLUMN kind TEXT NOT NULL DEFAULT 'human';
ALTER TABLE clicks ADD COLUMN is_unique BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clicks ADD COLUMN visitor_hash TEXT;
ALTER TABLE clicks ADD COLUMN landing_url TEXT;
ALTER TABLE clicks ADD COLUMN referrer TEXT;
CREATE INDEX clicks_merchant_created_idx ON clicks (merchant_id, created_at);

CREATE TABLE links (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    campaign_id   TEXT NOT NULL REFERENCES campaigns(id),
    affiliate_id  TEXT NOT NULL REFERENCES affiliates(id),
    created_at    BIGINT NOT NULL,
    CONSTRAINT links_code_key UNIQUE (code)
);
CREATE INDEX links_merchant_idx ON links (merchant_id, created_at);

-- Running totals per (campaign, affiliate, link); link_id '' is the plain tracking link and the
-- beacon. Updated by the click writer in the same transaction as the click rows, so reads of
-- campaign, affiliate and link objects never scan the clicks table.
CREATE TABLE click_totals (
    merchant_id    TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    affiliate_id   TEXT NOT NULL,
    link_id        TEXT NOT NULL,
    clicks         BIGINT NOT NULL,
    unique_clicks  BIGINT NOT NULL,
    bot_clicks     BIGINT NOT NULL,
    head_requests  BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, affiliate_id, link_id)
);
CREATE INDEX click_totals_affiliate_idx ON click_totals (affiliate_id);

CREATE TABLE visitor_salts (
    day   BIGINT PRIMARY KEY,
    salt  TEXT NOT NULL
);

ALTER TABLE merchants ADD COLUMN tracking_seen_at BIGINT;
