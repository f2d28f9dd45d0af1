-- Payment-processor connections and the coupon codes registered to affiliates.

-- One connection of a merchant to a payment processor: what verifies its webhooks. Secrets are
-- sealed (AES-256-GCM) by the server before they reach this table.
CREATE TABLE integrations (
    id                      TEXT PRIMARY KEY,           -- int_…
    merchant_id             TEXT NOT NULL REFERENCES merchants(id),
    provider                TEXT NOT NULL,              -- stripe|paddle|paddle_classic|lemonsqueezy|gumroad|gopay|creem|polar
    status                  TEXT NOT NULL,              -- active|disabled
    label                   TEXT,
    secret_sealed           TEXT NOT NULL,              -- current webhook secret, encrypted
    secret_hint             TEXT NOT NULL,              -- last 4 characters, safe to show
    previous_secret_sealed  TEXT,                       -- second active secret during rotation, encrypted
    settings                TEXT NOT NULL,              -- JSON object of provider-specific non-secret fields
    credentials_sealed      TEXT,                       -- encrypted JSON of provider API credentials (GoPay)
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX integrations_merchant_idx ON integrations (merchant_id, provider);

-- A discount code attributed to an affiliate on a campaign: the fallback attribution of a sale
-- without a tracking reference. Discount fields are labels only (the code lives in the processor).
CREATE TABLE coupons (
    id                          TEXT PRIMARY KEY,       -- cpn_…
    merchant_id                 TEXT NOT NULL REFERENCES merchants(id),
    campaign_id                 TEXT NOT NULL REFERENCES campaigns(id),
    affiliate_id                TEXT NOT NULL REFERENCES affiliates(id),
    code                        TEXT NOT NULL,          -- as given; matched case-insensitively via code_key
    code_key                    TEXT NOT NULL,          -- upper-cased code
    provider                    TEXT,
    provider_coupon_id          TEXT,
    provider_promotion_code_id  TEXT,
    percent_off                 BIGINT,
    amount_off_minor            BIGINT,
    currency                    TEXT,
    duration                    TEXT,                   -- once|forever|repeating
    duration_in_months          BIGINT,
    created_at                  BIGINT NOT NULL,
    CONSTRAINT coupons_code_key UNIQUE (merchant_id, code_key)
);
-- Sales name a coupon by the processor's ids before its text (find_coupon).
CREATE INDEX coupons_provider_coupon_idx ON coupons (merchant_id, provider_coupon_id);
CREATE INDEX coupons_provider_promotion_idx ON coupons (merchant_id, provider_promotion_code_id);
CREATE INDEX coupons_affiliate_idx ON coupons (merchant_id, affiliate_id, created_at);
