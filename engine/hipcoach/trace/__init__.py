"""Rule traces: writing and reading trace files, querying them, and WHY NOT."""
