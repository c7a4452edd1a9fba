-- Records (JSON documents by sandbox, kind, key), their index rows, counters, the outbox and its attempts.
CREATE TABLE records (
    seq     BIGSERIAL PRIMARY KEY,
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (sandbox, kind, key)
);
CREATE INDEX records_by_kind_key ON records (kind, key);
CREATE INDEX records_by_sandbox_kind ON records (sandbox, kind, seq);
CREATE TABLE record_index (
    sandbox TEXT NOT NULL,
    kind    TEXT NOT NULL,
    field   TEXT NOT NULL,
    value   TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (sandbox, kind, field, value, seq)
);
CREATE INDEX record_index_by_key ON record_index (sandbox, kind, key);
CREATE INDEX record_index_by_value ON record_index (kind, field, value, sandbox);
CREATE TABLE index_catalog (
    kind      TEXT PRIMARY KEY,
    signature TEXT NOT NULL
);
CREATE TABLE counters (
    sandbox TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (sandbox, name)
);
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    sandbox         TEXT NOT NULL,
    stream          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    headers         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    lease_owner     TEXT,
    lease_until     DOUBLE PRECISION,
    created_at      DOUBLE PRECISION NOT NULL,
    retries_from    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_stream ON outbox (sandbox, stream, id);
CREATE TABLE delivery_attempts (
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          DOUBLE PRECISION NOT NULL,
    status_code INTEGER,
    error       TEXT,
    latency_ms  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);
