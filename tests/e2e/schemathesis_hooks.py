"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS): remote write bodies are opaque
bytes to it, sent as they are generated."""

import schemathesis

schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@schemathesis.hook
def map_query(context, query):  # type: ignore[no-untyped-def]
    # A live tail (`/api/v1/logs/query?wait=`) holds a valid request up to 20 s: keep such
    # values valid but short, or the fuzzer spends its budget waiting.
    wait = (query or {}).get("wait")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 < wait <= 20:
        query["wait"] = min(wait, 0.1)
    return query
