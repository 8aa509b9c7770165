"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS): remote write bodies are opaque
bytes to it, sent as they are generated."""

import schemathesis

schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")
