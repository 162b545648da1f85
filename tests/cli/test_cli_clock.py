"""The command line and the REPL take the time from a clock they are given.

No command reads the wall clock itself: ``main(argv, clock=...)`` or click's
``obj=AppState(clock=...)`` governs both an entry's ``recorded_at`` and the default
business date, which is the clock's date in Asia/Shanghai (so 16:30 UTC on the last day
of a month is already the next month at the counter).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FixedClock
from points_ledger import Ledger, Signer, save_signer
from points_ledger.cli import cli, main
from points_ledger.cli.app import AppState, business_date, today
from points_ledger.errors import InvalidEventError
from points_ledger.repl import LedgerConsole

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "clock test passphrase"
ORIGIN = "chengdu.example/chenghua/clock"
GENESIS_AT = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
MONTH_END_UTC = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
"""Still 30 November in UTC, but 00:30 on 1 December in Chengdu."""


@pytest.fixture
def ledger_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    admin = Signer.generate()
    save_signer(admin, tmp_path / "admin.key", PASS)
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", PASS)
    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin=ORIGIN,
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        effective_at=GENESIS_AT.date(),
        clock=FixedClock(GENESIS_AT),
    ):
        pass
    return path


def _open_account(path: Path, account: str) -> list[str]:
    key = str(path.parent / "admin.key")
    return ["--ledger", str(path), "account", "open", account, "--key", key, "--json"]


def test_business_date_is_the_date_in_chengdu() -> None:
    assert business_date(MONTH_END_UTC) == dt.date(2026, 12, 1)
    assert business_date(dt.datetime(2028, 2, 28, 16, 0, tzinfo=dt.UTC)) == dt.date(2028, 2, 29)
    assert today(FixedClock(MONTH_END_UTC)) == dt.date(2026, 12, 1)
    with pytest.raises(InvalidEventError):
        business_date(dt.datetime(2026, 11, 30, 16, 30))


def test_main_takes_its_clock(ledger_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_open_account(ledger_file, "vol:0001"), clock=FixedClock(MONTH_END_UTC))
    assert code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["event"]["effective_at"] == "2026-12-01"
    with Ledger.open(ledger_file) as ledger:
        entry = ledger.entry(shown["seq"])
    assert entry.recorded_at == MONTH_END_UTC
    assert entry.event.effective_at == dt.date(2026, 12, 1)


def test_click_obj_carries_the_clock(ledger_file: Path) -> None:
    later = dt.datetime(2041, 6, 15, 3, 0, tzinfo=dt.UTC)
    result = CliRunner().invoke(
        cli, _open_account(ledger_file, "vol:0002"), obj=AppState(clock=FixedClock(later))
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"]["effective_at"] == "2041-06-15"
    # --ledger given on the command line still wins over the state's default path.
    with Ledger.open(ledger_file) as ledger:
        assert ledger.entry(ledger.size() - 1).recorded_at == later


def test_an_explicit_date_is_not_replaced_by_the_clock(ledger_file: Path) -> None:
    args = [*_open_account(ledger_file, "vol:0003"), "--date", "2026-11-29"]
    result = CliRunner().invoke(cli, args, obj=AppState(clock=FixedClock(MONTH_END_UTC)))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"]["effective_at"] == "2026-11-29"


def test_repl_today_and_reports_use_the_ledger_clock(ledger_file: Path) -> None:
    with Ledger.open(ledger_file, clock=FixedClock(MONTH_END_UTC)) as ledger:
        console = LedgerConsole(ledger)
        today_in_session = console.locals["today"]
        assert today_in_session() == dt.date(2026, 12, 1)
        assert console.locals["ledger"].clock() == MONTH_END_UTC


def test_now_option_gives_the_command_line_a_clock(ledger_file: Path) -> None:
    args = ["--now", "2026-11-30T16:30:00+00:00", *_open_account(ledger_file, "vol:0004")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"]["effective_at"] == "2026-12-01"
    env_result = CliRunner().invoke(
        cli,
        _open_account(ledger_file, "vol:0005"),
        env={"POINTS_LEDGER_NOW": "2026-12-02T09:00:00+08:00"},
    )
    assert env_result.exit_code == 0, env_result.output
    assert json.loads(env_result.stdout)["event"]["effective_at"] == "2026-12-02"
    naive = CliRunner().invoke(cli, ["--now", "2026-11-30T16:30", "balance", "vol:0001"])
    assert naive.exit_code == 2
    assert "no time zone" in naive.output
