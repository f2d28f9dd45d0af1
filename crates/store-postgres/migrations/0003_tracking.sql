-- Tracking: how each click was classified, short links, per-link click totals, visitor salts and
-- the "script seen" signal.

-- Clicks were never written before this version (nothing recorded them), so the table is
-- rebuilt rather than altered.
--
-- `kind`: human | bot. HEAD requests are not clicks: they are only counted in click_totals.
-- `is_unique` comes from a visitor hash, sha256(daily salt, IP, user agent), held in memory
-- for an hour and never stored; the salt is deleted after two days. `ip` is the raw address, kept only for the fraud window
-- (REFLINE_CLICK_IP_RETENTION_DAYS, default 30) and then set to NULL by the sweeper.
-- The key is (merchant, id): tenant-scoped lookups and newest-first lists read it in order.
DROP TABLE clicks;
CREATE TABLE clicks (
    merchant_id   TEXT NOT NULL,
    -- Byte order (time prefix, then base-62 digits): "newest first" must not depend on the
    -- database's default collation.
    id            TEXT COLLATE "C" NOT NULL,
    campaign_id   TEXT NOT NULL,
    affiliate_id  TEXT NOT NULL,
    link_id       TEXT,
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    is_unique     BOOLEAN NOT NULL,
    ip            TEXT,
    device_hash   TEXT,
    landing_url   TEXT,
    referrer      TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);

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
