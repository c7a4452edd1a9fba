-- The claim touches open rows only: a stream's earlier undelivered rows are found in an index of the undelivered
-- ones, and the due ones (pending and due, or sending with a lapsed lease) in indexes of those states, so neither
-- delivered history nor other sandboxes' waiting or dead rows are scanned (bench/outbox_claim.py).
CREATE INDEX outbox_open_stream ON outbox (sandbox, stream, id) WHERE status IN ('pending', 'sending', 'dead');
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sending_lease ON outbox (lease_until) WHERE status = 'sending';
