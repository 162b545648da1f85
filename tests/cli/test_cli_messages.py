"""What the command line says when something is wrong: the cause named, a hint that fits.

Each test runs a command a community worker or volunteer could get wrong and checks that
the one-line error names the real cause and that the hint says what to do on the command
line (not only in Python). The ledger is built with the Python API; only the command under
test goes through the command line (CliRunner), except where a real process is needed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import points_ledger
from conftest import COMMITTEE_PEOPLE, FixedClock, seat_committee, seeded_signer
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
from points_ledger.cli import cli
from points_ledger.cli.app import AppState

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "messages test passphrase"
ORIGIN = "chengdu.example/chenghua/zhiqiang"
DAY = dt.date(2026, 11, 2)
LEDGER_CLOCK = FixedClock(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
"""The fixture ledgers' clock: 09:00 in Chengdu on DAY, whatever the machine's date."""
CLI_STATE = AppState(clock=FixedClock(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)))
"""The command line's clock: 2026-11-20 10:00 in Chengdu, inside the month of DAY."""
SRC = Path(points_ledger.__file__).resolve().parents[1]
WITNESS_NAME = "street.example/fuqinglu/witness"


@dataclass(frozen=True)
class KeySet:
    """Key files made once per module (scrypt costs about half a second per file)."""

    folder: Path
    admin: Signer
    log: Signer
    witness: Signer

    def file(self, name: str) -> str:
        return str(self.folder / f"{name}.key")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    folder = tmp_path_factory.mktemp("keys")
    made = KeySet(folder, Signer.generate(), Signer.generate(), Signer.generate())
    for name in ("admin", "log", "witness"):
        save_signer(getattr(made, name), folder / f"{name}.key", PASS)
    return made


def award(number: int) -> Transfer:
    return Transfer(
        id=f"award-{number}",
        effective_at=DAY,
        postings=(
            Posting(account="issuer", asset=Asset.PTS, amount=-30),
            Posting(account="vol:0001", asset=Asset.PTS, amount=30),
        ),
    )


@pytest.fixture
def db(tmp_path: Path, keys: KeySet) -> Path:
    """Genesis, vol:0001 opened (entry 1), the committee seated (2-5), 30 points to vol:0001 (6)."""
    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin=ORIGIN,
        log_key=keys.log,
        admins=[keys.admin],
        threshold=1,
        effective_at=DAY,
        clock=LEDGER_CLOCK,
    ) as ledger:
        opened = OpenAccount(
            id="open-1", effective_at=DAY, account="vol:0001", account_kind=AccountKind.MEMBER
        )
        ledger.append(opened, [keys.admin])
        committee = seat_committee(ledger, [keys.admin], effective_at=DAY)
        ledger.append(award(1), [keys.admin, *committee])
    return path


def run(db: Path | None, *args: str) -> Result:
    env = {"POINTS_LEDGER_PASSPHRASE": PASS}
    if db is not None:
        env["POINTS_LEDGER_DB"] = str(db)
    result = CliRunner().invoke(cli, list(args), env=env, obj=CLI_STATE)
    assert "Traceback" not in result.output
    return result


