"""OTLP/HTTP trace ingest (`POST /v1/traces`) and the OTLP/Tempo shapes traces go out in."""

from orchestrix.adapters.traces.errors import OtlpIngestError
from orchestrix.adapters.traces.request import OtlpLimits, decode_export

__all__ = ["OtlpIngestError", "OtlpLimits", "decode_export"]
