"""The benchmark runs end to end at its smallest size (figures are not asserted)."""

from __future__ import annotations

import pytest
from benchmark_run import (
    RunBenchmark,
    run_benchmark_fixture,  # noqa: F401 - the run_benchmark fixture
)


@pytest.mark.whole_program
def test_benchmark_runs_at_smallest_size(run_benchmark: RunBenchmark) -> None:
    stdout, document = run_benchmark(
        "benchmarks", "--sizes", "400", "--batches", "1", "--group-appends", "32"
    )
    assert "floors: A =" in stdout
    assert set(document["floors"]) == {
        "A_ed25519_verify_per_s",
        "B_durable_commit_per_s",
        "C_batched_insert_per_s",
        "T_ed25519_two_threads_per_s",
    }
    figures = document["sizes"]["400"]
    for name in (
        "append_per_s",
        "append_many_per_s",
        "verify_per_s",
        "balance_p50_us",
        "statement_100_p50_us",
        "open_p50_us",
        "prove_inclusion_p50_us",
        "prove_consistency_p50_us",
        "checkpoint_ms",
        "verify_peak_rss_mb",
        "bytes_per_entry",
        "append_cpu_us_per_entry",
        "append_many_cpu_us_per_entry",
        "verify_cpu_us_per_entry",
        "group_commit_per_s",
        "group_commit_cpu_us_per_entry",
        "group_commit_writer_cpu_us_per_entry",
    ):
        assert figures[name] > 0, name
    # Sixteen threads through one writer: 32 awards in fewer commits than entries.
    assert figures["group_commit_threads"] == 16
    assert 1.0 <= figures["group_commit_entries_per_commit"] <= 16
    assert (
        figures["group_commit_writer_cpu_us_per_entry"] < figures["group_commit_cpu_us_per_entry"]
    )
    assert "group_commit_per_s" in stdout and "   A (" in stdout
    assert "   T (" in stdout  # verify_per_s as a ratio to the two-thread floor
    # Beancount is an optional peer: measured where installed, else skipped with a reason.
    assert figures.get("beancount_per_s", 0) > 0 or "not installed" in figures["beancount_skipped"]
    assert figures["entries"] >= 400
    # 400 + 300 single appends + one batch of 1,000 were verified: below 4,096 entries
    # verify() starts no signature helper, so it has no memory.
    assert figures["verify_entries"] == figures["entries"] + 300 + 1000
    assert figures["verify_helper_peak_rss_mb"] == 0


@pytest.mark.whole_program
def test_benchmark_runs_on_postgresql_too(
    run_benchmark: RunBenchmark, postgres_server: str
) -> None:
    stdout, document = run_benchmark(
        "benchmarks",
        *("--sizes", "300", "--batches", "1", "--processes", "2"),
        *("--postgres", postgres_server),
        timeout=900,
    )
    assert "PostgreSQL (same workload" in stdout
    figures = document["postgres_sizes"]["300"]
    assert figures["verify_entries"] == figures["entries"] + 1300
    assert figures["concurrent_append_per_s"] > 0
