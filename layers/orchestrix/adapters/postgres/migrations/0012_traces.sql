-- Traces: spans partitioned by UTC day of their start, and the running totals of the RED
-- metrics derived from them.
--
-- Times are OTLP's own unit, integer nanoseconds since the epoch (a bigint holds them until
-- 2262). Ids are the raw bytes (16 for a trace, 8 for a span). Attributes, events and links
-- keep OTLP's JSON form ({"key": ..., "value": {"stringValue": ...}}), so a trace goes out
-- again exactly as it came in, int64 and double values kept apart.
CREATE TABLE trace_spans (
    tenant_id      text     NOT NULL,
    trace_id       bytea    NOT NULL,
    span_id        bytea    NOT NULL,
    parent_span_id bytea,             -- NULL for a root span
    start_ns       bigint   NOT NULL,
    duration_ns    bigint   NOT NULL CHECK (duration_ns >= 0),
    service        text     NOT NULL, -- the resource's service.name
    name           text     NOT NULL,
    kind           smallint NOT NULL, -- OTLP SpanKind number
    status_code    smallint NOT NULL, -- OTLP Status.StatusCode number (2 = error)
    status_message text     NOT NULL DEFAULT '',
    trace_state    text     NOT NULL DEFAULT '',
    scope          jsonb    NOT NULL, -- {"name": ..., "version": ...}
    resource       jsonb    NOT NULL, -- OTLP attributes of the resource
    attributes     jsonb    NOT NULL,
    events         jsonb    NOT NULL,
    links          jsonb    NOT NULL,
    -- A span sent again (an exporter retrying after a lost response) is the same row: the
    -- writer inserts with ON CONFLICT DO NOTHING and derives metrics only from new rows.
    PRIMARY KEY (tenant_id, trace_id, span_id, start_ns)
) PARTITION BY RANGE (start_ns);
CREATE INDEX trace_spans_by_time ON trace_spans (tenant_id, start_ns);
CREATE INDEX trace_spans_by_service ON trace_spans (tenant_id, service, name, start_ns);
ALTER TABLE trace_spans ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON trace_spans
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT ON trace_spans TO orchestrix_app;

-- The cumulative value of each counter series derived from spans (calls, latency buckets,
-- service graph requests), keyed like metric_series. Each ingest adds its increments under
-- the row lock and gets back the new total with a timestamp later than the previous one, so
-- the samples written to the metric store are a proper Prometheus counter even when two
-- writers race.
CREATE TABLE span_metric_counters (
    tenant_id   text             NOT NULL,
    fingerprint bigint           NOT NULL,
    value       double precision NOT NULL,
    updated_ms  bigint           NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint)
);
ALTER TABLE span_metric_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON span_metric_counters
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON span_metric_counters TO orchestrix_app;

-- Partitions trace_spans_pYYYYMMDD, one per UTC day, created on demand by the writer
-- through this door (creating one needs the owner), serialised by an advisory lock.
CREATE FUNCTION orchestrix_ensure_span_partitions(p_from_ns bigint, p_to_ns bigint)
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
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_span_partitions'));
        FOR day IN first_day .. last_day LOOP
            name := 'trace_spans_p' || to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC',
                                               'YYYYMMDD');
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF trace_spans FOR VALUES FROM (%s) TO (%s)',
                    name, day * day_ns, (day + 1) * day_ns);
                created := created + 1;
            END IF;
        END LOOP;
        RETURN created;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_ensure_span_partitions(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_ensure_span_partitions(bigint, bigint) TO orchestrix_app;

-- Retention for every tenant at once: drop whole days that end at or before the cutoff.
CREATE FUNCTION orchestrix_drop_span_partitions(p_before_ns bigint)
    RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        part record;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_span_partitions'));
        FOR part IN
            SELECT c.relname
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'trace_spans'::regclass
              AND c.relname ~ '^trace_spans_p[0-9]{8}$'
              AND (extract(epoch FROM to_date(substr(c.relname, 14), 'YYYYMMDD'))::numeric
                   + 86400) * 1000000000 <= p_before_ns
            ORDER BY c.relname
        LOOP
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END LOOP;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_drop_span_partitions(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_drop_span_partitions(bigint) TO orchestrix_app;
