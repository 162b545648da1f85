"""The documentation site builds from docs/ with Sphinx, MyST and furo, warnings as errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.whole_program
def test_docs_site_builds_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for page in (
        "index.html",
        "howto/use-in-a-web-application.html",
        "reference/modules/export.html",
        "reference/events.html",
    ):
        assert (out / page).is_file(), page
    index = (out / "index.html").read_text("utf-8")
    assert "furo" in index and "points_ledger" in index
