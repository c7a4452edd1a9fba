-- Lookups across sandboxes (a bearer token by its key, the sandboxes with automatic TMF622 plans) are few kinds: they
-- get partial indexes for just those kinds (created when a flow declares them, `declare_across`) instead of an index
-- entry for every record and every index row, which each trigger paid in write-ahead-log pages.
DROP INDEX IF EXISTS records_by_kind_key;
DROP INDEX IF EXISTS record_index_by_value;
