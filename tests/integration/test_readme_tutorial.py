"""Follow the README, the tutorial and the CLI how-tos word for word, in fresh folders.

* The README's commands, in essence: ``python -m points_ledger demo`` in an empty folder.
* The tutorial's Python blocks, top to bottom, in one namespace.
* The ``console`` blocks of the CLI how-tos (set up a ledger, then checkpoint and witness,
  then hand the ledger to an auditor),
  run as real ``python -m points_ledger`` processes with the passphrase in the
  environment: every ``$`` command must succeed and print every expected output line
  that the page shows in full (lines with ``…`` are abbreviated and skipped).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

import points_ledger
from conftest import console_commands

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(points_ledger.__file__).resolve().parents[1]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
WALKTHROUGH = (
    ROOT / "docs" / "howto" / "set-up-a-community-ledger.md",
    ROOT / "docs" / "howto" / "run-a-checkpoint-and-witness.md",
    ROOT / "docs" / "howto" / "hand-off-to-an-auditor.md",
)


PAGES_DAY: Final = "2026-11-02T10:00:00+08:00"
"""The how-tos are written on 2 November 2026 (their --date): the commands act on that day
(``POINTS_LEDGER_NOW``), so the pages keep working whatever the machine's date."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    env["PYTHONPATH"] = str(SRC)
    env["POINTS_LEDGER_NOW"] = PAGES_DAY
    return env


def test_readme_keeps_its_two_commands_and_the_demo_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme.startswith(
        "# points_ledger\n\n```sh\n"
        "python3 -m venv .venv && .venv/bin/python -m pip install -e '.[dev]' && "
        ".venv/bin/python -m points_ledger demo\n"
        ".venv/bin/python -m pytest -n auto --dist loadfile\n```\n"
    )
    # CI runs the README's test command itself, so a green CI means a new user's set-up
    # and test run work as written.
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert ".venv/bin/python -m pytest -n auto --dist loadfile\n" in ci
    proc = subprocess.run(
        [sys.executable, "-m", "points_ledger", "demo"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "audit passed" in proc.stdout.rstrip().splitlines()[-1]
    assert [p.name for p in tmp_path.iterdir()] == ["demo-ledger.db"]


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    links = re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", readme)
    assert links, "the README should link into the docs"
    for link in links:
        assert (ROOT / link).is_file(), link


def test_tutorial_blocks_run_top_to_bottom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = ROOT / "docs" / "tutorials" / "first-ledger.md"
    blocks = PYTHON_BLOCK.findall(page.read_text("utf-8"))
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__tutorial__"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
    assert capsys.readouterr().out.strip()


def _commands(page: Path) -> list[tuple[str, list[str]]]:
    """Each ``$`` command of the page's console blocks with the output lines shown for it."""
    return console_commands(page.read_text("utf-8"))


def _run(command: str, cwd: Path, env: dict[str, str]) -> str:
    words = shlex.split(command)
    if words[0] == "export":
        name, _, value = words[1].partition("=")
        env[name] = value
        return ""
    target, mode = None, ""
    for redirect in (">>", ">"):
        if redirect in words:
            at = words.index(redirect)
            target, mode = words[at + 1], "a" if redirect == ">>" else "w"
            words = words[:at]
            break
    assert words[0] == "points-ledger", f"the how-to runs only points-ledger: {command}"
    proc = subprocess.run(
        [sys.executable, "-m", "points_ledger", *words[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{command}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    if target is not None:
        with open(cwd / target, mode, encoding="utf-8") as handle:
            handle.write(proc.stdout)
    # What the terminal shows: summaries such as a bulk award's last line go to stderr.
    return proc.stdout + proc.stderr


@pytest.mark.whole_program
def test_cli_walkthrough_from_init_to_audit_and_witness(tmp_path: Path) -> None:
    env = _env()
    ran = []
    for page in WALKTHROUGH:
        for command, expected in _commands(page):
            out = _run(command, tmp_path, env)
            printed = [line.rstrip() for line in out.splitlines()]
            for line in expected:
                if "…" not in line and line.strip():
                    assert line.rstrip() in printed, f"{command}: expected {line!r} in\n{out}"
            ran.append(command.split()[:2])
    assert ["points-ledger", "init"] in ran
    assert ["points-ledger", "audit"] in ran
    assert ["points-ledger", "verify-receipt"] in ran
    assert ["points-ledger", "backup"] in ran
    cosigned = (tmp_path / "checkpoint-2.txt").read_text("utf-8")
    assert "— street.example/fuqinglu/witness " in cosigned
    final = _run("points-ledger audit", tmp_path, env)
    assert final.startswith("audit passed: 9 entries checked")


CLI_HOWTOS = (
    ROOT / "docs" / "howto" / "set-up-a-community-ledger.md",
    ROOT / "docs" / "howto" / "award.md",
    ROOT / "docs" / "howto" / "redeem.md",
    ROOT / "docs" / "howto" / "donate-and-grant.md",
    ROOT / "docs" / "howto" / "settle.md",
    ROOT / "docs" / "howto" / "distribute-revenue.md",
)
CSV_BLOCK = re.compile(r"`([^`]+\.csv)`:\n\n```csv\n(.*?)^```", re.S | re.M)
"""A CSV file a page shows: its name in backquotes and a colon, then the block."""


@pytest.mark.whole_program
def test_cli_howtos_for_every_task_the_readme_lists(tmp_path: Path) -> None:
    # Set up, award, redeem, donate and grant, settle, distribute: each page's "With the
    # command line" section continues the one before in the same folder.
    # The files the pages show (the award sheet, the roster), as Excel saves "CSV UTF-8":
    # with a byte-order mark.
    files = [found for page in CLI_HOWTOS for found in CSV_BLOCK.findall(page.read_text("utf-8"))]
    assert sorted(name for name, _text in files) == ["awards-2026-11-02.csv", "roster-2026.csv"]
    for name, text in files:
        (tmp_path / name).write_text("\ufeff" + text, encoding="utf-8")
    env = _env()
    ran = []
    for page in CLI_HOWTOS:
        commands = _commands(page)
        assert commands, f"{page.name} has no command-line section"
        for command, expected in commands:
            out = _run(command, tmp_path, env)
            printed = [line.rstrip() for line in out.splitlines()]
            for line in expected:
                if "…" not in line and line.strip():
                    assert line.rstrip() in printed, f"{command}: expected {line!r} in\n{out}"
            ran.append(tuple(command.split()[1:3]))
    for task in (
        ("award", "vol:0001"),
        ("award", "--from-file"),
        ("redeem", "hold"),
        ("redeem", "confirm"),
        ("donate", "vol:0001"),
        ("grant", "hh:0042"),
        ("settle", "barber"),
        ("distribute", "2026"),
    ):
        assert task in ran, task
    final = _run("points-ledger audit", tmp_path, env)
    assert final.startswith("audit passed: 42 entries checked")
