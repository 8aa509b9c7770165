-- Auto-remediation: each time an alert's rule starts its remediation workflow.
--
-- One row per attempt. The partial unique index is what guarantees "at most one remediation
-- per alert at a time": a second trigger for the same alert inserts nothing while a row is
-- running, however many evaluators race.

CREATE TABLE alert_remediations (
    tenant_id         text        NOT NULL REFERENCES tenants (id),
    id                text        NOT NULL,
    alert_id          text        NOT NULL,
    rule_id           text,
    workflow_id       text        NOT NULL,
    attempt           integer     NOT NULL CHECK (attempt > 0),
    status            text        NOT NULL
        CHECK (status IN ('running', 'resolved', 'escalated', 'failed')),
    sfn_execution_arn text        NOT NULL,
    execution_id      text,
    execution_status  text,
    recheck_at        timestamptz,
    reason            text,
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id)
);
CREATE UNIQUE INDEX alert_remediations_one_running ON alert_remediations (tenant_id, alert_id)
    WHERE status = 'running';
CREATE UNIQUE INDEX alert_remediations_attempt
    ON alert_remediations (tenant_id, alert_id, attempt);
ALTER TABLE alert_remediations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alert_remediations
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON alert_remediations TO orchestrix_app;
