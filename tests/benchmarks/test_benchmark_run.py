"""The smoke tests' runner fails the test with the benchmark's own error output."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_run import run_benchmark_module


def test_a_failed_benchmark_run_fails_with_its_error_output(tmp_path: Path) -> None:
    json_path = tmp_path / "figures.json"
    with pytest.raises(AssertionError, match="unrecognized arguments: --no-such-option"):
        run_benchmark_module("benchmarks.group_commit", "--no-such-option", json_path=json_path)
    assert not json_path.exists()
