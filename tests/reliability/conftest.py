"""Fixtures for the reliability scenarios: figures reporting and shared ledger files.

Each scenario runs at SMALL size in the normal suite and at LARGE size under
``python -m pytest -m soak`` (the default run deselects ``soak``). Both print their
figures through :func:`report`, which writes past pytest's capture so soak runs show them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIGURES_FILE_ENV = "POINTS_LEDGER_FIGURES"
"""If set, figures are also appended as JSON lines to this file."""


@pytest.fixture
def report(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> Callable[..., None]:
    def emit(scenario: str, **figures: Any) -> None:
        text = ", ".join(f"{k}={v}" for k, v in figures.items())
        with capsys.disabled():
            print(f"\n[figures] {scenario} ({request.node.name}): {text}", flush=True)
        target = os.environ.get(FIGURES_FILE_ENV)
        if target:
            line = {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "test": request.node.nodeid,
                "scenario": scenario,
                **figures,
            }
            with Path(target).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str) + "\n")

    return emit
