-- A record's index rows are removed by their full key (sandbox, kind, field, value, seq), from the values its
-- document had: the index by record key is no longer read.
DROP INDEX IF EXISTS record_index_by_key;
