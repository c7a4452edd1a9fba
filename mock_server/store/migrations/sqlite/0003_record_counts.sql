-- How many records each (sandbox, kind) holds, kept with every insert and delete: an unfiltered count (TMF630's
-- X-Total-Count) costs one row, not a scan of the sandbox.
CREATE TABLE record_counts (
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (sandbox, kind)
);
INSERT INTO record_counts (sandbox, kind, n) SELECT sandbox, kind, COUNT(*) FROM records GROUP BY sandbox, kind;
