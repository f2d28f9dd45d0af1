-- State the nodes of one cluster share so that limits and counts hold whichever node a request
-- reaches. Both tables are UNLOGGED: they are counters of the current minute and hour, not
-- records; skipping the WAL keeps them off the disk's fsync path (a crash empties them, which
-- only forgives a minute's rate limit and makes the next click of each visitor unique again).

-- Requests taken per rate-limit bucket and wall-clock minute. Nodes take requests in leases
-- (`refline_store::cluster`), so the sum never exceeds the limit across the cluster.
CREATE UNLOGGED TABLE rate_windows (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    last_grant   BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- The last unique click of a visitor on a link (a 64-bit hash of the day's salted visitor hash
-- and the link), kept one hour, so every node counts a visitor's click unique once an hour.
CREATE UNLOGGED TABLE unique_visits (
    visit_key BIGINT PRIMARY KEY,
    seen_at   BIGINT NOT NULL
);
CREATE INDEX unique_visits_seen_at ON unique_visits (seen_at);

-- Housekeeping of the tables above and of raw click IPs runs once across the cluster.
INSERT INTO scheduled_runs (name, holder, lease_until, last_run_at) VALUES ('cluster_sweep', '', 0, 0);
INSERT INTO scheduled_runs (name, holder, lease_until, last_run_at) VALUES ('click_ip_sweep', '', 0, 0);
