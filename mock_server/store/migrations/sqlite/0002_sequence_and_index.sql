-- Records get an explicit insertion sequence (listing order, paging) and an index table for find() by fields.
CREATE TABLE records_v2 (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (sandbox, kind, key)
);
INSERT INTO records_v2 (seq, sandbox, kind, key, doc) SELECT rowid, sandbox, kind, key, doc FROM records ORDER BY rowid;
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;
CREATE INDEX records_by_kind_key ON records (kind, key);
CREATE INDEX records_by_sandbox_kind ON records (sandbox, kind, seq);
CREATE TABLE record_index (
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (sandbox, kind, field, value, seq)
) WITHOUT ROWID;
CREATE INDEX record_index_by_key ON record_index (sandbox, kind, key);
CREATE INDEX record_index_by_value ON record_index (kind, field, value, sandbox);
CREATE TABLE index_catalog (
    kind      TEXT PRIMARY KEY,
    signature TEXT NOT NULL
);
