"""The warehouse: one DuckDB file with raw, staging, core, marts, quarantine and meta layers."""
