-- The claim touches open rows only (as PostgreSQL's 0004): the due ones from indexes of the pending and sending rows,
-- a stream's earlier undelivered rows from an index of those (bench/outbox_claim.py).
CREATE INDEX IF NOT EXISTS outbox_open_stream ON outbox (sandbox, stream, id) WHERE status IN ('pending', 'sending', 'dead');
CREATE INDEX IF NOT EXISTS outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_sending_lease ON outbox (lease_until) WHERE status = 'sending';
