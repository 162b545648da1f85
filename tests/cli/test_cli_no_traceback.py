"""The command line never ends in a traceback: file names, full disks, closed pipes, help.

Output failures are tried with real processes writing to ``/dev/full`` and to a pipe
nobody reads, since that is where Python's own end-of-run flush would complain.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

import points_ledger
from conftest import World
from points_ledger.cli import cli
from points_ledger.cli.report_views import REPORTS

SRC = Path(points_ledger.__file__).resolve().parents[1]


def run_cli(args: list[str], stdout: IO[str] | int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "points_ledger", *args],
        env=env,
        text=True,
        stdout=stdout,
        stderr=subprocess.PIPE,
        check=False,
        timeout=60,
    )


def test_a_ledger_name_too_long_for_the_file_system_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / ("x" * 300 + ".db")
    done = run_cli(["--ledger", str(path), "balance", "m1"], stdout=subprocess.PIPE)
    assert done.returncode == 1
    assert done.stderr.startswith("error [storage_error]: ")
    assert "too long" in done.stderr
    assert "Traceback" not in done.stderr


needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [["balance", "m1"], ["export"], ["export", "--format", "jsonl"], ["entry", "0", "--json"]],
    ids=" ".join,
)
def test_a_full_disk_on_output_is_a_one_line_error(world: World, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = run_cli(["--ledger", str(world.path), *args], stdout=full)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("error [output_failed]: ")
    assert "could not be written" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(world: World) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-m", "points_ledger", "--ledger", str(world.path), "entries"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        process.stdout.close()  # like `| head -1` once it has its line
        _, err = process.communicate(timeout=60)
    assert err == ""
    assert process.returncode == 1


def test_report_help_lists_every_registered_report_with_its_arguments() -> None:
    result = CliRunner().invoke(cli, ["report", "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "\\b" not in result.output
    listed = {
        " ".join(line.split()) for line in result.output.splitlines() if line.startswith("  ")
    }
    for spec in REPORTS.values():
        assert f"{spec.name} {spec.usage}".strip() in listed


@pytest.mark.parametrize(
    "args",
    [
        ["report", "settlement-statement", "9" * 5000],
        ["report", "distribution", "²"],
        ["report", "top-volunteers", "2026-01-01", "2026-12-31", "9" * 5000],
    ],
    ids=["5000-digits", "superscript", "limit-5000-digits"],
)
def test_report_numbers_the_command_line_cannot_read_are_usage_errors(
    world: World, args: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["--ledger", str(world.path), *args])
    assert result.exit_code == 2
    assert "error [usage]: " in result.output
    assert "is not a whole number of at most 18 digits" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
