-- Correlation, root cause and incident analysis: the declared service graph, correlation and
-- inhibition rules, change events (deployments and others), the latest analysis of each
-- incident with its summary, and each tenant's language model usage per day (its budget).

CREATE TABLE services (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    team_id     text,
    depends_on  text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
ALTER TABLE services ENABLE ROW LEVEL SECURITY;
ALTER TABLE services FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON services
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON services TO orchestrix_app;

CREATE TABLE correlation_settings (
    tenant_id        text PRIMARY KEY REFERENCES tenants (id),
    rules            jsonb NOT NULL DEFAULT '[]',
    inhibit_rules    jsonb NOT NULL DEFAULT '[]',
    similarity       double precision NOT NULL CHECK (similarity > 0 AND similarity <= 1),
    topology_hops    integer NOT NULL CHECK (topology_hops BETWEEN 0 AND 6),
    lookback_seconds integer NOT NULL CHECK (lookback_seconds > 0),
    error_query      text,
    updated_at       timestamptz NOT NULL
);
ALTER TABLE correlation_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE correlation_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON correlation_settings
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON correlation_settings TO orchestrix_app;

CREATE TABLE change_events (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    service     text NOT NULL,
    kind        text NOT NULL
        CHECK (kind IN ('deployment', 'config', 'infrastructure', 'feature_flag', 'other')),
    title       text NOT NULL,
    source      text NOT NULL,
    at          timestamptz NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    external_id text,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX change_events_by_time ON change_events (tenant_id, at DESC, id DESC);
-- EventBridge delivers at least once: the same deployment event is one change.
CREATE UNIQUE INDEX change_events_external ON change_events (tenant_id, source, external_id)
    WHERE external_id IS NOT NULL;
ALTER TABLE change_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON change_events
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON change_events TO orchestrix_app;

CREATE TABLE incident_analyses (
    tenant_id     text NOT NULL,
    incident_id   text NOT NULL,
    analyser      text NOT NULL,
    model_id      text,
    summary       text NOT NULL,
    claims        jsonb NOT NULL DEFAULT '[]',
    dropped       jsonb NOT NULL DEFAULT '[]',
    candidates    jsonb NOT NULL DEFAULT '[]',
    note          text,
    input_tokens  integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, incident_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
ALTER TABLE incident_analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_analyses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_analyses
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON incident_analyses TO orchestrix_app;

CREATE TABLE llm_usage (
    tenant_id     text NOT NULL REFERENCES tenants (id),
    day           date NOT NULL,
    calls         integer NOT NULL DEFAULT 0,
    refused       integer NOT NULL DEFAULT 0,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost_usd      numeric(12, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);
ALTER TABLE llm_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON llm_usage
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON llm_usage TO orchestrix_app;

-- The analysis summary travels with the incident (its page, its notifications).
ALTER TABLE incidents ADD COLUMN summary text;
