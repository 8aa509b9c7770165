-- Metrics head: a write appends one row per request, compaction moves rows into chunks.
--
-- Writing one chunk row per series per request made PostgreSQL's per-row cost (heap tuple,
-- primary-key entry, row-level security check) the floor of a remote write: 2,000 rows for
-- a request of 2,000 series x 1 sample. Like Prometheus' head block, a request now lands
-- as ONE row holding its columns (fingerprints, sample offsets, timestamps, values; see
-- metric_head.py for the layout), and compaction (metric_compaction.py) later moves a
-- tenant's head rows into per-series chunks of metric_samples in one transaction, merging
-- them with the chunks they overlap. Reads merge the head rows overlapping their window
-- with the chunks, so a sample is visible as soon as its write commits.
--
-- The primary key is the digest of the request's columns: a sender re-sending a request
-- it got no answer for adds nothing (INSERT ... ON CONFLICT DO NOTHING). `seq` orders the
-- writes: on equal timestamps the newer write wins.
CREATE TABLE metric_head (
    tenant_id  text        NOT NULL,
    digest     bytea       NOT NULL,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    min_ts     bigint      NOT NULL,
    max_ts     bigint      NOT NULL,
    series     integer     NOT NULL,
    samples    integer     NOT NULL,
    body       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, digest)
);
-- Out of line, uncompressed: the columns are mostly random bits (pglz would only burn CPU),
-- and reads fetch a prefix of the body (fingerprints and timestamps without the values)
-- with substring(), which PostgreSQL serves from an uncompressed value without reading it
-- all.
ALTER TABLE metric_head ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE metric_head ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON metric_head
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, DELETE ON metric_head TO orchestrix_app;

-- Per tenant, what compaction needs to remember:
-- - chunks_max_ts: the newest sample timestamp it ever wrote. Head data entirely newer than
--   that cannot overlap a stored chunk, which spares looking for overlaps (the steady state
--   of a live sender);
-- - open_windows: the starts of the hour windows in which chunks it wrote start, not merged
--   yet. Each compaction writes a chunk per series, so an hour may hold several small ones
--   per series; once the hour is over they are merged into one (reading an hour of data is
--   then one row per series, not one per compaction).
CREATE TABLE metric_compaction (
    tenant_id     text     PRIMARY KEY,
    chunks_max_ts bigint   NOT NULL,
    open_windows  bigint[] NOT NULL DEFAULT '{}'
);
ALTER TABLE metric_compaction ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON metric_compaction
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE ON metric_compaction TO orchestrix_app;
-- Compaction replaces the chunks it merges (head data overlapping them, an hour's chunks).
GRANT DELETE ON metric_samples TO orchestrix_app;

-- Merging an hour's chunks concatenates their arrays in time order (metric_head_sql.py).
CREATE AGGREGATE orchestrix_array_cat_agg(anycompatiblearray) (
    SFUNC = array_cat,
    STYPE = anycompatiblearray
);

-- A merged hour of a series (240 samples at a 15 s scrape interval: 3.9 kB) would cross the
-- 2 kB past which PostgreSQL compresses a row's arrays with pglz, which took longer than
-- the rest of the merge and every read after it decompresses again. Rows up to a page stay
-- as they are: more disk (16 bytes a sample), less CPU both ways. Existing and new day
-- partitions alike.
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'metric_samples'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %I SET (toast_tuple_target = 8160)', part.relname);
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION orchestrix_ensure_sample_partitions(p_from_ms bigint, p_to_ms bigint)
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
                    'CREATE TABLE %I PARTITION OF metric_samples FOR VALUES FROM (%s) TO (%s)'
                    ' WITH (toast_tuple_target = 8160)',
                    name, day * day_ms, (day + 1) * day_ms);
                created := created + 1;
            END IF;
        END LOOP;
        RETURN created;
    END
    $$;

-- Writers widen a series' bounds once an hour (metric_series_cache.py): room on the page
-- lets that update be a heap-only one, without new entries in the three indexes.
ALTER TABLE metric_series SET (fillfactor = 80);

-- Scheduled jobs compact every tenant whose head has waited long enough (a tenant that
-- stopped writing would otherwise keep its head forever): this door lists them, nothing
-- more.
CREATE FUNCTION orchestrix_metric_heads_older_than(p_seconds double precision)
    RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT tenant_id FROM metric_head
        GROUP BY tenant_id
        HAVING min(created_at) <= now() - make_interval(secs => p_seconds)
        ORDER BY tenant_id
    $$;
REVOKE ALL ON FUNCTION orchestrix_metric_heads_older_than(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orchestrix_metric_heads_older_than(double precision) TO orchestrix_app;

-- Retention now also forgets head rows whose every sample is past the cutoff (a row with
-- some recent samples stays; compaction stores its old ones in a re-created day partition
-- that the next run drops) and the open windows of dropped days.
CREATE OR REPLACE FUNCTION orchestrix_drop_sample_partitions(p_before_ms bigint)
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
        DELETE FROM metric_head WHERE max_ts < p_before_ms;
        UPDATE metric_compaction
        SET open_windows = ARRAY(SELECT w FROM unnest(open_windows) AS w
                                 WHERE w >= p_before_ms - 86400000 ORDER BY w)
        WHERE EXISTS (SELECT 1 FROM unnest(open_windows) AS w WHERE w < p_before_ms - 86400000);
        DELETE FROM metric_series WHERE last_ts < p_before_ms - 3600000;
    END
    $$;
