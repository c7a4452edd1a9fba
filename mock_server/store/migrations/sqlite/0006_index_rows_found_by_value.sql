-- A record's index rows are removed by their full key (sandbox, kind, field, value, seq), from the values its
-- document had (remembered from the unit of work's read, or read again): the index by record key, which every index
-- row paid for in write-ahead-log pages (about two of eleven per MaCo trigger), goes.
DROP INDEX IF EXISTS record_index_by_key;
