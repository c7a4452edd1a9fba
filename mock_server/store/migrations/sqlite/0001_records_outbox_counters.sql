-- The first schema (state files from before numbered migrations already have it: every statement is idempotent).
CREATE TABLE IF NOT EXISTS records (
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    PRIMARY KEY (sandbox, kind, key)
);
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sandbox         TEXT NOT NULL,
    stream          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    headers         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_owner     TEXT,
    lease_until     REAL,
    created_at      REAL NOT NULL,
    retries_from    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_stream ON outbox (sandbox, stream, id);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    outbox_id   INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          REAL NOT NULL,
    status_code INTEGER,
    error       TEXT,
    latency_ms  REAL NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);
CREATE TABLE IF NOT EXISTS counters (
    sandbox TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (sandbox, name)
);
