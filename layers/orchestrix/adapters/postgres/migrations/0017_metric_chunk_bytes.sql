-- Chunk samples as raw bytes: `ts` the timestamps as big-endian int64s, `vals` the values as
-- big-endian IEEE doubles (bit for bit: staleness NaNs survive), eight bytes a sample.
--
-- As bigint[] and float8[] every read paid PostgreSQL's array_send, a function call per
-- element (~30 ns a sample, more than half of a long range query's time), and every slice
-- a copy of the array. A bytea goes out as it is stored, and with EXTERNAL storage (out of
-- line, never compressed) `substring` fetches only the pages of the slice it asks for.
-- Reads (metric_sql.SELECT_SAMPLES) estimate a window's slice from the chunk's first and
-- last timestamp and check the estimate client-side; compaction writes chunks as slices of
-- one big parameter and merges an hour's chunks by concatenation, as before.
CREATE FUNCTION orchestrix_tmp_int8_bytes(a bigint[]) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT coalesce(string_agg(int8send(x), ''::bytea ORDER BY i), ''::bytea)
          FROM unnest(a) WITH ORDINALITY AS u(x, i) $$;
CREATE FUNCTION orchestrix_tmp_float8_bytes(a double precision[]) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT coalesce(string_agg(float8send(x), ''::bytea ORDER BY i), ''::bytea)
          FROM unnest(a) WITH ORDINALITY AS u(x, i) $$;
ALTER TABLE metric_samples
    ALTER COLUMN ts TYPE bytea USING orchestrix_tmp_int8_bytes(ts),
    ALTER COLUMN vals TYPE bytea USING orchestrix_tmp_float8_bytes(vals);
ALTER TABLE metric_samples
    ALTER COLUMN ts SET STORAGE EXTERNAL,
    ALTER COLUMN vals SET STORAGE EXTERNAL;
DROP FUNCTION orchestrix_tmp_int8_bytes(bigint[]);
DROP FUNCTION orchestrix_tmp_float8_bytes(double precision[]);
-- Hour merges concatenate bytes now (string_agg).
DROP AGGREGATE orchestrix_array_cat_agg(anycompatiblearray);

-- Whether a chunk holds a sample in [lo, hi]: a binary search over its timestamps (the
-- first one >= lo, then is it <= hi). Only the listing calls (/series, /labels) ask it, of
-- the chunks that straddle their whole window.
CREATE FUNCTION orchestrix_chunk_has_sample(ts bytea, lo bigint, hi bigint) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    DECLARE
        a integer := 0;
        b integer := length(ts) / 8;
        m integer;
    BEGIN
        WHILE a < b LOOP
            m := (a + b) / 2;
            IF ('x' || encode(substring(ts FROM m * 8 + 1 FOR 8), 'hex'))::bit(64)::bigint < lo
            THEN
                a := m + 1;
            ELSE
                b := m;
            END IF;
        END LOOP;
        RETURN a < length(ts) / 8
           AND ('x' || encode(substring(ts FROM a * 8 + 1 FOR 8), 'hex'))::bit(64)::bigint <= hi;
    END
    $$;
GRANT EXECUTE ON FUNCTION orchestrix_chunk_has_sample(bytea, bigint, bigint) TO orchestrix_app;
