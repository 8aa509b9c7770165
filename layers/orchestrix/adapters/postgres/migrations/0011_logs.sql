-- Logs: streams (a label set, as Loki has them) and their lines, partitioned by UTC day.
--
-- Timestamps are integer nanoseconds since the epoch, the unit of OTLP and Loki, so a line
-- goes in and comes back out bit-exact. A stream is identified within its tenant by the
-- 64-bit fingerprint of its sorted label set (computed by the ingest path).

CREATE TABLE log_streams (
    tenant_id text   NOT NULL,
    stream_id bigint NOT NULL,
    labels    jsonb  NOT NULL,  -- {"service_name": "api", "deployment_environment": "prod"}
    first_ts  bigint NOT NULL,
    last_ts   bigint NOT NULL,
    PRIMARY KEY (tenant_id, stream_id)
);
CREATE INDEX log_streams_by_labels ON log_streams USING gin (labels jsonb_path_ops);
ALTER TABLE log_streams ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON log_streams
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON log_streams TO orchestrix_app;

-- One row per line. `id` orders lines with the same timestamp (and makes cursors exact);
-- `metadata` holds what is not a stream label: severity, trace and span ids, attributes.
-- `tsv` serves full-text search (`q=`); the `simple` configuration keeps every token as
-- written (no stemming, no stop words: log lines are not prose).
CREATE SEQUENCE log_entries_id_seq;
CREATE TABLE log_entries (
    tenant_id text   NOT NULL,
    ts        bigint NOT NULL,
    stream_id bigint NOT NULL,
    id        bigint NOT NULL DEFAULT nextval('log_entries_id_seq'),
    line      text   NOT NULL,
    metadata  jsonb,
    tsv       tsvector GENERATED ALWAYS AS (to_tsvector('simple', left(line, 65536))) STORED
) PARTITION BY RANGE (ts);
CREATE INDEX log_entries_by_time ON log_entries (tenant_id, ts, id);
CREATE INDEX log_entries_by_stream ON log_entries (tenant_id, stream_id, ts, id);
CREATE INDEX log_entries_text ON log_entries USING gin (tsv);
ALTER TABLE log_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON log_entries
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON log_entries TO orchestrix_app;
GRANT USAGE ON SEQUENCE log_entries_id_seq TO orchestrix_app;

-- Substring and regex search (`|= "timeout"`) use a trigram index where pg_trgm exists
-- (Aurora PostgreSQL ships it). The embedded PostgreSQL of the local runtime has no
-- pg_trgm: there such a search scans the lines the time range and stream labels select.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX log_entries_trigrams ON log_entries USING gin (line gin_trgm_ops);
    END IF;
END
$$;

-- Creating a partition needs the table owner; the application gets exactly this door.
-- Partitions are named log_entries_pYYYYMMDD and cover one UTC day.
CREATE FUNCTION orchestrix_ensure_log_partitions(p_from_ns bigint, p_to_ns bigint)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        day_ns constant bigint := 86400000000000;
        first_day bigint := floor(p_from_ns::numeric / day_ns);
        last_day bigint := floor(p_to_ns::numeric / day_ns);
        day bigint;
        name text;
        created integer := 0;
    BEGIN
        IF last_day - first_day > 400 THEN
            RAISE EXCEPTION 'refusing to create % daily partitions at once', last_day - first_day
                USING ERRCODE = 'program_limit_exceeded';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_log_partitions'));
        FOR day IN first_day .. last_day LOOP
            name := 'log_entries_p' || to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC',
                                               'YYYYMMDD');
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF log_entries FOR VALUES FROM (%s) TO (%s)',
                    name, day * day_ns, (day + 1) * day_ns);
                created := created + 1;
            END IF;
        END LOOP;
        RETURN created;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_ensure_log_partitions(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_ensure_log_partitions(bigint, bigint) TO orchestrix_app;

-- Retention for every tenant at once: drop whole days that end at or before the cutoff,
-- then forget streams with no line left.
CREATE FUNCTION orchestrix_drop_log_partitions(p_before_ns bigint)
    RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        part record;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_log_partitions'));
        FOR part IN
            SELECT c.relname
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'log_entries'::regclass
              AND c.relname ~ '^log_entries_p[0-9]{8}$'
              AND (extract(epoch FROM to_date(substr(c.relname, 14), 'YYYYMMDD'))::numeric
                   + 86400) * 1000000000 <= p_before_ns
            ORDER BY c.relname
        LOOP
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END LOOP;
        DELETE FROM log_streams WHERE last_ts < p_before_ns;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_drop_log_partitions(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_drop_log_partitions(bigint) TO orchestrix_app;

-- Log rules: an alert rule whose expression is LogQL (count of matching lines over a
-- window) rather than PromQL. Evaluated by the same engine, firing the same alerts.
ALTER TABLE alert_rules ADD COLUMN language text NOT NULL DEFAULT 'promql'
    CHECK (language IN ('promql', 'logql'));
