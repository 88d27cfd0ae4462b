-- +goose Up
-- Every index is one more b-tree that each insert, and each change of the
-- indexed columns, writes. These two cost the hot paths (issuing, paying,
-- every event) more than they served.

-- Read by nothing since the sweep follows next_action_on and the overdue
-- filter of the invoice list uses overdue_at.
DROP INDEX invoices_overdue;

-- Of the events, only client suspensions are counted by period (the
-- client health report), so only they are indexed by time.
DROP INDEX events_type_created;
CREATE INDEX events_suspended ON events (created_at) WHERE type = 'client.suspended';

-- +goose Down
DROP INDEX events_suspended;
CREATE INDEX events_type_created ON events (type, created_at);
CREATE INDEX invoices_overdue ON invoices (status, overdue_from);
