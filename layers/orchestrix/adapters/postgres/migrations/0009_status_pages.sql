-- Status pages: public pages of components (in groups) whose status follows incidents,
-- the page's own incidents and scheduled maintenances with their updates, the history of
-- each component's status (for the 90-day uptime bars) and the page's subscribers.

CREATE TABLE status_pages (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    slug        text NOT NULL,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    branding    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Public URLs name a page by slug alone, so a slug is unique across tenants.
CREATE UNIQUE INDEX status_pages_slug ON status_pages (slug);
CREATE INDEX status_pages_listing ON status_pages (tenant_id, created_at DESC, id DESC);
ALTER TABLE status_pages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_pages
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_pages TO orchestrix_app;

-- The public routes meet a slug before they know the tenant: this definer-rights function
-- is the one narrow door through RLS, answering only which tenant owns that exact slug.
CREATE FUNCTION orchestrix_status_page_tenant(p_slug text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT p.tenant_id FROM status_pages p WHERE p.slug = p_slug $$;
REVOKE ALL ON FUNCTION orchestrix_status_page_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_status_page_tenant(text) TO orchestrix_app;

CREATE TABLE status_component_groups (
    tenant_id  text NOT NULL,
    id         text NOT NULL,
    page_id    text NOT NULL,
    name       text NOT NULL,
    position   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, page_id) REFERENCES status_pages (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE status_component_groups ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_component_groups
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_component_groups TO orchestrix_app;

CREATE TABLE status_components (
    tenant_id   text NOT NULL,
    id          text NOT NULL,
    page_id     text NOT NULL,
    group_id    text,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    position    integer NOT NULL DEFAULT 0,
    status      text NOT NULL CHECK (status IN ('operational', 'degraded_performance',
                    'partial_outage', 'major_outage', 'under_maintenance')),
    -- Incidents of these services or of alerts from these rules move the component.
    services    text[] NOT NULL DEFAULT '{}',
    rule_ids    text[] NOT NULL DEFAULT '{}',
    impact      text NOT NULL
        CHECK (impact IN ('degraded_performance', 'partial_outage', 'major_outage')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, page_id) REFERENCES status_pages (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, group_id) REFERENCES status_component_groups (tenant_id, id)
        ON DELETE SET NULL (group_id)
);
CREATE INDEX status_components_page ON status_components (tenant_id, page_id, position, id);
CREATE INDEX status_components_services ON status_components USING gin (services);
CREATE INDEX status_components_rules ON status_components USING gin (rule_ids);
ALTER TABLE status_components ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_components
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_components TO orchestrix_app;

-- Every status a component takes, from the moment it takes it: the uptime bars read this.
CREATE TABLE status_component_changes (
    tenant_id    text NOT NULL,
    component_id text NOT NULL,
    at           timestamptz NOT NULL,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    status       text NOT NULL,
    PRIMARY KEY (tenant_id, component_id, at, seq),
    FOREIGN KEY (tenant_id, component_id) REFERENCES status_components (tenant_id, id)
        ON DELETE CASCADE
);
ALTER TABLE status_component_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_component_changes
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, DELETE ON status_component_changes TO orchestrix_app;

-- What the page tells: incidents (kind 'incident') and scheduled maintenances. An incident
-- raised by an Orchestrix incident keeps its id in incident_id, which is never shown.
CREATE TABLE status_page_incidents (
    tenant_id       text NOT NULL,
    id              text NOT NULL,
    page_id         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('incident', 'maintenance')),
    name            text NOT NULL,
    status          text NOT NULL CHECK (status IN ('investigating', 'identified',
                        'monitoring', 'resolved', 'scheduled', 'in_progress', 'completed')),
    impact          text NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical',
                        'maintenance')),
    components      jsonb NOT NULL DEFAULT '{}',  -- component id -> status while it lasts
    incident_id     text,
    scheduled_for   timestamptz,
    scheduled_until timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, page_id) REFERENCES status_pages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX status_page_incidents_listing
    ON status_page_incidents (tenant_id, page_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX status_page_incidents_of_incident
    ON status_page_incidents (tenant_id, page_id, incident_id) WHERE incident_id IS NOT NULL;
ALTER TABLE status_page_incidents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_page_incidents
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_page_incidents TO orchestrix_app;

CREATE TABLE status_page_updates (
    tenant_id   text NOT NULL,
    id          text NOT NULL,
    incident_id text NOT NULL,
    status      text NOT NULL,
    body        text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES status_page_incidents (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX status_page_updates_of ON status_page_updates (tenant_id, incident_id, created_at);
ALTER TABLE status_page_updates ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_page_updates
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, DELETE ON status_page_updates TO orchestrix_app;

-- Subscribers confirm by the token sent to them (only its hash is kept); `sealed` holds the
-- KMS-sealed webhook signing secret and unsubscribe token, needed again at every send.
CREATE TABLE status_subscribers (
    tenant_id         text NOT NULL,
    id                text NOT NULL,
    page_id           text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address           text NOT NULL,
    component_ids     text[] NOT NULL DEFAULT '{}',
    status            text NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    confirm_hash      text NOT NULL,
    unsubscribe_hash  text NOT NULL,
    sealed            bytea NOT NULL,
    created_at        timestamptz NOT NULL,
    confirmed_at      timestamptz,
    unsubscribed_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, page_id) REFERENCES status_pages (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX status_subscribers_confirm ON status_subscribers (tenant_id, confirm_hash);
CREATE UNIQUE INDEX status_subscribers_unsubscribe
    ON status_subscribers (tenant_id, unsubscribe_hash);
-- One live subscription per address and page: subscribing again sends no second confirmation.
CREATE UNIQUE INDEX status_subscribers_address ON status_subscribers (tenant_id, page_id, channel, address)
    WHERE status <> 'unsubscribed';
CREATE INDEX status_subscribers_listing
    ON status_subscribers (tenant_id, page_id, created_at DESC, id DESC);
ALTER TABLE status_subscribers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON status_subscribers
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON status_subscribers TO orchestrix_app;
