"""Collect every message the faces show and merge them into the shipped ``.po`` catalogues.

Usage: ``python scripts/update_catalogue.py`` (from the repository root, with the project
installed). It gathers

* every string marked with ``gettext(...)``, ``_(...)`` or ``N_(...)`` in
  ``src/points_ledger`` (Babel's Python extractor);
* every help text of the command line (commands, groups, options), read from the click
  tree, since click holds them as plain strings;
* the column headers of the command line's tables (literals given to ``echo_table`` or
  as a report view's ``headers``);
* the default hint of every error class, the hints written where the errors met at the
  counter are raised (literal ``hint=`` texts in the command line, the domain rules, the
  engine, key files, bulk files, export, backup and the facade), the REPL's dot-command
  summaries and the reports' summaries;

then updates ``src/points_ledger/locale/<lang>/LC_MESSAGES/points_ledger.po`` with Babel,
keeping existing translations, adding new messages untranslated and dropping old ones.
``tests/unit/test_i18n.py`` fails while a message is missing or untranslated.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

import points_ledger
import points_ledger.errors
from points_ledger.cli import cli
from points_ledger.cli.app import CommandError
from points_ledger.cli.report_views import REPORTS
from points_ledger.cli.translated import help_messages
from points_ledger.i18n import DOMAIN, LANGUAGES
from points_ledger.repl import DOT_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "points_ledger"
KEYWORDS = {"_": None, "gettext": None, "N_": None}
HEADER_COMMENT = """\
# Messages of the points_ledger command line, REPL and demo.
# Source language: English (the msgid). Kept with scripts/update_catalogue.py;
# tests/unit/test_i18n.py checks every message is translated with its placeholders.
#"""
COUNTER_SOURCES = (
    "cli/*.py",
    "domain/*.py",
    "engine.py",
    "keys.py",
    "bulk.py",
    "export.py",
    "backup.py",
    "ledger.py",
)
"""Where the errors met at the counter are raised: their literal hints are translated."""
TABLE_FUNCTIONS = frozenset({"echo_table", "_table", "table"})
"""Calls whose first argument is a header row the faces translate when printing."""


def catalogue_path(language: str) -> Path:
    """Where the ``.po`` source of ``language`` lives in the repository."""
    return SOURCE / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def collected_messages() -> dict[str, list[tuple[str, int]]]:
    """Every msgid the faces can show, with where it was found."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE), keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, []).append((f"src/points_ledger/{filename}", lineno))
    for header, place in table_headers().items():
        found.setdefault(header, []).append(place)
    for hint, place in raised_hints().items():
        found.setdefault(hint, []).append(place)
    for spec in REPORTS.values():
        found.setdefault(spec.summary, []).append(("src/points_ledger/cli/report_views.py", 0))
    for command in DOT_COMMANDS.values():
        # Only the REPL's own: a program (or a test) may register more at run time.
        if command.run.__module__ == "points_ledger.repl":
            found.setdefault(command.summary, []).append(("src/points_ledger/repl.py", 0))
    for text in help_messages(cli):
        found.setdefault(text, []).append(("command line help", 0))
    classes = [CommandError] + [
        c
        for c in vars(points_ledger.errors).values()
        if inspect.isclass(c) and issubclass(c, points_ledger.errors.LedgerError)
    ]
    for cls in classes:
        if cls.default_hint:
            found.setdefault(cls.default_hint, []).append((f"errors: {cls.code}", 0))
    return found


def raised_hints() -> dict[str, tuple[str, int]]:
    """The literal ``hint=`` texts of :data:`COUNTER_SOURCES` (the faces translate them)."""
    found: dict[str, tuple[str, int]] = {}
    for pattern in COUNTER_SOURCES:
        for path in sorted(SOURCE.glob(pattern)):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "hint"
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                    and node.value.value
                ):
                    where = str(path.relative_to(ROOT))
                    found.setdefault(node.value.value, (where, node.value.lineno))
    return found


def table_headers() -> dict[str, tuple[str, int]]:
    """Column headers written as literals in the faces (command line, REPL, demo).

    ``echo_table`` (and the REPL's and the demo's table helpers) translate the headers
    they print; they are found here as the string literals of their first argument, or
    of a ``headers=`` keyword (report views).
    """
    found: dict[str, tuple[str, int]] = {}
    faces = [*sorted((SOURCE / "cli").glob("*.py")), SOURCE / "repl.py", SOURCE / "demo.py"]
    for path in faces:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            candidates: list[ast.expr] = [k.value for k in node.keywords if k.arg == "headers"]
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else ""
            )
            if name in TABLE_FUNCTIONS and node.args:
                candidates.append(node.args[0])
            for candidate in candidates:
                if isinstance(candidate, ast.List | ast.Tuple):
                    for element in candidate.elts:
                        if isinstance(element, ast.Constant) and isinstance(element.value, str):
                            where = str(path.relative_to(ROOT))
                            found.setdefault(element.value, (where, element.lineno))
    return found


def template() -> Catalog:
    """The catalogue template (what a ``.pot`` file would hold)."""
    catalog = Catalog(project="points_ledger", charset="utf-8", fuzzy=False)
    for message, places in collected_messages().items():
        catalog.add(message, locations=[(path, line) for path, line in places if line])
    return catalog


def main() -> int:
    """Update every non-English catalogue; print how many messages lack a translation."""
    source = template()
    for language in LANGUAGES:
        if language == "en":
            continue
        path = catalogue_path(language)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="points_ledger", fuzzy=False)
        source.creation_date = catalog.creation_date  # no churn when nothing changed
        catalog.update(source, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.header_comment = HEADER_COMMENT
        catalog.last_translator = "points_ledger maintainers"
        catalog.version = points_ledger.__version__
        catalog.msgid_bugs_address = "the project's issue tracker"
        catalog.language_team = f"{language} (points_ledger)"
        catalog.revision_date = catalog.creation_date
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=False)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
