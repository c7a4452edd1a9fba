-- Records number their rows without AUTOINCREMENT: SQLite then takes the largest seq plus one, and a commit no longer
-- rewrites the sqlite_sequence page (one write-ahead-log page of about fifteen per MaCo trigger). A seq freed by
-- deleting the newest record may be given again; nothing keeps a seq beyond its record (index rows go with it), and
-- listings still follow insertion order.
CREATE TABLE records_v3 (
    seq     INTEGER PRIMARY KEY,
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (sandbox, kind, key)
);
INSERT INTO records_v3 (seq, sandbox, kind, key, doc) SELECT seq, sandbox, kind, key, doc FROM records ORDER BY seq;
DROP TABLE records;
ALTER TABLE records_v3 RENAME TO records;
CREATE INDEX records_by_sandbox_kind ON records (sandbox, kind, seq);
