-- Status page updates reach subscribers behind the request that posted them. The posting
-- transaction writes one row here per subscriber to tell (an outbox), so an update that is
-- stored is also one that will be sent, and answers at once however many subscribers the
-- page has. The fan-out (functions/status_pages, started by a one-time schedule) claims rows
-- in batches, hands each to the notification service and marks it, so a run started again
-- sends nothing twice. `done` means the notification exists: whether it reached the
-- subscriber is on the notification (sent, retried, failed), as for every other delivery;
-- `failed` means it never got that far (e.g. the subscriber's sealed secrets would not open).
CREATE TABLE status_deliveries (
    tenant_id       text NOT NULL,
    update_id       text NOT NULL,
    subscriber_id   text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    error           text,
    notification_id text,
    -- A run's lease on the row; past it (the run died) another run may take the row again.
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    done_at         timestamptz,
    PRIMARY KEY (tenant_id, update_id, subscriber_id),
    FOREIGN KEY (tenant_id, update_id) REFERENCES status_page_updates (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES status_subscribers (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX status_deliveries_pending
    ON status_deliveries (tenant_id, created_at) WHERE status = 'pending';
CREATE INDEX status_deliveries_of_subscriber ON status_deliveries (tenant_id, subscriber_id);
ALTER TABLE status_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE status_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_deliveries
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_deliveries TO orchestrix_app;
