"""Import arrows point down: faces → facade → rules → models, and stores below the rules.

Read from the source with ``ast`` (nothing is imported), so an import hidden inside a
function or behind ``TYPE_CHECKING`` counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "points_ledger"

RULES = ("points_ledger.domain", "points_ledger.engine", "points_ledger.policy")
FACES = ("points_ledger.cli", "points_ledger.repl", "points_ledger.demo")
ABOVE_STORES = (
    *RULES,
    *FACES,
    "points_ledger.keys",
    "points_ledger.ledger",
    "points_ledger.audit",
    "points_ledger.transparency",
    "points_ledger.reports",
    "points_ledger.anchoring",
    "points_ledger.genesis",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (``from . import x`` resolved)."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    return imports_in(path.read_text("utf-8"), package)


def imports_in(source: str, package: str) -> set[str]:
    """Every module ``source`` (a module of ``package``) imports, and every name it takes."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules(under: str = "") -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py"))


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_import_reader_sees_every_form() -> None:
    # The checks below are only as good as this reader: it must see plain, from, relative
    # and nested imports.
    source = (
        "import sqlite3\n"
        "from points_ledger.models import state\n"
        "from ..domain import admin\n"
        "from . import memory\n"
        "def f():\n"
        "    import points_ledger.engine\n"
    )
    found = imports_in(source, "points_ledger.store")
    assert {
        "sqlite3",
        "points_ledger.models.state",
        "points_ledger.domain.admin",
        "points_ledger.store.memory",
        "points_ledger.engine",
    } <= found
    assert within("points_ledger.domain.admin", RULES)
    assert not within("points_ledger.domainx", RULES)


@pytest.mark.parametrize("path", modules("store"), ids=module_name)
def test_stores_import_nothing_above_the_models(path: Path) -> None:
    allowed = ("points_ledger.errors", "points_ledger.models", "points_ledger.merkle")
    for name in imports_of(path):
        if name.startswith("points_ledger"):
            assert within(name, (*allowed, "points_ledger.store")), (
                f"{module_name(path)} imports {name}"
            )
            assert not within(name, ABOVE_STORES), f"{module_name(path)} imports {name}"


@pytest.mark.parametrize("path", modules(), ids=module_name)
def test_only_the_sqlite_store_imports_sqlite(path: Path) -> None:
    if within(module_name(path), ("points_ledger.store.sqlite",)):
        return
    for name in imports_of(path):
        assert not within(name, ("sqlite3", "sqlite_utils")), (
            f"{module_name(path)} imports {name}; only points_ledger.store.sqlite may"
        )


@pytest.mark.parametrize("path", modules("models"), ids=module_name)
def test_models_import_no_rules_store_or_faces(path: Path) -> None:
    for name in imports_of(path):
        assert not within(name, (*ABOVE_STORES, "points_ledger.store")), (
            f"{module_name(path)} imports {name}"
        )


@pytest.mark.parametrize("path", [*modules("domain"), PACKAGE / "engine.py"], ids=module_name)
def test_rules_see_no_store_and_no_face(path: Path) -> None:
    for name in imports_of(path):
        assert not within(name, ("points_ledger.store", "points_ledger.ledger", *FACES)), (
            f"{module_name(path)} imports {name}"
        )


@pytest.mark.parametrize(
    "module", ["audit", "transparency", "reports", "anchoring", "backup", "engine"]
)
def test_checks_and_reports_see_only_the_store_protocol(module: str) -> None:
    for name in imports_of(PACKAGE / f"{module}.py"):
        assert not within(name, ("points_ledger.store.sqlite", "points_ledger.store.memory")), (
            f"points_ledger.{module} imports {name}"
        )


@pytest.mark.parametrize(
    "path",
    [*modules("cli"), PACKAGE / "repl.py", PACKAGE / "demo.py"],
    ids=module_name,
)
def test_faces_reach_storage_only_through_the_public_api(path: Path) -> None:
    for name in imports_of(path):
        assert not within(name, ("points_ledger.store",)), (
            f"{module_name(path)} imports {name}; a face opens ledgers through Ledger"
        )


@pytest.mark.parametrize("path", modules(), ids=module_name)
def test_only_the_postgres_store_imports_psycopg(path: Path) -> None:
    if within(module_name(path), ("points_ledger.store.postgres",)):
        return
    for name in imports_of(path):
        assert not within(name, ("psycopg",)), (
            f"{module_name(path)} imports {name}; only points_ledger.store.postgres may"
        )
