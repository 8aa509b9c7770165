-- Post-mortems: one per incident, drafted from what the incident recorded (its timeline,
-- alerts and workflow executions, kept as `evidence` when drafted), with the contributing
-- factors and action items people add, and per-tenant markdown templates to export them.

CREATE TABLE postmortems (
    tenant_id            text NOT NULL REFERENCES tenants (id),
    id                   text NOT NULL,
    incident_id          text NOT NULL,
    status               text NOT NULL CHECK (status IN ('draft', 'in_review', 'published')),
    title                text NOT NULL,
    narrative            text NOT NULL,
    -- who wrote the narrative: the deterministic writer, a language model, or a person
    narrative_source     text NOT NULL CHECK (narrative_source IN ('deterministic', 'model',
                                                                   'edited')),
    model_id             text,
    contributing_factors jsonb NOT NULL DEFAULT '[]',
    evidence             jsonb NOT NULL,
    drafted_at           timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    created_by           text NOT NULL,
    updated_at           timestamptz NOT NULL,
    published_at         timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, incident_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
ALTER TABLE postmortems ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON postmortems
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON postmortems TO orchestrix_app;

-- `overdue_notified_for` is the due date whose miss was published: the daily job publishes
-- `postmortem.action_item.overdue` once per item and due date (moving the date re-arms it).
CREATE TABLE postmortem_action_items (
    tenant_id            text NOT NULL,
    id                   text NOT NULL,
    postmortem_id        text NOT NULL,
    position             integer NOT NULL,
    title                text NOT NULL,
    owner_member_id      text NOT NULL,
    due_date             date NOT NULL,
    status               text NOT NULL CHECK (status IN ('open', 'done')),
    created_at           timestamptz NOT NULL,
    completed_at         timestamptz,
    overdue_notified_for date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, postmortem_id) REFERENCES postmortems (tenant_id, id)
);
CREATE INDEX postmortem_action_items_of ON postmortem_action_items
    (tenant_id, postmortem_id, position);
-- The daily overdue sweep reads only open items not yet flagged for their due date.
CREATE INDEX postmortem_action_items_open ON postmortem_action_items (tenant_id, due_date)
    WHERE status = 'open';
ALTER TABLE postmortem_action_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON postmortem_action_items
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON postmortem_action_items TO orchestrix_app;

CREATE TABLE postmortem_templates (
    tenant_id  text PRIMARY KEY REFERENCES tenants (id),
    body       text NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
ALTER TABLE postmortem_templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON postmortem_templates
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON postmortem_templates TO orchestrix_app;
