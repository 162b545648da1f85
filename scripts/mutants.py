"""Deliberate bugs, one at a time, to show the test suite catches each of them.

Each mutant is a text replacement in one source file. For every mutant the script copies
``src/`` to a temporary directory, applies the replacement there (the working tree is
never touched), and runs a relevant subset of the tests with ``PYTHONPATH`` pointing at
the copy. A mutant is *killed* when at least one test fails. The script prints a table and
exits non-zero if any mutant survives or no longer applies.

Usage::

    python scripts/mutants.py            # all mutants
    python scripts/mutants.py --list     # names only
    python scripts/mutants.py --check    # only check every pattern still matches src/
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


@dataclass(frozen=True)
class Mutant:
    """A deliberate bug: replace ``before`` by ``after`` in ``path`` (under src/)."""

    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "skip the balance check",
        "points_ledger/engine.py",
        "    _check_balances(plan, state)\n    return plan",
        "    return plan",
        (
            "tests/reliability/test_rel_race.py::test_double_spend",
            "tests/reliability/test_rel_model.py",
        ),
    ),
    Mutant(
        "skip the prev-hash check in audit",
        "points_ledger/audit.py",
        "    if row.prev_hash != prev_hash:",
        "    if False:",
        (
            "tests/reliability/test_rel_corruption.py::test_logical_tampering",
            "tests/integration/test_tamper.py",
        ),
    ),
    Mutant(
        "skip the signature check",
        "points_ledger/engine.py",
        "    if not verify_signature(key.public_key, message, signature.signature):",
        "    if False:",
        ("tests/reliability/test_rel_hostile.py::test_signatures_are_not_replayable",),
    ),
    Mutant(
        "plain BEGIN instead of BEGIN IMMEDIATE",
        "points_ledger/store/sqlite/store.py",
        'self.conn.execute("BEGIN IMMEDIATE")',
        'self.conn.execute("BEGIN")',
        ("tests/reliability/test_rel_race.py::test_contention",),
    ),
    Mutant(
        "round a split the wrong way",
        "points_ledger/split/allocation.py",
        "key=lambda i: (-remainders[i], i))",
        "key=lambda i: (remainders[i], i))",
        ("tests/unit/test_split.py", "tests/property/test_split_props.py"),
    ),
)


def pattern_problems(src: Path = SRC) -> list[str]:
    """Mutants whose ``before`` text no longer occurs exactly once in the source."""
    problems = []
    for mutant in MUTANTS:
        count = (src / mutant.path).read_text("utf-8").count(mutant.before)
        if count != 1:
            problems.append(f"{mutant.name}: pattern found {count} times in {mutant.path}")
    return problems


def run_mutant(mutant: Mutant) -> tuple[str, float, str]:
    """Apply one mutant to a copy of src/ and run its tests; return (result, seconds, tail)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
        target = copy / mutant.path
        text = target.read_text("utf-8")
        if text.count(mutant.before) != 1:
            return "NO MATCH", 0.0, ""
        target.write_text(text.replace(mutant.before, mutant.after), "utf-8")
        env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
        started = time.monotonic()
        proc = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
        if proc.returncode == 1:
            return "killed", seconds, tail
        if proc.returncode == 0:
            return "SURVIVED", seconds, tail
        return f"ERROR ({proc.returncode})", seconds, tail


def main() -> int:
    """Run every mutant (or list/check them) and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true", help="print the mutant names")
    parser.add_argument("--check", action="store_true", help="only check the patterns match")
    args = parser.parse_args()
    if args.list:
        for mutant in MUTANTS:
            print(mutant.name)
        return 0
    problems = pattern_problems()
    if args.check or problems:
        print("\n".join(problems) or "every mutant pattern matches src/ exactly once")
        return 1 if problems else 0
    width = max(len(m.name) for m in MUTANTS)
    print(f"{'mutant':<{width}}  result    seconds  last line of pytest")
    survivors = 0
    for mutant in MUTANTS:
        result, seconds, tail = run_mutant(mutant)
        survivors += result != "killed"
        print(f"{mutant.name:<{width}}  {result:<8}  {seconds:7.1f}  {tail}", flush=True)
    print(f"{len(MUTANTS) - survivors} of {len(MUTANTS)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
