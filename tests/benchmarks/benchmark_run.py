"""The benchmark smoke tests' shared set-up: run a benchmark module, read its JSON.

The fixture lives in each test file as ``from benchmark_run import run_benchmark_fixture``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

RunBenchmark = Callable[..., tuple[str, dict[str, Any]]]
"""``run_benchmark(module, *args, timeout=600)``: the module's printout and JSON document."""


def run_benchmark_module(
    module: str, *args: str, json_path: Path, timeout: float = 600
) -> tuple[str, dict[str, Any]]:
    """Run ``python -m module *args --json json_path`` from the project root.

    Returns what it printed and the JSON document it wrote; a failed run fails the test
    with its error output.
    """
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--json", str(json_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(json_path.read_text("utf-8"))
    return done.stdout, document


@pytest.fixture(name="run_benchmark")
def run_benchmark_fixture(tmp_path: Path) -> RunBenchmark:
    """Run a benchmark module with its JSON written into the test's own folder."""

    def run(module: str, *args: str, timeout: float = 600) -> tuple[str, dict[str, Any]]:
        return run_benchmark_module(
            module, *args, json_path=tmp_path / "figures.json", timeout=timeout
        )

    return run
