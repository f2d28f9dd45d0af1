-- A commission's adjustments are summed whenever its ledger position is synced and whenever a
-- refund settles it (`conversion_id = $1`); without this index each of those read the whole
-- table.
CREATE INDEX commission_adjustments_conversion_idx ON commission_adjustments (conversion_id);
