-- The audit log covers every door, not only HTTP requests: which door, which operation, on
-- which object. Entries of doors without requests (the command line, workers, importers) have
-- no method, path or status.
ALTER TABLE audit_log ADD COLUMN door TEXT NOT NULL DEFAULT 'api';
ALTER TABLE audit_log ADD COLUMN operation TEXT;
ALTER TABLE audit_log ADD COLUMN target_id TEXT;
ALTER TABLE audit_log ALTER COLUMN method DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN path DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN status_code DROP NOT NULL;
UPDATE audit_log SET door = 'processor' WHERE path LIKE '/api/webhooks/%';
