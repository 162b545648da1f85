"""The group-commit benchmark runs end to end at a tiny size (figures are not asserted)."""

from __future__ import annotations

import pytest
from benchmark_run import (
    RunBenchmark,
    run_benchmark_fixture,  # noqa: F401 - the run_benchmark fixture
)


@pytest.mark.whole_program
def test_group_commit_benchmark_runs(run_benchmark: RunBenchmark) -> None:
    stdout, document = run_benchmark(
        "benchmarks.group_commit", "--appends", "32", "--threads", "1,4"
    )
    assert "floor A =" in stdout
    assert document["floors"]["A_ed25519_verify_per_s"] > 0
    assert document["floors"]["ed25519_verify_cpu_us"] > 0
    rows = document["group_commit"]
    assert [row["threads"] for row in rows] == [1, 4]
    for row in rows:
        for name in (
            "group_commit_per_s",
            "group_commit_cpu_us_per_entry",
            "group_commit_writer_cpu_us_per_entry",
            "ledger_per_thread_per_s",
            "ledger_per_thread_cpu_us_per_entry",
        ):
            assert row[name] > 0, name
        assert 1.0 <= row["entries_per_commit"] <= row["threads"]
