"""One CDK construct per file, each built from `orchestrix.wiring`."""
