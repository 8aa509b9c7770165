-- A line is stored once per stream and timestamp, as Loki keeps it: a push sent again (a
-- Promtail, Alloy or OpenTelemetry exporter retrying after a timeout whose first attempt
-- did commit) used to store every line twice. Lines equal in stream, nanosecond timestamp
-- and text are the same line; the insert skips them (ON CONFLICT DO NOTHING).
--
-- First the duplicates already stored go, keeping the earliest row of each. The index
-- holds the text's MD5 rather than the text: lines can be long, and the partition key
-- (`ts`) must be part of a unique index on a partitioned table, which it is.
DELETE FROM log_entries AS later
USING log_entries AS earlier
WHERE later.tenant_id = earlier.tenant_id
  AND later.stream_id = earlier.stream_id
  AND later.ts = earlier.ts
  AND later.line = earlier.line
  AND later.id > earlier.id;

CREATE UNIQUE INDEX log_entries_once ON log_entries (tenant_id, stream_id, ts, md5(line));
