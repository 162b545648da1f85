"""Smoke test for scripts/mutants.py: every mutant pattern still matches src/ once.

The mutants themselves are not run here (each needs its own pytest run); run
``python scripts/mutants.py`` for that.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutants.py"


def test_mutant_patterns_match_the_source() -> None:
    spec = importlib.util.spec_from_file_location("mutants", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutants"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.pattern_problems() == []
    assert len(module.MUTANTS) >= 5
    for mutant in module.MUTANTS:
        for test in mutant.tests:
            assert (SCRIPT.parents[1] / test.split("::")[0]).is_file(), test
