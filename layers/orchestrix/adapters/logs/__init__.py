"""Log ingest decoders: OTLP/HTTP, Loki push and JSON lines, all into one `LogBatch`."""
