-- People (members, teams), on-call schedules and overrides, and the notification log.

CREATE TABLE members (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    id              text NOT NULL,
    name            text NOT NULL,
    subject         text,
    -- The full member (contact methods included) sealed with the tenant's data key:
    -- Slack/Teams URLs and webhook signing keys are secrets.
    sealed          bytea NOT NULL,
    -- The same member with secrets masked, for listing without decrypting.
    shown           jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX members_subject ON members (tenant_id, subject) WHERE subject IS NOT NULL;
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON members
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON members TO orchestrix_app;

CREATE TABLE teams (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON teams
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON teams TO orchestrix_app;

CREATE TABLE team_members (
    tenant_id text NOT NULL REFERENCES tenants (id),
    team_id   text NOT NULL,
    member_id text NOT NULL,
    position  int NOT NULL,
    PRIMARY KEY (tenant_id, team_id, member_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_member ON team_members (tenant_id, member_id);
ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON team_members
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON team_members TO orchestrix_app;

CREATE TABLE oncall_schedules (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    id         text NOT NULL,
    name       text NOT NULL,
    definition jsonb NOT NULL,          -- the domain Schedule model
    member_ids text[] NOT NULL,         -- every member the layers name, for reference checks
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX oncall_schedules_members ON oncall_schedules USING gin (member_ids);
ALTER TABLE oncall_schedules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oncall_schedules
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON oncall_schedules TO orchestrix_app;

CREATE TABLE oncall_overrides (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    schedule_id text NOT NULL,
    member_id   text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES oncall_schedules (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX oncall_overrides_window ON oncall_overrides (tenant_id, schedule_id, ends_at);
ALTER TABLE oncall_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oncall_overrides
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON oncall_overrides TO orchestrix_app;

CREATE TABLE notifications (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    id              text NOT NULL,
    idempotency_key text NOT NULL,
    member_id       text,               -- no FK: the log outlives deleted members
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'slack', 'teams', 'webhook')),
    target          text NOT NULL,      -- masked where the address is a secret
    sealed_channel  bytea NOT NULL,     -- the full address and signing key, encrypted
    urgency         text NOT NULL CHECK (urgency IN ('high', 'low')),
    title           text NOT NULL,
    body            text NOT NULL,
    links           jsonb NOT NULL,
    context         jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        int NOT NULL DEFAULT 0,
    error           text,
    not_before      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    actor           text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- The guarantee behind "never sent twice": one row per key, and `deliver` locks it.
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX notifications_recent ON notifications (tenant_id, created_at DESC, id DESC);
CREATE INDEX notifications_pending_context ON notifications USING gin (context)
    WHERE status = 'pending';
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON notifications TO orchestrix_app;
