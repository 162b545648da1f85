"""The village-year example runs offline and tells the story it promises."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "village_year.py"


def test_village_year_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT)])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    assert "revenue account holds 1,000,000.01 CNY" in out
    assert "Contract year 1 of 20" in out
    assert "investor inv:agri-partner    700,000.01 yuan" in out
    assert "refused: [not_authorized]" in out
    assert "inv:agri-partner       700,000.01 CNY" in out
    assert "audit passed" in out
    assert list(tmp_path.iterdir()) == []  # everything happened in a temporary folder
