"""The group-commit benchmark runs end to end at a tiny size (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.whole_program
def test_group_commit_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "gc.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.group_commit",
            "--appends",
            "32",
            "--threads",
            "1,4",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "floor A =" in done.stdout
    document = json.loads(out.read_text("utf-8"))
    assert document["floors"]["A_ed25519_verify_per_s"] > 0
    assert document["floors"]["ed25519_verify_cpu_us"] > 0
    rows = document["group_commit"]
    assert [row["threads"] for row in rows] == [1, 4]
    for row in rows:
        for name in (
            "group_commit_per_s",
            "group_commit_cpu_us_per_entry",
            "ledger_per_thread_per_s",
            "ledger_per_thread_cpu_us_per_entry",
        ):
            assert row[name] > 0, name
        assert 1.0 <= row["entries_per_commit"] <= row["threads"]
