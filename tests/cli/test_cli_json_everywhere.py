"""Every command but the interactive console takes --json, as the README promises."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import FixedClock
from points_ledger.cli import cli
from points_ledger.cli.app import AppState

CLOCK = FixedClock(dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC))
INTERACTIVE = {("repl",)}


def _leaves(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        found: list[tuple[str, ...]] = []
        for name, sub in command.commands.items():
            found += _leaves(sub, (*path, name))
        return found
    return [path]


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", _leaves(cli, ()), ids=" ".join)
def test_every_command_takes_json(path: tuple[str, ...]) -> None:
    names = {p.name for p in _command(path).params}
    assert ("as_json" in names) != (path in INTERACTIVE)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    with contextlib.chdir(folder):
        result = CliRunner().invoke(cli, ["demo", "--json"], obj=AppState(clock=CLOCK))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["audit_ok"] is True
    assert summary["entries"] > 40
    assert summary["ledger"] == "demo-ledger.db"
    assert (folder / "demo-ledger.db").is_file()
    return folder


def _json(folder: Path, *args: str) -> object:
    result = CliRunner().invoke(
        cli,
        ["--ledger", str(folder / "demo-ledger.db"), *args, "--json"],
        obj=AppState(clock=CLOCK),
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_vkey_and_consistency_proof_as_json(demo_folder: Path) -> None:
    key = _json(demo_folder, "vkey")
    assert isinstance(key, dict)
    assert key["vkey"].startswith(key["origin"] + "+")
    proof = _json(demo_folder, "consistency-proof", "3")
    assert isinstance(proof, dict)
    assert proof["old_size"] == 3
    assert proof["new_size"] > 3
    assert proof["proof"] and all(isinstance(h, str) for h in proof["proof"])


def test_receipt_and_export_to_a_file_describe_it_as_json(
    demo_folder: Path, tmp_path: Path
) -> None:
    target = tmp_path / "r.json"
    described = _json(demo_folder, "receipt", "5", "--output", str(target))
    assert described == {"seq": 5, "output": str(target)}
    assert json.loads(target.read_text("utf-8"))
    exported = _json(demo_folder, "export", "--output", str(tmp_path / "x.csv"))
    assert isinstance(exported, dict)
    assert exported["format"] == "csv"
    lines = (tmp_path / "x.csv").read_text("utf-8-sig").splitlines()
    assert exported["count"] == len(lines) - 1


def test_export_json_without_output_is_a_usage_error(demo_folder: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--ledger", str(demo_folder / "demo-ledger.db"), "export", "--json"]
    )
    assert result.exit_code == 2
    assert "--format jsonl" in result.output
