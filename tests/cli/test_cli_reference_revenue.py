"""The revenue examples of docs/reference/cli.md, run for real: the page shows what is printed.

The page's ``policy adopt``, ``roster record`` (with its ``roster.csv``) and ``distribute``
commands run through CliRunner in a folder holding the committee key files they name, on a
ledger that has the accounts they pay. Every output line the page shows in full must be
printed; entry numbers and generated event ids are left out of the comparison, since the
page's ledger has other entries before these.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FixedClock, console_commands
from points_ledger import (
    AccountKind,
    KeySpec,
    Ledger,
    OpenAccount,
    RegisterKey,
    Role,
    Signer,
    save_signer,
)
from points_ledger.cli import cli
from points_ledger.cli.app import AppState

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "reference example passphrase"
CLI_PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli.md"
DATE = dt.date(2026, 12, 31)
CLI_STATE = AppState(clock=FixedClock(dt.datetime(2026, 12, 31, 2, 0, tzinfo=dt.UTC)))
"""The command line's clock: 10:00 in Chengdu on DATE, the page's business date."""
ACCOUNTS = {
    "inv:agri": AccountKind.INVESTOR,
    "fund:welfare": AccountKind.FUND,
    "fund:reserve": AccountKind.FUND,
    "fund:revenue": AccountKind.FUND,
    "hh:01": AccountKind.SHAREHOLDER,
    "hh:02": AccountKind.SHAREHOLDER,
    "hh:03": AccountKind.MEMBER,
    "own:chen": AccountKind.MEMBER,
    "own:liu": AccountKind.MEMBER,
}


def _examples() -> list[tuple[str, list[str]]]:
    """The ``$`` commands of the revenue section with the output lines shown for each."""
    text = CLI_PAGE.read_text("utf-8")
    section = text[text.index("## Revenue") : text.index("## Reports")]
    return console_commands(section)


def _normalised(line: str) -> str:
    line = re.sub(r"(entry|distribution) \d+", r"\1 N", line)
    return re.sub(r"\bid ([a-z-]+)-[0-9a-f]{16}\b", r"id \1-ID", line)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with keys/cm-chen.key and keys/cm-liu.key and a ledger with the accounts."""
    admin, chen, liu = Signer.generate(), Signer.generate(), Signer.generate()
    (tmp_path / "keys").mkdir()
    save_signer(chen, tmp_path / "keys" / "cm-chen.key", PASS)
    save_signer(liu, tmp_path / "keys" / "cm-liu.key", PASS)
    with Ledger.create(
        tmp_path / "ledger.db",
        origin="chengdu.example/chenghua/zhiqiang",
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        effective_at=DATE,
        clock=CLI_STATE.clock,
    ) as ledger:
        for account, kind in ACCOUNTS.items():
            ledger.append(
                OpenAccount(
                    id=f"open-{account}",
                    effective_at=DATE,
                    account=account,
                    account_kind=kind,
                ),
                [admin],
            )
        for owner, signer in (("own:chen", chen), ("own:liu", liu)):
            spec = KeySpec(public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=owner)
            ledger.append(RegisterKey(id=f"key-{owner}", effective_at=DATE, key=spec), [admin])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_revenue_examples_print_what_the_page_shows(folder: Path) -> None:
    env = {"POINTS_LEDGER_PASSPHRASE": PASS, "POINTS_LEDGER_DB": str(folder / "ledger.db")}
    runner = CliRunner()
    examples = _examples()
    assert [" ".join(c.split()[:2]) for c, _ in examples] == [
        "points-ledger policy",
        "cat roster.csv",
        "points-ledger roster",
        "points-ledger distribute",
        "points-ledger distribute",
    ]
    for command, shown in examples:
        words = shlex.split(command)
        if words[0] == "cat":
            (folder / words[1]).write_text("".join(f"{line}\n" for line in shown), "utf-8")
            revenue = ["revenue", "record", "fund:revenue", "100000.01", "--period", "2026"]
            committee = ["--key", "keys/cm-chen.key", "--key", "keys/cm-liu.key"]
            result = runner.invoke(
                cli,
                [*revenue, "--fiscal-year", "2026", *committee, "--date", DATE.isoformat()],
                env=env,
                obj=CLI_STATE,
            )
            assert result.exit_code == 0, result.output
            continue
        assert words[0] == "points-ledger", command
        result = runner.invoke(
            cli, [*words[1:], "--date", DATE.isoformat()], env=env, obj=CLI_STATE
        )
        assert result.exit_code == 0, f"{command}\n{result.output}"
        printed = [_normalised(line) for line in result.stdout.splitlines()]
        for line in shown:
            if "…" not in line:
                assert _normalised(line) in printed, f"{command}: {line!r} not printed"
