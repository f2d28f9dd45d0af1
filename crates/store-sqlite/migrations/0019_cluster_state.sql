-- State the nodes of one cluster share so that limits and counts hold whichever node a request
-- reaches (PostgreSQL, where these tables are UNLOGGED). SQLite serves one node, which keeps the
-- same state in memory; the tables exist so both engines pass the same store contract.

-- Requests taken per rate-limit bucket and wall-clock minute (leases: `refline_store::cluster`).
CREATE TABLE rate_windows (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    last_grant   BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- The last unique click of a visitor on a link, kept one hour.
CREATE TABLE unique_visits (
    visit_key BIGINT PRIMARY KEY,
    seen_at   BIGINT NOT NULL
);
CREATE INDEX unique_visits_seen_at ON unique_visits (seen_at);

-- Housekeeping of the tables above and of raw click IPs runs once across the cluster.
INSERT INTO scheduled_runs (name, holder, lease_until, last_run_at) VALUES ('cluster_sweep', '', 0, 0);
INSERT INTO scheduled_runs (name, holder, lease_until, last_run_at) VALUES ('click_ip_sweep', '', 0, 0);
