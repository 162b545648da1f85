"""The community example script runs offline and tells the story it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "community_story.py"


def run_story(tmp_path: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_community_story_example_runs(tmp_path: Path) -> None:
    out = run_story(tmp_path)
    assert "[hold_expired]" in out
    assert "Charity pool: in 60, out 40, balance 20" in out
    assert "80 points x 5 fen = 4.00 CNY" in out
    assert "ok=True" in out
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_the_same_story_runs_unchanged_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    on_file = run_story(tmp_path)
    on_postgres = run_story(tmp_path, postgres_url)
    assert "Charity pool: in 60, out 40, balance 20" in on_postgres
    assert "ok=True" in on_postgres
    # Word for word: every report, statement and the audit's verdict.
    assert on_postgres == on_file
    assert list(tmp_path.iterdir()) == []


def test_example_has_contents() -> None:
    assert "Contents:" in SCRIPT.read_text(encoding="utf-8")
