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
import re
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
from points_ledger.i18n import DOMAIN, ERROR_MESSAGES, LANGUAGES
from points_ledger.models.common import _PATTERN_WORDS
from points_ledger.repl import DOT_COMMANDS

_FIELD = re.compile(r"(?<!\{)\{[a-z_][a-z0-9_]*\}")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "points_ledger"
KEYWORDS = {"_": None, "gettext": None, "N_": None}
HEADER_COMMENT = """\
# Messages of the points_ledger command line, REPL and demo.
# Source language: English (the msgid). Kept with scripts/update_catalogue.py;
# tests/unit/test_i18n.py checks every message is translated with its placeholders.
#"""
ERROR_WORDING_COMMENT = "error wording: its fields are filled with the particulars"
"""The extracted comment that marks an error wording in the catalogue.

``points_ledger.i18n`` matches an error's English message against the wordings so marked
and shows the translation with the same particulars (see :func:`raise_site_wordings`)."""
CLICK_ERRORS = frozenset({"UsageError", "BadParameter", "BadOptionUsage", "fail"})
"""click's errors the command line raises itself (and ``ParamType.fail``): the faces show
them as ``usage`` errors, translated like the library's."""
FACE_ERRORS = frozenset({"ReportArgsError"})
"""Errors of the command line that are not ``LedgerError`` classes but whose messages the
faces show as ``usage`` errors all the same (a report's wrong arguments)."""
MIN_LITERAL = 6
"""A wording with fewer literal characters (``"{detail}"``) is too vague to match on."""
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
    for text, place in raise_site_wordings().items():
        found.setdefault(text, []).append(place)
    for allowed in _PATTERN_WORDS.values():
        # What an id pattern allows, inside a refused value's message.
        found.setdefault(allowed, []).append(("src/points_ledger/models/common.py", 0))
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


def error_classes() -> frozenset[str]:
    """The names of every :class:`~points_ledger.errors.LedgerError` class in the source.

    The classes of ``points_ledger.errors`` and any class in ``src/points_ledger`` that
    derives from one of them (``CommandError``, the REPL's ``ReadOnlyError``).
    """
    names = {
        name
        for name, value in vars(points_ledger.errors).items()
        if inspect.isclass(value) and issubclass(value, points_ledger.errors.LedgerError)
    }
    bases: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    grown = True
    while grown:
        grown = False
        for name, parents in bases.items():
            if name not in names and parents & names:
                names.add(name)
                grown = True
    return frozenset(names)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def field_name(node: ast.expr) -> str:
    """The ``{name}`` an f-string's replacement field gets in its wording.

    The variable or attribute it shows (``{event.account}`` gives ``account``), the
    argument of a call (``{str(path)}`` gives ``path``), ``count`` for a ``len``,
    ``error`` for a caught exception; ``value`` when nothing better is at hand. A field
    written ``{x!r}`` is quoted in the wording (``'{x}'``), as ``repr`` quotes a text.
    """
    if isinstance(node, ast.Name | ast.Attribute):
        name = _name(node).strip("_").lower() or "value"
        return "error" if name in ("e", "exc", "err") else name
    if isinstance(node, ast.Subscript):
        return field_name(node.value)
    if isinstance(node, ast.Call):
        called = _name(node.func)
        if called == "len":
            return "count"
        if node.args:
            inner = field_name(node.args[0])
            if inner != "value":
                return inner
        return called.strip("_").lower() or "value"
    if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
        return field_name(node.generators[0].iter)
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return "amount"
    return "value"


def wording(node: ast.expr) -> str | None:
    """The catalogue wording of a message or hint written at a raise site, if it has one.

    A literal is its own wording; an f-string becomes its literal text with each
    replacement field written ``{name}`` (see :func:`field_name`; a name used twice for
    different fields gets ``_2``, ``_3``); literal braces are doubled. Anything else
    (a variable, a call) has no wording of its own.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value or None
    if not isinstance(node, ast.JoinedStr):
        return None
    parts: list[str] = []
    seen: dict[str, str] = {}
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value.replace("{", "{{").replace("}", "}}"))
        elif isinstance(value, ast.FormattedValue):
            base = field_name(value.value)
            source = ast.unparse(value.value)
            name, number = base, 1
            while name in seen and seen[name] != source:
                number += 1
                name = f"{base}_{number}"
            seen[name] = source
            field = "{" + name + "}"
            parts.append(f"'{field}'" if value.conversion == ord("r") else field)
    return "".join(parts)


def raise_site_wordings() -> dict[str, tuple[str, int]]:
    """The wording of every error message and hint written where an error is made.

    Every call of a :func:`error_classes` class or of one of :data:`CLICK_ERRORS` or
    :data:`FACE_ERRORS` in
    ``src/points_ledger``: its message
    (first argument or ``message=``) and its ``hint=``, through :func:`wording`. A wording
    with no words of its own (``"{message}"``) passes its particular on and is left out.
    """
    classes = error_classes() | CLICK_ERRORS | FACE_ERRORS
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and _name(node.func) in classes):
                continue
            given = node.args[:1] + [k.value for k in node.keywords if k.arg in ("message", "hint")]
            for argument in given:
                for choice in _choices(argument):
                    text = wording(choice)
                    if text and any(c.isalpha() for c in _FIELD.sub("", text)):
                        where = str(path.relative_to(ROOT))
                        found.setdefault(text, (where, choice.lineno))
    return found


def _choices(node: ast.expr) -> list[ast.expr]:
    """The texts a message may be: both branches of ``a if c else b``, each side of ``+``."""
    if isinstance(node, ast.IfExp):
        return _choices(node.body) + _choices(node.orelse)
    return [node]


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
    wordings = set(raise_site_wordings()) | set(ERROR_MESSAGES)
    for message, places in collected_messages().items():
        marked = message in wordings and is_matchable(message)
        catalog.add(
            message,
            locations=[(path, line) for path, line in places if line],
            auto_comments=[ERROR_WORDING_COMMENT] if marked else [],
        )
    return catalog


def is_matchable(text: str) -> bool:
    """Whether ``text`` is a wording with fields and enough literal text to match on."""
    literal = _FIELD.sub("", text)
    return literal != text and len(literal.strip()) >= MIN_LITERAL


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
            # Files without line numbers: an edit elsewhere in a module does not churn the
            # catalogue (nor conflict with a branch that translates).
            write_po(
                handle,
                catalog,
                width=100,
                omit_header=False,
                sort_output=False,
                include_lineno=False,
            )
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
