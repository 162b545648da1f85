"""Mutation testing of the rules code with cosmic-ray: random single-point bugs must be caught.

A soak-style run, not part of the default suite or CI: it takes tens of minutes. Install
the tool with ``pip install -e '.[mutation]'``, then::

    nice -n 19 python scripts/mutation.py                    # all the rules code
    nice -n 19 python scripts/mutation.py domain policy.py   # some of it (under src/points_ledger)
    python scripts/mutation.py --workdir DIR domain          # keep the session in DIR
    nice -n 19 python scripts/mutation.py --retest DIR       # survivors again, today's tests
    nice -n 19 python scripts/mutation.py --workdir DIR --skip SLOW_TEST audit.py  # quick pass
    python scripts/mutation.py --report DIR                  # the report of an earlier run

The script copies ``src/``, ``tests/`` and ``pyproject.toml`` to a work directory (the
working tree is never touched, since cosmic-ray edits the files it mutates), writes a
cosmic-ray configuration there, makes one mutant per site and operator, keeps only the
operators listed in :data:`OPERATORS`, and runs against each mutant the tests of the
modules mutated (:data:`MODULE_TESTS`, e.g. the receipt pins for ``receipts.py``), then
the fast handler tests of :data:`TESTS` (``-x``: the first failing test kills it). Run
modules with different selections as separate sessions, one at a time. At the end
it prints every surviving mutant as a diff and the score: killed / (killed + survived).
Mutants that time out count as killed (an infinite loop is a caught bug); mutants that
are equivalent to the original (no test could tell them apart) are listed with the
reason in ``docs/explanation/reliability.md``.

``--skip`` leaves slow tests out of a new session's selection: a quick first pass, whose
survivors ``--retest`` then runs against the whole selection (it always writes the
module's full selection).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RULES = (
    "domain",
    "policy.py",
    "engine.py",
    "split/allocation.py",
    "merkle.py",
    "audit.py",
    "receipts.py",
)
"""The rules code, under ``src/points_ledger``."""

TESTS = (
    "tests/unit/test_rule_pins.py",
    "tests/unit/test_policy.py",
    "tests/unit/test_split.py",
    "tests/unit/test_merkle.py",
    "tests/unit/test_handler_registration.py",
    "tests/integration/test_community_bad_input.py",
)
"""Fast tests, quickest first; the handler tests run on the memory store."""

MODULE_TESTS: dict[str, tuple[str, ...]] = {
    "domain/revenue.py": (
        "tests/unit/test_revenue_pins.py",
        "tests/integration/test_revenue.py",
        "tests/property/test_revenue_props.py",
    ),
    "engine.py": ("tests/unit/test_engine_pins.py",),
    "split/allocation.py": (
        "tests/unit/test_split.py",
        "tests/unit/test_allocation_pins.py",
        "tests/property/test_split_props.py",
    ),
    "merkle.py": (
        "tests/unit/test_merkle.py",
        "tests/unit/test_receipt_pins.py",
        "tests/property/test_merkle_props.py",
        "tests/unit/test_rule_pins.py",  # the empty range of subtree_nodes_for_range
    ),
    "receipts.py": ("tests/unit/test_receipt_pins.py",),
    "audit.py": (
        "tests/unit/test_audit_pins.py",
        "tests/integration/test_keyless_writer.py",
        "tests/integration/test_tamper.py",
    ),
}
"""Tests that exercise one module most directly, run before :data:`TESTS` when that module
is mutated (the modules under ``domain/`` but ``revenue.py``, and ``policy.py``, need only
:data:`TESTS`)."""

OWN_TESTS_ONLY = ("merkle.py", "audit.py")
"""Modules that are not handler rules: a session over only these runs their own tests of
:data:`MODULE_TESTS` and not the handler tests of :data:`TESTS`, which reach them only
through the ledger and would add seconds to every surviving mutant."""

DESELECTED = (
    "tests/integration/test_tamper.py::test_flipping_any_byte_of_an_event_is_detected",
    "tests/integration/test_tamper.py::test_random_byte_changes_of_an_event_are_detected",
)
"""Slow tests left out of every selection: the byte flips of one event take ten seconds
and find nothing the column-by-column tampering tests of the same file would miss."""

_COMPARISON_FLIPS = (
    "Eq_NotEq",
    "NotEq_Eq",
    "Lt_LtE",
    "LtE_Lt",
    "Gt_GtE",
    "GtE_Gt",
    "Is_IsNot",
    "IsNot_Is",
)

OPERATORS = (
    "core/AddNot",
    "core/ReplaceUnaryOperator_Delete_Not",
    "core/ReplaceAndWithOr",
    "core/ReplaceOrWithAnd",
    "core/ReplaceTrueWithFalse",
    "core/ReplaceFalseWithTrue",
    "core/ReplaceBinaryOperator_Add_Sub",
    "core/ReplaceBinaryOperator_Sub_Add",
    "core/NumberReplacer",
    "core/ZeroIterationForLoop",
    *(f"core/ReplaceComparisonOperator_{flip}" for flip in _COMPARISON_FLIPS),
)
"""Negated conditions, ``and``/``or``, ``+``/``-``, comparison flips, constants +-1, loops
that never run: the kinds of single-point bug a tired hand makes."""

TIMEOUT_SECONDS = 120


def selection(modules: list[str]) -> list[str]:
    """The tests run against each mutant of ``modules``: their own tests, then :data:`TESTS`.

    Tests named for a module come first in the order of ``modules``; none is run twice.
    """
    chosen: list[str] = []
    for module in modules:
        for test in MODULE_TESTS.get(module, ()):
            if test not in chosen and (ROOT / test).exists():
                chosen.append(test)
    if not all(module in OWN_TESTS_ONLY for module in modules):
        chosen.extend(test for test in TESTS if test not in chosen)
    return chosen


def _config(work: Path, modules: list[str], skip: tuple[str, ...] = ()) -> str:
    paths = [f"src/points_ledger/{m}" for m in modules]
    keep = "|".join(re.escape(op) for op in OPERATORS)
    test_command = " ".join(
        [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            *(f"--deselect={test}" for test in DESELECTED),
            *(test for test in selection(modules) if test not in skip),
        ]
    )
    return "\n".join(
        [
            "[cosmic-ray]",
            f"module-path = {json.dumps(paths)}",
            f"timeout = {TIMEOUT_SECONDS}.0",
            "excluded-modules = []",
            f"test-command = {json.dumps(test_command)}",
            "",
            "[cosmic-ray.distributor]",
            'name = "local"',
            "",
            "[cosmic-ray.filters.operators-filter]",
            f"exclude-operators = {json.dumps([f'^(?!(?:{keep})$)'])}",
            "",
        ]
    )


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def _run(work: Path, *args: str) -> None:
    env = {"PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(args, cwd=work, check=True, env={**os.environ, **env})  # noqa: S603


def report(work: Path) -> tuple[int, int, int]:
    """Print the survivors and the score of the session in ``work``.

    Returns:
        ``(killed, survived, pending)``; timeouts count as killed.
    """
    session = work / "session.sqlite"
    dump = subprocess.run(  # noqa: S603
        [_tool("cosmic-ray"), "dump", str(session)],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    killed = survived = pending = 0
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            pending += 1
            continue
        if result["worker_outcome"] == "skipped":
            continue
        if result["worker_outcome"] == "normal" and result["test_outcome"] == "survived":
            survived += 1
            mutation = item["mutations"][0]
            print(
                f"SURVIVED {mutation['module_path']}:{mutation['start_pos'][0]} "
                f"{mutation['operator_name']} #{mutation['occurrence']}"
            )
            print(result["diff"])
        else:
            killed += 1
    total = killed + survived
    score = f"{100 * killed / total:.1f} %" if total else "n/a"
    print(f"mutants run: {total}; killed: {killed}; survived: {survived}; score: {score}")
    if pending:
        print(f"not yet run: {pending} (run again with --resume {work})")
    return killed, survived, pending


def forget_survivors(session: Path) -> int:
    """Drop the results of surviving mutants so that ``exec`` runs them again.

    Returns:
        How many results were dropped.
    """
    with sqlite3.connect(session) as conn:
        cursor = conn.execute(
            "DELETE FROM work_results "
            "WHERE upper(worker_outcome) = 'NORMAL' AND upper(test_outcome) = 'SURVIVED'"
        )
        return cursor.rowcount


def main(argv: list[str] | None = None) -> int:
    """Run (or report) a mutation session; exit 0 when every mutant run was killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(RULES), help="under src/points_ledger")
    parser.add_argument("--workdir", type=Path, help="keep the session here (default: a temp dir)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TEST",
        help="leave this test file out of a new session's selection (repeatable)",
    )
    parser.add_argument("--resume", type=Path, help="finish an interrupted session in DIR")
    parser.add_argument("--report", type=Path, help="only print the report of the session in DIR")
    parser.add_argument(
        "--retest", type=Path, help="copy the current tests into DIR and rerun its survivors"
    )
    args = parser.parse_args(argv)
    if args.report:
        _killed, survived, pending = report(args.report)
        return 0 if survived == 0 and pending == 0 else 1
    if args.resume:
        work = args.resume
    elif args.retest:
        work = args.retest
        shutil.rmtree(work / "tests")
        shutil.copytree(
            ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__")
        )
        # Today's selection: tests added since the first pass (a module's own pins) run too.
        config = tomllib.loads((work / "mutation.toml").read_text())["cosmic-ray"]
        modules = [path.removeprefix("src/points_ledger/") for path in config["module-path"]]
        (work / "mutation.toml").write_text(_config(work, modules))
        print(f"survivors to run again: {forget_survivors(work / 'session.sqlite')}", flush=True)
    else:
        work = args.workdir or Path(tempfile.mkdtemp(prefix="points-ledger-mutation-"))
        work.mkdir(parents=True, exist_ok=True)
        for name in ("src", "tests"):
            shutil.rmtree(work / name, ignore_errors=True)
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
        (work / "mutation.toml").write_text(_config(work, args.modules, tuple(args.skip)))
        (work / "session.sqlite").unlink(missing_ok=True)
        _run(work, _tool("cosmic-ray"), "init", "mutation.toml", "session.sqlite")
        _run(work, _tool("cr-filter-operators"), "session.sqlite", "mutation.toml")
        print(f"session in {work}", flush=True)
    _run(work, _tool("cosmic-ray"), "exec", "mutation.toml", "session.sqlite")
    _killed, survived, pending = report(work)
    return 0 if survived == 0 and pending == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
