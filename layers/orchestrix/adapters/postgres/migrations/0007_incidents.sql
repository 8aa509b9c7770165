-- Incidents, their timeline and linked alerts; escalation policies and the steps of each
-- escalation; per-tenant incident settings (alert grouping, default policy, SLA targets).

CREATE TABLE escalation_policies (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    id              text NOT NULL,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    repeat          integer NOT NULL DEFAULT 0 CHECK (repeat BETWEEN 0 AND 9),
    owner_member_id text,
    levels          jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX escalation_policies_listing
    ON escalation_policies (tenant_id, created_at DESC, id DESC);
ALTER TABLE escalation_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON escalation_policies
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON escalation_policies TO orchestrix_app;

CREATE TABLE incident_settings (
    tenant_id                    text PRIMARY KEY REFERENCES tenants (id),
    severities                   text[] NOT NULL,
    group_by                     text[] NOT NULL,
    window_seconds               integer NOT NULL CHECK (window_seconds > 0),
    default_escalation_policy_id text,
    service_policies             jsonb NOT NULL DEFAULT '{}',
    sla                          jsonb NOT NULL DEFAULT '{}',
    updated_at                   timestamptz NOT NULL
);
ALTER TABLE incident_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_settings
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON incident_settings TO orchestrix_app;

CREATE TABLE incidents (
    tenant_id            text NOT NULL REFERENCES tenants (id),
    id                   text NOT NULL,
    title                text NOT NULL,
    description          text NOT NULL DEFAULT '',
    severity             text NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5')),
    status               text NOT NULL
        CHECK (status IN ('triggered', 'acknowledged', 'mitigated', 'resolved')),
    service              text,
    team_id              text,
    escalation_policy_id text,
    group_key            text,
    roles                jsonb NOT NULL DEFAULT '{}',
    labels               jsonb NOT NULL DEFAULT '{}',
    alert_count          integer NOT NULL DEFAULT 0,
    created_by           text NOT NULL,
    triggered_at         timestamptz NOT NULL,
    acknowledged_at      timestamptz,
    acknowledged_by      text,
    mitigated_at         timestamptz,
    resolved_at          timestamptz,
    resolved_by          text,
    last_alert_at        timestamptz,
    updated_at           timestamptz NOT NULL,
    sla_breaches         text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX incidents_listing ON incidents (tenant_id, triggered_at DESC, id DESC);
-- Alert grouping looks up the open incident of a group key; an advisory lock on the key
-- serialises concurrent alerts of one group (see PostgresIncidentRepository.lock_group).
CREATE INDEX incidents_open_group ON incidents (tenant_id, group_key, last_alert_at DESC)
    WHERE status <> 'resolved';
ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incidents
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON incidents TO orchestrix_app;

CREATE TABLE incident_alerts (
    tenant_id   text NOT NULL,
    incident_id text NOT NULL,
    alert_id    text NOT NULL,
    fingerprint text NOT NULL,
    severity    text NOT NULL,
    labels      jsonb NOT NULL,
    linked_at   timestamptz NOT NULL,
    resolved_at timestamptz,
    PRIMARY KEY (tenant_id, incident_id, alert_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
CREATE INDEX incident_alerts_by_alert ON incident_alerts (tenant_id, alert_id);
ALTER TABLE incident_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_alerts
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON incident_alerts TO orchestrix_app;

CREATE TABLE incident_timeline (
    tenant_id   text NOT NULL,
    id          text NOT NULL,
    incident_id text NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    actor       text NOT NULL,
    message     text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (tenant_id, incident_id, at, id);
ALTER TABLE incident_timeline ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON incident_timeline
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON incident_timeline TO orchestrix_app;

-- One row per escalation step (round, level; level -1 = owner told). A step runs once: the
-- runner flips 'scheduled' to 'done' in the transaction that pages, so a retried scheduler
-- invocation finds it done and pages nobody.
CREATE TABLE escalation_steps (
    tenant_id     text NOT NULL,
    incident_id   text NOT NULL,
    round         integer NOT NULL,
    level         integer NOT NULL,
    status        text NOT NULL CHECK (status IN ('scheduled', 'done', 'cancelled')),
    schedule_name text NOT NULL,
    due_at        timestamptz NOT NULL,
    done_at       timestamptz,
    PRIMARY KEY (tenant_id, incident_id, round, level),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
ALTER TABLE escalation_steps ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON escalation_steps
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON escalation_steps TO orchestrix_app;
