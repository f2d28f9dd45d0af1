-- Rollups the overview reads instead of scanning a month of conversions and clicks. They are
-- kept in the transaction of every change that moves them (insert, status change, refund,
-- partial-refund commission), so they always equal a recount of the rows.
--
-- A conversion counts while its status is not rejected or refunded. Money is kept as the sums
-- of each value's billions and its remainder (value / 10^9 and value % 10^9, truncated as SQL
-- and Rust both do), exactly what `sum_minor!` sums over the rows, so a read gives the same
-- saturating total a recount would and no running sum can overflow. Rows are split over the
-- writer's shard so parallel writers (PostgreSQL) do not queue on one row lock.

-- Per merchant, mode, UTC day (created_at / 86400000) and currency.
CREATE TABLE conversion_days (
    merchant_id     TEXT NOT NULL,
    is_test         BOOLEAN NOT NULL,
    day             BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    shard           BIGINT NOT NULL,
    revenue_hi      BIGINT NOT NULL,
    revenue_lo      BIGINT NOT NULL,
    commission_hi   BIGINT NOT NULL,
    commission_lo   BIGINT NOT NULL,
    conversions     BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, is_test, day, currency, shard)
);

-- Per merchant, mode, UTC calendar month (its start, unix ms), affiliate and currency.
CREATE TABLE affiliate_months (
    merchant_id     TEXT NOT NULL,
    is_test         BOOLEAN NOT NULL,
    month           BIGINT NOT NULL,
    affiliate_id    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    shard           BIGINT NOT NULL,
    revenue_hi      BIGINT NOT NULL,
    revenue_lo      BIGINT NOT NULL,
    commission_hi   BIGINT NOT NULL,
    commission_lo   BIGINT NOT NULL,
    conversions     BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, is_test, month, affiliate_id, currency, shard)
);

-- Human clicks per merchant and UTC day, kept by the click writer.
CREATE TABLE click_days (
    merchant_id     TEXT NOT NULL,
    day             BIGINT NOT NULL,
    clicks          BIGINT NOT NULL,
    unique_clicks   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day)
);

-- What is already stored.
INSERT INTO conversion_days (merchant_id, is_test, day, currency, shard, revenue_hi, revenue_lo,
        commission_hi, commission_lo, conversions)
    SELECT merchant_id, is_test, created_at / 86400000, currency, 0,
        COALESCE(SUM(amount_minor / 1000000000), 0), COALESCE(SUM(amount_minor % 1000000000), 0),
        COALESCE(SUM(commission_minor / 1000000000), 0), COALESCE(SUM(commission_minor % 1000000000), 0),
        COUNT(*)
    FROM conversions WHERE status NOT IN ('rejected', 'refunded')
    GROUP BY merchant_id, is_test, created_at / 86400000, currency;

INSERT INTO affiliate_months (merchant_id, is_test, month, affiliate_id, currency, shard,
        revenue_hi, revenue_lo, commission_hi, commission_lo, conversions)
    SELECT merchant_id, is_test, month, affiliate_id, currency, 0,
        COALESCE(SUM(amount_minor / 1000000000), 0), COALESCE(SUM(amount_minor % 1000000000), 0),
        COALESCE(SUM(commission_minor / 1000000000), 0), COALESCE(SUM(commission_minor % 1000000000), 0),
        COUNT(*)
    FROM (SELECT merchant_id, is_test, affiliate_id, currency, amount_minor, commission_minor,
            CAST(strftime('%s', datetime(created_at / 1000, 'unixepoch', 'start of month')) AS BIGINT) * 1000 AS month
          FROM conversions WHERE status NOT IN ('rejected', 'refunded')) c
    GROUP BY merchant_id, is_test, month, affiliate_id, currency;

INSERT INTO click_days (merchant_id, day, clicks, unique_clicks)
    SELECT merchant_id, created_at / 86400000, COUNT(*),
        COALESCE(SUM(CASE WHEN is_unique THEN 1 ELSE 0 END), 0)
    FROM clicks WHERE kind = 'human'
    GROUP BY merchant_id, created_at / 86400000;
