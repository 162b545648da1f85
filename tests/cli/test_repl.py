"""The REPL: dot-commands, the read-only ledger proxy, errors, and a real terminal session."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

import points_ledger
from conftest import FixedClock, seat_committee
from points_ledger import (
    AccountKind,
    Asset,
    Ledger,
    OpenAccount,
    Posting,
    Signer,
    Transfer,
    save_signer,
)
from points_ledger.repl import DOT_COMMANDS, LedgerConsole, ReadOnlyError, dot_command

PASS = "repl test passphrase"
DAY = dt.date(2026, 11, 2)
LEDGER_CLOCK = FixedClock(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
"""The fixture ledgers' clock: 09:00 in Chengdu on DAY, whatever the machine's date."""
SRC = Path(points_ledger.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def admin_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Signer, Path]:
    signer = Signer.generate()
    path = tmp_path_factory.mktemp("keys") / "admin.key"
    save_signer(signer, path, PASS)
    return signer, path


@pytest.fixture
def db(tmp_path: Path, admin_key: tuple[Signer, Path]) -> Path:
    admin = admin_key[0]
    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin="chengdu.example/test",
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        effective_at=DAY,
        clock=LEDGER_CLOCK,
    ) as ledger:
        ledger.append(
            OpenAccount(
                id="open-1", effective_at=DAY, account="vol:0001", account_kind=AccountKind.MEMBER
            ),
            [admin],
        )
        committee = seat_committee(ledger, [admin], effective_at=DAY)
        ledger.append(
            Transfer(
                id="award-1",
                effective_at=DAY,
                memo="探访老人",
                postings=(
                    Posting(account="issuer", asset=Asset.PTS, amount=-30),
                    Posting(account="vol:0001", asset=Asset.PTS, amount=30),
                ),
            ),
            [admin, *committee],
        )
    return path


@pytest.fixture
def console(db: Path) -> Iterator[LedgerConsole]:
    with Ledger.open(db, clock=LEDGER_CLOCK) as ledger:
        yield LedgerConsole(ledger)


def push(console: LedgerConsole, *lines: str) -> None:
    for line in lines:
        console.push(line)


def test_namespace_has_ledger_and_public_api(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, "print(ledger.size(), Asset.PTS.value, Transfer.__name__)")
    assert capsys.readouterr().out == "7 PTS Transfer\n"


def test_dot_help_lists_commands(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".help")
    out = capsys.readouterr().out
    for name in ("balance", "statement", "entries", "verify", "audit", "keys", "quit"):
        assert f".{name}" in out


def test_dot_balance_and_statement(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".balance vol:0001 PTS")
    out = capsys.readouterr().out
    assert out.splitlines()[2].split() == ["vol:0001", "PTS", "30", "0", "30"]
    push(console, ".statement vol:0001")
    out = capsys.readouterr().out
    assert "award-1" in out and "探访老人" in out


def test_dot_entries_shows_the_last_n(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".entries 1")
    out = capsys.readouterr().out
    assert "award-1" in out and "genesis" not in out


def test_dot_verify_and_audit(console: LedgerConsole, capsys: pytest.CaptureFixture[str]) -> None:
    push(console, ".verify", ".audit")
    out = capsys.readouterr().out
    assert "verify passed: 7 entries" in out and "audit passed" in out


def test_errors_do_not_end_the_session(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".balance vol:9999", "ledger.entry(42)", "1/0", ".nope", ".entries x")
    captured = capsys.readouterr()
    assert "error [not_found]: account 'vol:9999' has not been opened" in captured.err
    assert "error [not_found]: there is no entry 42" in captured.err
    assert "ZeroDivisionError" in captured.err
    assert "error [usage]: unknown command .nope" in captured.err
    assert "error [usage]: 'x' is not a whole number" in captured.err
    assert captured.err.count("Traceback") == 1  # only for the real Python error
    push(console, "print('still here')")
    assert capsys.readouterr().out == "still here\n"


def test_read_only_until_keys_are_loaded(
    console: LedgerConsole,
    capsys: pytest.CaptureFixture[str],
    admin_key: tuple[Signer, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    push(
        console,
        "ev = OpenAccount(id='open-2', effective_at=dt.date(2026, 11, 3), account='vol:0002', "
        "account_kind=AccountKind.MEMBER)",
        "ledger.append(ev)",
        "ledger.append_many([(ev, [])])",
    )
    err = capsys.readouterr().err
    assert "error [read_only]: ledger.append writes to the ledger" in err
    assert "error [read_only]: ledger.append_many writes" in err
    assert "hint: Load signing keys with .keys PATH" in err
    with pytest.raises(ReadOnlyError):
        console.proxy.append(Transfer.model_construct())  # type: ignore[call-arg]
    assert console.ledger.size() == 7

    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", PASS)
    push(console, f".keys {admin_key[1]}")
    out = capsys.readouterr().out
    assert f"loaded key {admin_key[0].key_id} (roles admin)" in out
    push(console, "print(ledger.append(ev).entry.seq)")
    assert capsys.readouterr().out == "7\n"


def test_wrong_passphrase_in_dot_keys(
    console: LedgerConsole,
    capsys: pytest.CaptureFixture[str],
    admin_key: tuple[Signer, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", "wrong")
    push(console, f".keys {admin_key[1]}")
    assert "error [wrong_passphrase]" in capsys.readouterr().err
    assert not console.proxy.writable


def test_missing_key_file_in_dot_keys(
    console: LedgerConsole,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", PASS)
    push(console, f".keys {tmp_path / 'nope.key'}")
    err = capsys.readouterr().err
    assert f"error [key_file_unsafe]: key file {tmp_path / 'nope.key'} was not found" in err
    assert "points-ledger keygen" in err and "chmod" not in err
    assert not console.proxy.writable


def test_dot_keys_without_passphrase_or_terminal_names_the_variables(
    console: LedgerConsole,
    capsys: pytest.CaptureFixture[str],
    admin_key: tuple[Signer, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POINTS_LEDGER_PASSPHRASE", raising=False)
    monkeypatch.setattr("points_ledger.cli.app.stdin_is_terminal", lambda: False)
    push(console, f".keys {admin_key[1]}")
    err = capsys.readouterr().err
    assert f"error [command_failed]: no passphrase for key file {admin_key[1]}" in err
    assert "POINTS_LEDGER_PASSPHRASE_ADMIN or POINTS_LEDGER_PASSPHRASE" in err
    assert not console.proxy.writable


def test_proxy_hides_private_state_and_unknown_writes(console: LedgerConsole) -> None:
    with pytest.raises(AttributeError):
        _ = console.proxy._store
    with pytest.raises(ReadOnlyError):
        _ = console.proxy.some_future_write_method
    assert "balance" in dir(console.proxy)
    assert "read-only" in repr(console.proxy)


@pytest.fixture(scope="module")
def log_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Signer, Path]:
    signer = Signer.generate()
    path = tmp_path_factory.mktemp("logkey") / "log.key"
    save_signer(signer, path, PASS)
    return signer, path


@pytest.fixture
def logged_console(
    tmp_path: Path, admin_key: tuple[Signer, Path], log_key: tuple[Signer, Path]
) -> Iterator[LedgerConsole]:
    admin = admin_key[0]
    path = tmp_path / "logged.db"
    with Ledger.create(
        path,
        origin="chengdu.example/test",
        log_key=log_key[0],
        admins=[admin],
        threshold=1,
        effective_at=DAY,
        clock=LEDGER_CLOCK,
    ) as ledger:
        ledger.append(
            OpenAccount(
                id="open-1", effective_at=DAY, account="vol:0001", account_kind=AccountKind.MEMBER
            ),
            [admin],
        )
        yield LedgerConsole(ledger)


def test_checkpoint_without_log_key_explains(
    logged_console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(logged_console, ".checkpoint")
    out = capsys.readouterr().out
    assert "log key" in out and ".keys keys/log.key" in out
    assert logged_console.ledger.checkpoints() == []


def test_receipt_before_any_checkpoint_is_refused(
    logged_console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(logged_console, ".receipt 1")
    assert "error [not_found]" in capsys.readouterr().err


def test_checkpoint_then_receipt_verifies(
    logged_console: LedgerConsole,
    log_key: tuple[Signer, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", PASS)
    push(logged_console, f".checkpoint {log_key[1]}")
    out = capsys.readouterr().out
    assert "checkpoint of 2 entries" in out
    assert out.splitlines()[1] == "chengdu.example/test"
    push(logged_console, ".receipt 1")
    out = capsys.readouterr().out
    assert '"seq": 1' in out and '"format": "points-ledger-receipt/v2"' in out
    assert "receipt verifies with the log's verifier key alone: entry 1" in out
    push(logged_console, ".receipt 9", ".receipt x")
    err = capsys.readouterr().err
    assert "error [not_found]: there is no entry 9: the ledger has 2 entries" in err
    assert "Sign a newer checkpoint" not in err
    assert "error [usage]" in err


def test_report_lists_and_runs(
    logged_console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(logged_console, ".report")
    out = capsys.readouterr().out
    for name in ("member-statement", "top-volunteers", "pool", "settlement-statement", "offers"):
        assert name in out
    push(logged_console, ".report member-statement vol:0001 PTS")
    assert "vol:0001 PTS: posted 0" in capsys.readouterr().out
    push(logged_console, ".report pool", ".report nosuch", ".report member-statement nobody")
    err = capsys.readouterr().err
    assert err.count("error [usage]") == 2
    assert "error [not_found]" in err


def test_dot_commands_can_be_added(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    @dot_command("origin", "", "print the origin")
    def _origin(con: LedgerConsole, args: list[str]) -> None:
        print(con.ledger.origin)

    try:
        push(console, ".origin")
        assert capsys.readouterr().out == "chengdu.example/test\n"
    finally:
        del DOT_COMMANDS["origin"]


def test_quit_raises_system_exit(console: LedgerConsole) -> None:
    with pytest.raises(SystemExit):
        console.push(".quit")


def test_multiline_python_still_works(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    assert console.push("for e in ledger.entries():") is True
    assert console.push("    print(e.seq, e.kind)") is True
    assert console.push("") is False
    kinds = ["genesis", "open_account", *["open_account", "register_key"] * 2, "transfer"]
    assert capsys.readouterr().out == "".join(f"{n} {k}\n" for n, k in enumerate(kinds))


def test_session_in_a_real_terminal(db: Path, admin_key: tuple[Signer, Path]) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "POINTS_LEDGER_PASSPHRASE": PASS,
        "TERM": "dumb",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "points_ledger", "repl", str(db)],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect("read-only until you load keys")
        child.expect("ledger> ")
        child.sendline(".balance vol:0001 PTS")
        child.expect(r"vol:0001\s+PTS\s+30\s+0\s+30")
        child.expect("ledger> ")
        child.sendline(".balance vol:9999")
        child.expect(r"error \[not_found\]: account 'vol:9999' has not been opened")
        child.expect("ledger> ")
        child.sendline("ledger.append(None)")
        child.expect(r"error \[read_only\]")
        child.expect("ledger> ")
        child.sendline(f".keys {admin_key[1]}")
        child.expect(f"loaded key {admin_key[0].key_id}")
        child.expect("ledger> ")
        child.sendline("ledger.size()")
        child.expect("7")
        child.expect("ledger> ")
        child.sendline(".quit")
        child.expect("bye")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_lone_dot_and_python_starting_with_a_dot(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".", "print(.5 + 1)")
    captured = capsys.readouterr()
    assert "error [usage]: a dot-command needs a name" in captured.out + captured.err
    assert "1.5" in captured.out


def test_every_reading_ledger_method_works_before_keys_are_loaded(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(
        console,
        "print(len(ledger.read_only_query('SELECT seq FROM entries')))",
        "print(type(ledger.explain_distribution).__name__)",
        "ledger.checkpoint",
    )
    captured = capsys.readouterr()
    assert captured.out.splitlines()[:2] == ["7", "method"]
    assert "error [read_only]: ledger.checkpoint writes to the ledger" in captured.err
    assert captured.err.count("error [") == 1


def test_counts_the_console_cannot_read_are_usage_errors(
    console: LedgerConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    push(console, ".entries ²", f".entries {'9' * 5000}")
    err = capsys.readouterr().err
    assert err.count("is not a whole number") == 2
    assert "Traceback" not in err
