-- How a campaign records free trials (LinkJolt §8.6): `automatic` (the default, what every
-- existing campaign did), `after_trial` or `immediate`; read through `refline_domain::TrialMode`
-- (an unknown text is a read error). Same text on both engines.
ALTER TABLE campaigns ADD COLUMN trial_mode TEXT NOT NULL DEFAULT 'automatic';