def ok(db: Path | None, *args: str) -> Result:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, code: str, exit_code: int = 1) -> tuple[str, str]:
    """The message and hint of a refusal with ``code``; checks the exit code."""
    assert result.exit_code == exit_code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error [")]
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert len(errors) == 1 and len(hints) == 1, result.stderr
    assert errors[0].startswith(f"error [{code}]: "), errors[0]
    return errors[0].removeprefix(f"error [{code}]: "), hints[0].removeprefix("hint: ")


def add_award(db: Path, keys: KeySet, number: int) -> None:
    with Ledger.open(db, clock=LEDGER_CLOCK) as ledger:
        committee = [seeded_signer(f"committee/{person}") for person in COMMITTEE_PEOPLE]
        ledger.append(award(number), [keys.admin, *committee])


# -- the witness ----------------------------------------------------------------------------


def _first_cosignature(db: Path, keys: KeySet, tmp_path: Path) -> tuple[str, ...]:
    """Publish the vkey, sign checkpoint 1 and have the witness cosign it; return its options."""
    (tmp_path / "log.vkey").write_text(ok(db, "vkey").stdout)
    ok(
        db,
        "checkpoint",
        "--log-key",
        keys.file("log"),
        "--record",
        str(db.with_suffix(".record")),
        "--output",
        str(tmp_path / "cp-1.txt"),
    )
    options = ("--state", str(tmp_path / "witness.db"), "--log-vkey", str(tmp_path / "log.vkey"))
    witness = ("--key", keys.file("witness"), "--name", WITNESS_NAME)
    ok(db, "witness", "cosign", str(tmp_path / "cp-1.txt"), *options, *witness)
    return options


def test_witness_cosign_without_proof_says_which_proof_to_give(
    db: Path, keys: KeySet, tmp_path: Path
) -> None:
    options = _first_cosignature(db, keys, tmp_path)
    add_award(db, keys, 2)
    ok(
        db,
        "checkpoint",
        "--log-key",
        keys.file("log"),
        "--record",
        str(db.with_suffix(".record")),
        "--output",
        str(tmp_path / "cp-2.txt"),
    )
    witness = ("--key", keys.file("witness"), "--name", WITNESS_NAME)
    cosign = ("witness", "cosign", str(tmp_path / "cp-2.txt"), *options, *witness)
    message, hint = refused(run(db, *cosign), "proof_invalid")
    assert "no consistency proof was given" in message
    assert "(size 8) is larger than the one this witness accepted (size 7)" in message
    assert "--proof with the output of 'points-ledger consistency-proof 7 8'" in hint
    assert "rewritten" not in hint
    ok(db, "consistency-proof", "7", "8", "--output", str(tmp_path / "proof.txt"))
    ok(db, *cosign, "--proof", str(tmp_path / "proof.txt"))


def test_witness_cosign_says_whether_the_name_or_the_key_differs(
    db: Path, keys: KeySet, tmp_path: Path
) -> None:
    options = _first_cosignature(db, keys, tmp_path)
    note = str(tmp_path / "cp-1.txt")
    renamed = run(
        db, "witness", "cosign", note, *options, "--key", keys.file("witness"), "--name", "w2"
    )
    message, hint = refused(renamed, "storage_error")
    assert message.endswith(f"belongs to witness '{WITNESS_NAME}'; you gave the name 'w2'")
    assert f"--name {WITNESS_NAME}" in hint
    rekeyed = run(
        db, "witness", "cosign", note, *options, "--key", keys.file("admin"), "--name", WITNESS_NAME
    )
    message, _ = refused(rekeyed, "storage_error")
    assert message.endswith(f"belongs to witness '{WITNESS_NAME}' with another key")


# -- key files ------------------------------------------------------------------------------


def test_missing_key_file_says_not_found_and_how_to_make_one(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.key"
    message, hint = refused(
        run(db, "account", "open", "vol:0002", "--key", str(missing)), "key_file_unsafe"
    )
    assert message == f"key file {missing} was not found"
    assert "points-ledger keygen" in hint and "chmod" not in hint


def test_key_register_from_a_missing_file_says_not_found(
    db: Path, keys: KeySet, tmp_path: Path
) -> None:
    missing = tmp_path / "phone.key"
    result = run(
        db,
        "key",
        "register",
        "--from-file",
        str(missing),
        "--role",
        "member",
        "--key",
        keys.file("admin"),
    )
    message, hint = refused(result, "key_file_unsafe")
    assert message == f"key file {missing} was not found"
    assert "points-ledger keygen" in hint and "chmod" not in hint


def test_keygen_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "k.key"
    message, hint = refused(run(None, "keygen", str(target)), "key_file_unsafe")
    assert message == f"cannot create key file {target}: the folder {target.parent} does not exist"
    assert "chmod" not in hint and "folder" in hint


# -- receipts and checkpoints ---------------------------------------------------------------


def test_receipt_for_an_entry_that_does_not_exist(db: Path, keys: KeySet) -> None:
    ok(db, "checkpoint", "--log-key", keys.file("log"), "--record", str(db.with_suffix(".record")))
    message, hint = refused(run(db, "receipt", "9999"), "not_found")
    assert message == "there is no entry 9999: the ledger has 7 entries"
    assert "checkpoint" not in hint


def test_verify_receipt_with_a_missing_vkey_file(db: Path, keys: KeySet, tmp_path: Path) -> None:
    ok(db, "checkpoint", "--log-key", keys.file("log"), "--record", str(db.with_suffix(".record")))
    ok(db, "receipt", "6", "--output", str(tmp_path / "r.json"))
    missing = tmp_path / "missing.vkey"
    message, hint = refused(
        run(None, "verify-receipt", str(tmp_path / "r.json"), "--vkey", str(missing)),
        "command_failed",
    )
    assert message == f"verifier key file {missing} was not found"
    assert "points-ledger vkey" in hint


def test_doctored_receipt_gets_a_hint_for_a_receipt(db: Path, keys: KeySet, tmp_path: Path) -> None:
    ok(db, "checkpoint", "--log-key", keys.file("log"), "--record", str(db.with_suffix(".record")))
    (tmp_path / "log.vkey").write_text(ok(db, "vkey").stdout)
    document = json.loads(ok(db, "receipt", "6").stdout)
    document["postings"][1]["amount"] = 3000
    (tmp_path / "r.json").write_text(json.dumps(document))
    result = run(
        None, "verify-receipt", str(tmp_path / "r.json"), "--vkey", str(tmp_path / "log.vkey")
    )
    message, hint = refused(result, "integrity_failure", exit_code=3)
    assert "the receipt was altered" in message
    assert "receipt" in hint and "public key" in hint
    assert "backup" not in hint and "Do not write" not in hint


# -- hints for both audiences ---------------------------------------------------------------


def test_hints_name_the_command_as_well_as_the_python_call(db: Path, keys: KeySet) -> None:
    _, hint = refused(run(db, "receipt", "6"), "not_found")
    assert "points-ledger checkpoint" in hint
    _, hint = refused(run(db, "checkpoint", "--log-key", keys.file("admin")), "bad_signature")
    assert "points-ledger vkey" in hint
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DROP TRIGGER postings_no_update")
        conn.execute("UPDATE postings SET amount = 999 WHERE seq = 6 AND amount > 0")
    conn.close()
    _, hint = refused(run(db, "verify"), "integrity_failure", exit_code=3)
    assert "points-ledger audit" in hint and "audit()" not in hint


def test_default_hints_name_the_command_too(db: Path, keys: KeySet) -> None:
    transfer = ("transfer", "issuer:PTS:-5", "vol:9999:PTS:5", "--key", keys.file("admin"))
    _, hint = refused(run(db, *transfer), "unknown_account")
    assert "points-ledger account open" in hint


# -- reversals ------------------------------------------------------------------------------


def test_reverse_of_a_kind_that_cannot_be_reversed_lists_those_that_can(
    db: Path, keys: KeySet
) -> None:
    message, hint = refused(
        run(db, "reverse", "1", "--reason", "mistake", "--key", keys.file("admin")),
        "invalid_event",
    )
    assert message == "entry 1 is a 'open_account' event, which cannot be reversed"
    assert "award_points, transfer" in hint
    assert "move value" not in hint


# -- passphrases without a terminal ---------------------------------------------------------


def _without_terminal(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line as a process with no passphrase, no stdin and no terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run(
        [sys.executable, "-m", "points_ledger", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no controlling terminal: getpass cannot open /dev/tty
    )


def test_no_passphrase_and_no_terminal_is_a_clear_refusal(
    db: Path, keys: KeySet, tmp_path: Path
) -> None:
    proc = _without_terminal(
        ["--ledger", str(db), "account", "open", "vol:0002", "--key", keys.file("admin")], tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(
        f"error [command_failed]: no passphrase for key file {keys.file('admin')}"
    )
    assert "POINTS_LEDGER_PASSPHRASE_ADMIN or POINTS_LEDGER_PASSPHRASE" in proc.stderr


def test_init_without_passphrase_or_terminal_is_a_clear_refusal(tmp_path: Path) -> None:
    proc = _without_terminal(["init", "--origin", ORIGIN], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error [command_failed]: no passphrase for the new log key")
    assert "POINTS_LEDGER_PASSPHRASE" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_missing_key_file_is_named_before_any_passphrase_is_asked_for(
    db: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.key"
    proc = _without_terminal(
        ["--ledger", str(db), "account", "open", "vol:0002", "--key", str(missing)], tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"error [key_file_unsafe]: key file {missing} was not found")
