-- The audit log covers every door, not only HTTP requests: which door, which operation, on
-- which object. Entries of doors without requests (the command line, workers, importers) have
-- no method, path or status. SQLite cannot drop NOT NULL in place, so the table is rebuilt.
CREATE TABLE audit_log_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  TEXT,
    api_key_id   TEXT,
    door         TEXT NOT NULL DEFAULT 'api',
    operation    TEXT,
    target_id    TEXT,
    method       TEXT,
    path         TEXT,
    status_code  BIGINT,
    error_code   TEXT,
    ip_address   TEXT,
    user_agent   TEXT,
    created_at   BIGINT NOT NULL
);
INSERT INTO audit_log_new (id, merchant_id, api_key_id, door, method, path, status_code, error_code,
                           ip_address, user_agent, created_at)
SELECT id, merchant_id, api_key_id,
       CASE WHEN path LIKE '/api/webhooks/%' THEN 'processor' ELSE 'api' END,
       method, path, status_code, error_code, ip_address, user_agent, created_at
FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_merchant_idx ON audit_log (merchant_id, created_at);
