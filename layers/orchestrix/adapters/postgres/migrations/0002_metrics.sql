-- Metrics: series, samples partitioned by day, metric metadata.
--
-- Timestamps are Prometheus' own unit, integer milliseconds since the epoch, so samples go
-- in and out bit-exact without conversion. A series is identified within its tenant by the
-- 64-bit fingerprint of its sorted label set (computed by the ingest path).

CREATE TABLE metric_series (
    tenant_id   text   NOT NULL,
    fingerprint bigint NOT NULL,
    metric_name text   NOT NULL,
    labels      jsonb  NOT NULL,  -- {"__name__": "up", "job": "x", ...}
    -- Sample-time bounds, kept as a superset of the truth: the writer widens them only when
    -- a batch falls outside [first_ts, last_ts + 1 h], so steady-state ingest skips the row.
    first_ts    bigint NOT NULL,
    last_ts     bigint NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint)
);
CREATE INDEX metric_series_by_name ON metric_series (tenant_id, metric_name);
CREATE INDEX metric_series_by_labels ON metric_series USING gin (labels jsonb_path_ops);
ALTER TABLE metric_series ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON metric_series
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON metric_series TO orchestrix_app;

-- Samples are stored in chunks: one row per series per write and UTC day, holding the
-- batch's timestamps and values as arrays (sorted by time, no duplicate timestamp). A
-- remote write of 10,000 series x 10 samples is then 10,000 rows instead of 100,000, which
-- is what makes ingest fast: heap tuples and primary-key entries per sample were its cost.
-- The primary key makes a re-sent batch a no-op instead of duplicates; a different batch
-- starting at the same time is merged into the stored chunk (see metric_sql.py). Chunks
-- never cross midnight, so a chunk touching [start, end] has first_ts in
-- [start - 1 day, end] and partition pruning works on first_ts alone.
-- Partitions (one per UTC day of first_ts) are created on demand and dropped whole.
CREATE TABLE metric_samples (
    tenant_id   text               NOT NULL,
    fingerprint bigint             NOT NULL,
    first_ts    bigint             NOT NULL,
    last_ts     bigint             NOT NULL,
    ts          bigint[]           NOT NULL,
    vals        double precision[] NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint, first_ts)
) PARTITION BY RANGE (first_ts);
ALTER TABLE metric_samples ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON metric_samples
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON metric_samples TO orchestrix_app;

CREATE TABLE metric_metadata (
    tenant_id  text        NOT NULL,
    family     text        NOT NULL,
    type       text        NOT NULL,
    help       text        NOT NULL,
    unit       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, family)
);
ALTER TABLE metric_metadata ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON metric_metadata
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON metric_metadata TO orchestrix_app;

-- Creating a partition needs the table owner; the application gets exactly this door.
-- Partitions are named metric_samples_pYYYYMMDD and cover one UTC day. The advisory lock
-- serialises concurrent writers racing to create the same day. At most 400 days per call:
-- a batch spanning more is refused by the caller before it gets here.
CREATE FUNCTION orchestrix_ensure_sample_partitions(p_from_ms bigint, p_to_ms bigint)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        day_ms constant bigint := 86400000;
        first_day bigint := floor(p_from_ms::numeric / day_ms);
        last_day bigint := floor(p_to_ms::numeric / day_ms);
        day bigint;
        name text;
        created integer := 0;
    BEGIN
        IF last_day - first_day > 400 THEN
            RAISE EXCEPTION 'refusing to create % daily partitions at once', last_day - first_day
                USING ERRCODE = 'program_limit_exceeded';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_sample_partitions'));
        FOR day IN first_day .. last_day LOOP
            name := 'metric_samples_p' || to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC',
                                                  'YYYYMMDD');
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF metric_samples FOR VALUES FROM (%s) TO (%s)',
                    name, day * day_ms, (day + 1) * day_ms);
                created := created + 1;
            END IF;
        END LOOP;
        RETURN created;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_ensure_sample_partitions(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_ensure_sample_partitions(bigint, bigint) TO orchestrix_app;

-- Retention for every tenant at once: drop whole days that end at or before the cutoff
-- (no row-by-row DELETE, no vacuum debt), then forget series with no sample left.
CREATE FUNCTION orchestrix_drop_sample_partitions(p_before_ms bigint)
    RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        part record;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('orchestrix_sample_partitions'));
        FOR part IN
            SELECT c.relname
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'metric_samples'::regclass
              AND c.relname ~ '^metric_samples_p[0-9]{8}$'
              AND (extract(epoch FROM to_date(substr(c.relname, 17), 'YYYYMMDD'))::bigint
                   + 86400) * 1000 <= p_before_ms
            ORDER BY c.relname
        LOOP
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END LOOP;
        DELETE FROM metric_series WHERE last_ts < p_before_ms - 3600000;
    END
    $$;
REVOKE ALL ON FUNCTION orchestrix_drop_sample_partitions(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_drop_sample_partitions(bigint) TO orchestrix_app;
