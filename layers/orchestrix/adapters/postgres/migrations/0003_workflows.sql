-- Workflows: definitions, their immutable versions (each one a Step Functions state machine),
-- executions and the approvals they wait for. Tenancy exactly as in 0001.

CREATE TABLE workflows (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    id              text NOT NULL,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    current_version integer NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- A name is taken only while its workflow lives; deleted ones free it.
CREATE UNIQUE INDEX workflows_live_name ON workflows (tenant_id, name) WHERE deleted_at IS NULL;
CREATE INDEX workflows_listing ON workflows (tenant_id, created_at DESC, id DESC);
ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflows
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON workflows TO orchestrix_app;

-- Never updated: an execution records the version it ran, and that version stays readable.
CREATE TABLE workflow_versions (
    tenant_id         text NOT NULL,
    workflow_id       text NOT NULL,
    version           integer NOT NULL,
    definition        jsonb NOT NULL,
    asl               jsonb NOT NULL,
    state_machine_arn text NOT NULL,
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, version),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
);
ALTER TABLE workflow_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_versions
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON workflow_versions TO orchestrix_app;

CREATE TABLE workflow_executions (
    tenant_id        text NOT NULL,
    id               text NOT NULL,
    workflow_id      text NOT NULL,
    workflow_version integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed',
                                                     'cancelled', 'timed_out')),
    input            jsonb NOT NULL,
    output           jsonb,
    idempotency_key  text,
    sfn_execution_arn text NOT NULL,
    started_by       text NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    error            text,
    cause            text,
    cancel_reason    text,
    reject_reason    text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, workflow_id, workflow_version)
        REFERENCES workflow_versions (tenant_id, workflow_id, version)
);
CREATE UNIQUE INDEX workflow_executions_idempotency
    ON workflow_executions (tenant_id, workflow_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX workflow_executions_sfn ON workflow_executions (sfn_execution_arn);
CREATE INDEX workflow_executions_listing
    ON workflow_executions (tenant_id, started_at DESC, id DESC);
CREATE INDEX workflow_executions_by_workflow
    ON workflow_executions (tenant_id, workflow_id, started_at DESC, id DESC);
ALTER TABLE workflow_executions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_executions
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON workflow_executions TO orchestrix_app;

-- The task tokens of approval steps. Kept here, not only in Step Functions, because the API
-- answers them and because a rejection's reason must survive (the engine may drop it).
CREATE TABLE workflow_approvals (
    tenant_id    text NOT NULL,
    execution_id text NOT NULL,
    step_id      text NOT NULL,
    token        text NOT NULL,
    message      text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired',
                                                 'cancelled')),
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    decided_by   text,
    reason       text,
    PRIMARY KEY (tenant_id, token),
    FOREIGN KEY (tenant_id, execution_id) REFERENCES workflow_executions (tenant_id, id)
);
CREATE INDEX workflow_approvals_pending
    ON workflow_approvals (tenant_id, execution_id) WHERE status = 'pending';
ALTER TABLE workflow_approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_approvals
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON workflow_approvals TO orchestrix_app;

-- The execution tracker meets a Step Functions event before it knows the tenant: this
-- definer-rights function answers only for the exact execution ARN it is given.
CREATE FUNCTION orchestrix_execution_tenant(p_arn text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT tenant_id FROM workflow_executions WHERE sfn_execution_arn = p_arn $$;
REVOKE ALL ON FUNCTION orchestrix_execution_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_execution_tenant(text) TO orchestrix_app;
