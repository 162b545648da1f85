"""Run examples/audit_and_receipts.py as a real process and check its story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "audit_and_receipts.py"


def test_audit_and_receipts_example_runs(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "receipt checks out: entry 5 (award-0) gave 5 points" in out
    assert "doctored receipt refused: [integrity_failure]" in out
    assert "witness refused: [equivocation]" in out
    assert "witness refused again: [proof_invalid]" in out
    assert "log key record refused to sign: entry 8 is not what it signed" in out
    assert "truncation caught: the file has 20 entries but the trusted checkpoint covers 25" in out
    assert "the log key's record names it: entry 20 onwards is missing" in out
    assert list(tmp_path.iterdir()) == []  # works in its own temporary folder


def test_example_docstring_lists_its_contents() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    assert "Contents:" in source
    assert "a witness catches a rewrite" in source
