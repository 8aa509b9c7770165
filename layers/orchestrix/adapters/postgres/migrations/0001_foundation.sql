-- Foundation: tenants, the application role, API keys and the append-only audit log.
--
-- Tenancy model: every tenant-owned table carries tenant_id and a row-level-security policy
-- comparing it with the transaction-local setting app.tenant_id. The application runs as
-- orchestrix_app, which owns nothing, so the policies always apply to it; an unset tenant
-- matches no row (current_setting(..., true) is NULL), so a forgotten SET fails closed.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orchestrix_app') THEN
        CREATE ROLE orchestrix_app NOLOGIN;
    END IF;
END
$$;
GRANT orchestrix_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO orchestrix_app;

CREATE FUNCTION orchestrix_current_tenant() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT current_setting('app.tenant_id', true) $$;

CREATE TABLE tenants (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = orchestrix_current_tenant()) WITH CHECK (id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON tenants TO orchestrix_app;

CREATE TABLE api_keys (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    id           text NOT NULL,
    name         text NOT NULL,
    scopes       text[] NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX api_keys_listing ON api_keys (tenant_id, created_at DESC, id DESC);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys TO orchestrix_app;

-- The authorizer meets a key before it knows the tenant: this definer-rights function is the
-- one narrow door through RLS, answering only for the exact hash it is given.
CREATE FUNCTION orchestrix_resolve_api_key(p_hash text)
    RETURNS TABLE (tenant_id text, id text, scopes text[], expires_at timestamptz,
                   revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT k.tenant_id, k.id, k.scopes, k.expires_at, k.revoked_at
        FROM api_keys k WHERE k.secret_hash = p_hash
    $$;
REVOKE ALL ON FUNCTION orchestrix_resolve_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_resolve_api_key(text) TO orchestrix_app;

CREATE TABLE audit_log (
    tenant_id     text NOT NULL,
    id            text NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text NOT NULL,
    before        jsonb,
    after         jsonb,
    request_id    text,
    at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_listing ON audit_log (tenant_id, at DESC, id DESC);
CREATE INDEX audit_log_resource ON audit_log (tenant_id, resource_type, resource_id);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON audit_log TO orchestrix_app;

-- Append-only, whoever asks: the grant above keeps the application out, this trigger keeps
-- everyone else (table owner included) from rewriting history.
CREATE FUNCTION orchestrix_audit_is_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION orchestrix_audit_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION orchestrix_audit_is_append_only();

-- Scheduled jobs (housekeeping, rule evaluation) run for every tenant: they list tenants
-- through this function, then do each tenant's work under that tenant's RLS scope.
CREATE FUNCTION orchestrix_tenant_ids() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id FROM tenants ORDER BY id $$;
REVOKE ALL ON FUNCTION orchestrix_tenant_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_tenant_ids() TO orchestrix_app;
