"""Generated Prometheus remote-write protobuf code (see remote.proto)."""
