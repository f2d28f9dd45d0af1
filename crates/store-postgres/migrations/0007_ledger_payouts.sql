-- Payouts and the commission ledger (docs/API.md "Payouts and the ledger").

-- Merchant payout settings. The minimum is kept in hundredths of a unit (5000 = 50.00) and
-- read in each payout's currency; the Stripe secret key is sealed like processor secrets.
ALTER TABLE merchants ADD COLUMN payout_hold_days BIGINT NOT NULL DEFAULT 30;
ALTER TABLE merchants ADD COLUMN minimum_payout_hundredths BIGINT NOT NULL DEFAULT 5000;
ALTER TABLE merchants ADD COLUMN automatic_payouts BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE merchants ADD COLUMN default_payout_method TEXT;
ALTER TABLE merchants ADD COLUMN stripe_secret_key TEXT;

-- A campaign's own hold (NULL: the merchant's).
ALTER TABLE campaigns ADD COLUMN hold_days BIGINT;

-- How an affiliate is paid: JSON {"type": "paypal", "email": …} etc., NULL when not set.
ALTER TABLE affiliates ADD COLUMN payout_method TEXT;

-- When a conversion was approved (its hold counts from then), what it earns now (the sum of its
-- accrued, adjusted, reversed and clawback ledger entries) and how much completed payouts paid
-- (the sum of its paid and returned entries). The two sums are kept on the conversion, in the
-- same transaction as each entry, so reading a commission never sums entries; `ledger verify`
-- recomputes both from the entries.
ALTER TABLE conversions ADD COLUMN approved_at BIGINT;
ALTER TABLE conversions ADD COLUMN earned_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversions ADD COLUMN paid_minor BIGINT NOT NULL DEFAULT 0;
UPDATE conversions SET approved_at = updated_at WHERE status = 'approved';
UPDATE conversions SET earned_minor = commission_minor WHERE status NOT IN ('rejected', 'refunded');

-- The ledger: append-only, never updated or deleted. Every change to what an affiliate earned
-- or was paid is one row; balances are sums of rows.
CREATE TABLE ledger_entries (
    id             BIGSERIAL PRIMARY KEY,
    merchant_id    TEXT NOT NULL,
    affiliate_id   TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    conversion_id  TEXT NOT NULL,
    payout_id      TEXT,
    currency       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    is_test        BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);
-- One index, by merchant: a merchant's new entries land at the end of its range, so a sale's
-- entry is an append, not a random B-tree insert (an index by conversion id cost about a quarter
-- of SQLite's conversion throughput). Totals live on the conversion; only `ledger verify` reads
-- entries, a merchant's at a time.
CREATE INDEX ledger_entries_merchant_idx ON ledger_entries (merchant_id, id);

-- What the conversions recorded so far earned: one accrued entry each, and a reversal for
-- the rejected and refunded (whose commission no longer counts).
INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, currency, kind,
                            amount_minor, is_test, created_at)
SELECT merchant_id, affiliate_id, campaign_id, id, currency, 'accrued', commission_minor, is_test, created_at
FROM conversions WHERE commission_minor <> 0;
INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, currency, kind,
                            amount_minor, is_test, created_at)
SELECT merchant_id, affiliate_id, campaign_id, id, currency, 'reversed', -commission_minor, is_test, updated_at
FROM conversions WHERE commission_minor <> 0 AND status IN ('rejected', 'refunded');

-- A payout: one affiliate, one currency, one run.
CREATE TABLE payouts (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    affiliate_id    TEXT NOT NULL REFERENCES affiliates(id),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    method          TEXT NOT NULL,
    destination     TEXT,
    amount_minor    BIGINT NOT NULL,
    is_test         BOOLEAN NOT NULL,
    reference       TEXT,
    export_id       TEXT,
    transfer_id     TEXT,
    failure_reason  TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    completed_at    BIGINT
);
CREATE INDEX payouts_merchant_idx ON payouts (merchant_id, is_test, created_at);
CREATE INDEX payouts_transfer_idx ON payouts (transfer_id);

-- What a payout pays: commissions (positive) and clawbacks netted (negative). A conversion is in
-- at most one open (pending or processing) payout at a time.
CREATE TABLE payout_items (
    payout_id      TEXT NOT NULL REFERENCES payouts(id),
    conversion_id  TEXT NOT NULL REFERENCES conversions(id),
    amount_minor   BIGINT NOT NULL,
    is_open        BOOLEAN NOT NULL,
    PRIMARY KEY (payout_id, conversion_id)
);
CREATE UNIQUE INDEX payout_items_open_idx ON payout_items (conversion_id) WHERE is_open;
CREATE INDEX payout_items_conversion_idx ON payout_items (conversion_id);
