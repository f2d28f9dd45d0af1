-- Importers (issue 16, docs/MIGRATING.md): what each imported source object became, and each
-- run's progress, so a re-run creates nothing new and an interrupted run resumes.

-- (merchant, source, kind, source id) → the Refline object it became. `fingerprint` is a hash
-- of the source fields the import reads: a re-run tells an unchanged object from an updated one
-- without reading the Refline object back.
CREATE TABLE import_objects (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    refline_id   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, source, kind, source_id)
);

-- One import of one source for one merchant. `step` is the entity being imported and `cursor`
-- where its next page starts (a page number or the source's cursor), saved after every page;
-- a run that is not `finished` is resumed from there by the next run of the same source.
CREATE TABLE import_runs (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    source       TEXT NOT NULL,
    status       TEXT NOT NULL,
    step         TEXT NOT NULL,
    cursor       TEXT,
    report       TEXT NOT NULL,
    error        TEXT,
    started_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX import_runs_merchant_idx ON import_runs (merchant_id, source, started_at);
