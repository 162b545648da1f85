"""Benchmarks for points_ledger: figures measured next to the machine's own floors."""
