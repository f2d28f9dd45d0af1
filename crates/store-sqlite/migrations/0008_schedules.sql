-- Work that runs once across all nodes on a schedule (automatic payouts): a node claims a run
-- by taking the lease of its row; the row also remembers when the run last finished.
CREATE TABLE scheduled_runs (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    lease_until  BIGINT NOT NULL,
    last_run_at  BIGINT NOT NULL
);
INSERT INTO scheduled_runs (name, holder, lease_until, last_run_at) VALUES ('automatic_payouts', '', 0, 0);
