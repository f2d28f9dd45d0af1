-- The merchant dashboard's campaign figures (conversions and revenue per campaign and mode,
-- rejected and refunded left out) read from this index alone, without visiting the rows.
-- Same text on both engines.
CREATE INDEX conversions_campaign_stats_idx ON conversions (campaign_id, is_test, status, amount_minor);
