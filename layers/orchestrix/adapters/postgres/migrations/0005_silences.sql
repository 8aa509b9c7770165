-- Silences and maintenance windows (Alertmanager semantics): alerts matching an active one
-- are recorded as suppressed and page no one.

CREATE TABLE silences (
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    id         text        NOT NULL,
    kind       text        NOT NULL DEFAULT 'silence' CHECK (kind IN ('silence', 'maintenance')),
    matchers   jsonb       NOT NULL,  -- [{"name": "alertname", "op": "=", "value": "X"}]
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    comment    text        NOT NULL DEFAULT '',
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at >= starts_at)
);
CREATE INDEX silences_by_end ON silences (tenant_id, ends_at DESC);
ALTER TABLE silences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON silences
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON silences TO orchestrix_app;
