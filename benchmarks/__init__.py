"""Reproducible benchmarks: each prints machine-readable results and regenerates a table in docs/."""
