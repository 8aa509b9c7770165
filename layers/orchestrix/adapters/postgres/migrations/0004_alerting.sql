-- Alerting: rules, their evaluation state (ALERTS_FOR_STATE), alerts and their occurrences.

CREATE TABLE alert_rules (
    tenant_id               text        NOT NULL REFERENCES tenants (id),
    id                      text        NOT NULL,
    name                    text        NOT NULL,  -- the alertname
    group_name              text        NOT NULL DEFAULT 'default',
    interval_s              integer     NOT NULL DEFAULT 60 CHECK (interval_s >= 60),
    expr                    text        NOT NULL,
    threshold               jsonb,                 -- the threshold form as given, if any
    for_s                   integer     NOT NULL DEFAULT 0 CHECK (for_s >= 0),
    keep_firing_for_s       integer     NOT NULL DEFAULT 0 CHECK (keep_firing_for_s >= 0),
    labels                  jsonb       NOT NULL DEFAULT '{}',
    annotations             jsonb       NOT NULL DEFAULT '{}',
    severity                text        NOT NULL DEFAULT 'warning',
    remediation_workflow_id text,
    escalation_policy_id    text,
    enabled                 boolean     NOT NULL DEFAULT true,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    created_by              text        NOT NULL,
    last_evaluated_at       timestamptz,
    last_error              text,
    last_duration_ms        double precision,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX alert_rules_listing ON alert_rules (tenant_id, created_at DESC, id DESC);
CREATE INDEX alert_rules_group ON alert_rules (tenant_id, group_name, name);
ALTER TABLE alert_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alert_rules
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rules TO orchestrix_app;

-- One row per pending or firing alert of a rule: what Prometheus keeps in memory and
-- restores from ALERTS_FOR_STATE, kept here so that the next (possibly cold) evaluation
-- continues from it.
CREATE TABLE alert_rule_states (
    tenant_id         text             NOT NULL,
    rule_id           text             NOT NULL,
    fingerprint       text             NOT NULL,
    labels            jsonb            NOT NULL,
    annotations       jsonb            NOT NULL,
    state             text             NOT NULL CHECK (state IN ('pending', 'firing')),
    active_at         timestamptz      NOT NULL,
    fired_at          timestamptz,
    last_seen_at      timestamptz      NOT NULL,
    keep_firing_since timestamptz,
    value             double precision NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, fingerprint),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES alert_rules (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE alert_rule_states ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alert_rule_states
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rule_states TO orchestrix_app;

CREATE TABLE alerts (
    tenant_id        text        NOT NULL REFERENCES tenants (id),
    id               text        NOT NULL,
    fingerprint      text        NOT NULL,
    status           text        NOT NULL
        CHECK (status IN ('firing', 'acknowledged', 'resolved', 'suppressed')),
    source           text        NOT NULL,
    name             text        NOT NULL,
    severity         text        NOT NULL,
    labels           jsonb       NOT NULL,
    annotations      jsonb       NOT NULL,
    value            double precision,
    rule_id          text,
    dedup_key        text,
    generator_url    text,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz,
    last_received_at timestamptz NOT NULL,
    occurrences      integer     NOT NULL DEFAULT 1,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    resolved_by      text,
    silenced_by      text[]      NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- At most one open alert per fingerprint: the database, not the code, guarantees dedup.
CREATE UNIQUE INDEX alerts_open_fingerprint ON alerts (tenant_id, fingerprint)
    WHERE status <> 'resolved';
CREATE INDEX alerts_by_fingerprint ON alerts (tenant_id, fingerprint, created_at DESC);
CREATE INDEX alerts_listing ON alerts (tenant_id, starts_at DESC, id DESC);
CREATE INDEX alerts_by_status ON alerts (tenant_id, status, starts_at DESC);
CREATE INDEX alerts_by_labels ON alerts USING gin (labels jsonb_path_ops);
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alerts
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON alerts TO orchestrix_app;

-- Every receipt of an alert (and every rule firing), so repeats are counted, not lost.
CREATE TABLE alert_occurrences (
    tenant_id   text        NOT NULL,
    alert_id    text        NOT NULL,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL,
    status      text        NOT NULL,
    source      text        NOT NULL,
    value       double precision,
    payload     jsonb,
    PRIMARY KEY (tenant_id, alert_id, seq),
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id)
);
ALTER TABLE alert_occurrences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alert_occurrences
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON alert_occurrences TO orchestrix_app;
