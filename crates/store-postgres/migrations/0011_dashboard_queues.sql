-- Indexes serving the dashboard's big lists with 100,000s of conversions (same text on both
-- engines).

-- The review queue (`list_review_queue`) merges parts read in index order, one per status and
-- fraud flag, newest first: unflagged conversions of one status from this index (it also
-- answers counts by status without reading rows) …
CREATE INDEX conversions_queue_status_idx ON conversions (merchant_id, is_test, status, created_at, id);
-- … and fraud-flagged ones (few) from this partial one.
CREATE INDEX conversions_queue_flagged_idx ON conversions (merchant_id, is_test, status, created_at, id)
    WHERE fraud_score IS NOT NULL;
