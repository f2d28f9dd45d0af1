-- The affiliate mails' leftovers (issue 14): the "new commission credited" digest and the
-- one-click unsubscribe of non-essential mails. Same text on both engines.

-- What the next "new commission credited" mail of an affiliate will say: live sales with a
-- commission, added up per campaign and currency by the conversion batch writer in the sale's
-- own transaction (one multi-row upsert per batch, on the writer's shard row so parallel
-- writers do not queue on one lock). The digest step subtracts exactly what it mailed, so a
-- sale recorded while a digest is being written waits for the next one instead of being lost.
CREATE TABLE commission_digest_items (
    merchant_id       TEXT NOT NULL,
    affiliate_id      TEXT NOT NULL,
    campaign_id       TEXT NOT NULL,
    currency          TEXT NOT NULL,
    shard             BIGINT NOT NULL,
    conversions       BIGINT NOT NULL,
    commission_minor  BIGINT NOT NULL,
    -- The oldest sale waiting (unix ms).
    first_at          BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, affiliate_id, campaign_id, currency, shard)
);

-- When an affiliate (one row per merchant) was last sent a digest, at most one an hour; and
-- the lease of the node writing one now, so two nodes never write the same digest.
CREATE TABLE commission_digests (
    merchant_id     TEXT NOT NULL,
    affiliate_id    TEXT NOT NULL,
    last_mailed_at  BIGINT,
    lease_until     BIGINT,
    PRIMARY KEY (merchant_id, affiliate_id)
);

-- Who asked to stop which non-essential mail of which business (`kind`: the mail's kind, such
-- as `commission_credited` or `affiliate_rejected`). Deleting the row resubscribes.
CREATE TABLE mail_unsubscribes (
    person_id    TEXT NOT NULL REFERENCES affiliate_people(id),
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    kind         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (person_id, merchant_id, kind)
);

-- The one-click unsubscribe URL of a non-essential mail (RFC 8058's List-Unsubscribe).
ALTER TABLE mail_outbox ADD COLUMN unsubscribe_url TEXT;
