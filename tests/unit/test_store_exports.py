"""Each store module's ``__all__`` lists every constant it defines for other modules.

A query constant left out of ``__all__`` still imports, but tools that read ``__all__``
(documentation, ``from … import *``, linters) miss it: ``ENTRY_SPAN``, ``SERVICES``,
``ACCOUNTS`` and ``KEYS`` were once missing from the SQLite report queries.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "points_ledger"

MODULES = (
    "store.sqlite.reports",
    "store.sqlite.schema",
    "store.postgres.reports",
    "store.postgres.schema",
)


def public_constants(path: Path) -> set[str]:
    """Module-level UPPER_CASE names assigned in ``path`` (not ``_private`` ones)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = list(node.targets)
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id.isupper()
                and not target.id.startswith("_")
            ):
                names.add(target.id)
    return names


@pytest.mark.parametrize("dotted", MODULES)
def test_all_lists_every_public_constant(dotted: str) -> None:
    path = PACKAGE.joinpath(*dotted.split(".")).with_suffix(".py")
    module = importlib.import_module(f"points_ledger.{dotted}")
    missing = public_constants(path) - set(module.__all__)
    assert not missing, f"points_ledger.{dotted}.__all__ misses {sorted(missing)}"
