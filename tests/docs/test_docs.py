"""Every docs code block runs, every example script runs, every public name is documented."""

from __future__ import annotations

import inspect
import re
import runpy
import sys
from pathlib import Path
from types import ModuleType

import pytest

import points_ledger
import points_ledger.bulk
import points_ledger.canonical
import points_ledger.cli
import points_ledger.cli.columns
import points_ledger.cli.translated
import points_ledger.copying
import points_ledger.errors
import points_ledger.export
import points_ledger.i18n
import points_ledger.keys
import points_ledger.merkle
import points_ledger.notes
import points_ledger.notice_text
import points_ledger.policy
import points_ledger.publish
import points_ledger.receipts
import points_ledger.repl
import points_ledger.reports
import points_ledger.shared
import points_ledger.split
import points_ledger.store
import points_ledger.store.memory
import points_ledger.store.postgres
import points_ledger.tiles
import points_ledger.witness

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def doc_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text("utf-8")))


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(BLOCK.findall(page.read_text("utf-8")), start=1):
        code = compile(block, f"{page.name}[block {number}]", "exec")
        exec(code, namespace)


def example_scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("script", example_scripts(), ids=lambda p: p.name)
def test_example_scripts_run(
    script: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip(), f"{script.name} printed nothing"
    assert "Traceback" not in out


@pytest.mark.parametrize("script", example_scripts(), ids=lambda p: p.name)
def test_example_scripts_list_their_contents(script: Path) -> None:
    doc = script.read_text("utf-8").split('"""')[1]
    assert "Contents" in doc, f"{script.name} needs a 'Contents' list in its docstring"


def reference_text() -> str:
    return "\n".join(p.read_text("utf-8") for p in (DOCS / "reference").rglob("*.md"))


PUBLIC_MODULES = (
    points_ledger,
    points_ledger.bulk,
    points_ledger.canonical,
    points_ledger.cli,
    points_ledger.export,
    points_ledger.cli.columns,
    points_ledger.cli.translated,
    points_ledger.copying,
    points_ledger.i18n,
    points_ledger.keys,
    points_ledger.merkle,
    points_ledger.notes,
    points_ledger.notice_text,
    points_ledger.policy,
    points_ledger.publish,
    points_ledger.receipts,
    points_ledger.repl,
    points_ledger.shared,
    points_ledger.reports,
    points_ledger.split,
    points_ledger.store,
    points_ledger.store.memory,
    points_ledger.store.postgres,
    points_ledger.tiles,
    points_ledger.witness,
)


def public_names() -> list[tuple[ModuleType, str]]:
    return [(module, name) for module in PUBLIC_MODULES for name in sorted(module.__all__)]


@pytest.mark.parametrize(
    ("module", "name"), public_names(), ids=lambda v: v.__name__ if isinstance(v, ModuleType) else v
)
def test_public_name_documented(module: ModuleType, name: str) -> None:
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"
    pattern = re.compile(rf"`{re.escape(name)}(`|\(|\.)")
    assert pattern.search(reference_text()), (
        f"{module.__name__}.{name} has no entry under docs/reference/"
    )


@pytest.mark.parametrize("name", sorted(points_ledger.__all__))
def test_top_level_name_listed_in_api_page(name: str) -> None:
    # The test above accepts a name documented on any reference page (an event's own
    # page, errors.md); the API page must still list everything importable from the package.
    page = (DOCS / "reference" / "api.md").read_text("utf-8")
    pattern = re.compile(rf"`(points_ledger\.)?{re.escape(name)}(`|\(|\.)")
    assert pattern.search(page), f"points_ledger.{name} is not listed in docs/reference/api.md"


def test_docs_write_account_ids_as_the_demo_does() -> None:
    # The demo and the CLI pages write account ids kind:id (pool:charity, hh:0042); a page
    # that writes pool.charity leaves a reader unsure which one the ledger knows.
    dotted = re.compile(r"\b(?:vol|hh|pool|fund|sh|vil|inv|gw)\.[0-9a-z]+\b")
    found = [
        f"{page.relative_to(DOCS)}: {match.group()}"
        for page in sorted(DOCS.rglob("*.md"))
        for match in dotted.finditer(page.read_text("utf-8"))
    ]
    assert found == []


def test_every_error_code_documented() -> None:
    page = (DOCS / "reference" / "errors.md").read_text("utf-8")
    classes = [
        c
        for c in vars(points_ledger.errors).values()
        if inspect.isclass(c) and issubclass(c, points_ledger.LedgerError)
    ]
    for cls in classes:
        assert f"`{cls.code}`" in page, f"error code {cls.code} is not in errors.md"
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), "error codes must be unique"


def test_errors_page_gives_each_default_hint() -> None:
    page = (DOCS / "reference" / "errors.md").read_text("utf-8")
    for cls in vars(points_ledger.errors).values():
        if inspect.isclass(cls) and issubclass(cls, points_ledger.LedgerError) and cls.default_hint:
            row = f"| `{cls.code}` | `{cls.__name__}` |"
            assert row in page, f"errors.md has no row for {cls.__name__}"
            assert f"| {cls.default_hint} |" in page, f"errors.md has an old hint for {cls.code}"


def test_no_markdown_table_is_split_by_a_blank_line() -> None:
    # A blank line ends a Markdown table: the rows after it are shown as a paragraph of pipes.
    split = [
        f"{page.relative_to(DOCS)}:{number}"
        for page in DOCS.rglob("*.md")
        for number, (before, line, after) in enumerate(
            zip(*(page.read_text("utf-8").splitlines()[i:] for i in range(3)), strict=False),
            start=2,
        )
        if not line.strip() and before.startswith("|") and after.startswith("|")
    ]
    assert split == []
