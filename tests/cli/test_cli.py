"""The ``points-ledger`` command line, driven through click's CliRunner."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
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
    KeySpec,
    Ledger,
    OpenAccount,
    Posting,
    RegisterKey,
    Role,
    Signer,
    Transfer,
    save_signer,
)
from points_ledger.cli import EXIT_CODES, cli
from points_ledger.cli.app import AppState, passphrase_env_name
from points_ledger.cli.ledger_cmds import parse_amount, parse_posting
from points_ledger.demo import STEPS, run_demo
from points_ledger.errors import InvalidEventError, StorageError
from points_ledger.models import AMOUNT_MAX

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "correct horse battery staple"
LOG_PASS = "the log key's own passphrase"
ORIGIN = "chengdu.example/chenghua/zhiqiang"
DAY = dt.date(2026, 11, 2)
LEDGER_CLOCK = FixedClock(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC))
"""The fixture ledgers' clock: 09:00 in Chengdu on DAY, whatever the machine's date."""
CLI_STATE = AppState(clock=FixedClock(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)))
"""The command line's clock: 2026-11-20 10:00 in Chengdu, inside the month of DAY."""
SRC = Path(points_ledger.__file__).resolve().parents[1]


@dataclass(frozen=True)
class KeySet:
    """Key files made once per module (scrypt costs about half a second per file)."""

    folder: Path
    admin: Signer
    member: Signer
    spare: Signer

    @property
    def admin_file(self) -> Path:
        return self.folder / "admin.key"

    @property
    def member_file(self) -> Path:
        return self.folder / "member.key"

    @property
    def spare_file(self) -> Path:
        return self.folder / "spare.key"

    @property
    def committee_files(self) -> list[str]:
        """``--key`` arguments for the seated committee (cm:0001, cm:0002)."""
        return [f"--key={self.folder / f'committee-{n}.key'}" for n in range(2)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    folder = tmp_path_factory.mktemp("keys")
    made = KeySet(folder, Signer.generate(), Signer.generate(), Signer.generate())
    save_signer(made.admin, made.admin_file, PASS)
    save_signer(made.member, made.member_file, PASS)
    save_signer(made.spare, made.spare_file, PASS)
    for n, person in enumerate(COMMITTEE_PEOPLE):
        signer = seeded_signer(f"committee/{person}")
        save_signer(signer, folder / f"committee-{n}.key", PASS)
    return made


@pytest.fixture
def db(tmp_path: Path, keys: KeySet) -> Path:
    """Entries 0-4: genesis, vol:0001 (key registered), vol:0002, a fund; 5-8: the committee
    (cm:0001, cm:0002) seated; 9: 30 PTS to vol:0001 (admin and committee signed)."""
    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin=ORIGIN,
        log_key=Signer.generate(),
        admins=[keys.admin],
        threshold=1,
        effective_at=DAY,
        clock=LEDGER_CLOCK,
    ) as lg:
        admins = [keys.admin]
        lg.append_many(
            [
                (
                    OpenAccount(
                        id="open-1",
                        effective_at=DAY,
                        account="vol:0001",
                        account_kind=AccountKind.MEMBER,
                        grid=("成华区", "府青路街道"),
                    ),
                    admins,
                ),
                (
                    OpenAccount(
                        id="open-2",
                        effective_at=DAY,
                        account="vol:0002",
                        account_kind=AccountKind.MEMBER,
                    ),
                    admins,
                ),
                (
                    OpenAccount(
                        id="open-fund",
                        effective_at=DAY,
                        account="fund:village",
                        account_kind=AccountKind.FUND,
                    ),
                    admins,
                ),
                (
                    RegisterKey(
                        id="key-1",
                        effective_at=DAY,
                        key=KeySpec(
                            public_key=keys.member.public_key_b64,
                            roles=(Role.MEMBER,),
                            owner="vol:0001",
                        ),
                    ),
                    admins,
                ),
            ]
        )
        committee = seat_committee(lg, admins, effective_at=DAY)
        lg.append(
            Transfer(
                id="award-1",
                effective_at=DAY,
                memo="燃气安全检查",
                postings=(
                    Posting(account="issuer", asset=Asset.PTS, amount=-30),
                    Posting(account="vol:0001", asset=Asset.PTS, amount=30),
                ),
            ),
            [*admins, *committee],
        )
    return path


def run(
    db: Path | None,
    *args: str,
    passphrase: str | None = PASS,
    input: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Result:
    env = {"POINTS_LEDGER_PASSPHRASE": passphrase or "", "POINTS_LEDGER_PASSPHRASE_LOG": LOG_PASS}
    if db is not None:
        env["POINTS_LEDGER_DB"] = str(db)
    env.update(extra_env or {})
    result = CliRunner().invoke(cli, list(args), env=env, input=input, obj=CLI_STATE)
    assert "Traceback" not in result.output
    return result


def error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error [")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def tamper(path: Path) -> None:
    """Change a stored posting behind the ledger's back (dropping its guard trigger)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP TRIGGER postings_no_update")
        conn.execute("UPDATE postings SET amount = 999 WHERE seq = 9 AND amount > 0")
    conn.close()


# -- the group -------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = run(None, "--help")
    assert result.exit_code == 0
    for name in (
        "init",
        "keygen",
        "account",
        "key",
        "transfer",
        "reverse",
        "balance",
        "statement",
        "entries",
        "entry",
        "verify",
        "audit",
        "export",
        "repl",
        "demo",
    ):
        assert f"  {name} " in result.output


def test_exit_codes_are_documented() -> None:
    assert set(EXIT_CODES) == {0, 1, 2, 3, 130}


def test_usage_error_is_one_line_with_exit_2(db: Path) -> None:
    result = run(db, "balance")
    assert result.exit_code == 2
    assert error_line(result).startswith("error [usage]: Missing argument")
    assert "hint: Run 'points-ledger balance --help'" in result.stderr


def test_unknown_command_is_usage_error() -> None:
    result = run(None, "frobnicate")
    assert result.exit_code == 2
    assert "error [usage]" in error_line(result)


def test_missing_ledger_file_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path / "nope.db", "entries")
    assert result.exit_code == 1
    assert error_line(result).startswith("error [storage_error]:")
    assert "hint:" in result.stderr


def test_main_returns_code_instead_of_exiting(tmp_path: Path) -> None:
    code = points_ledger.cli.main(["--ledger", str(tmp_path / "nope.db"), "entries"])
    assert code == 1


# -- init and keygen ---------------------------------------------------------------------


def test_init_creates_key_files_and_ledger(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    keys_dir = tmp_path / "keys"
    result = run(
        path,
        "init",
        "--origin",
        ORIGIN,
        "--keys-dir",
        str(keys_dir),
        "--admins",
        "2",
        "--threshold",
        "2",
        "--date",
        "2026-11-01",
        "--json",
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["origin"] == ORIGIN and info["admin_threshold"] == 2
    assert info["log_key"]["vkey"].startswith(ORIGIN + "+")
    names = sorted(p.name for p in keys_dir.iterdir())
    assert names == ["admin-1.key", "admin-2.key", "log.key"]
    assert all((keys_dir / n).stat().st_mode & 0o777 == 0o600 for n in names)
    with Ledger.open(path) as ledger:
        genesis = ledger.entry(0)
        assert ledger.origin == ORIGIN
        assert genesis.event.effective_at == dt.date(2026, 11, 1)
        assert {s.key_id for s in genesis.signatures} == {a["key_id"] for a in info["admins"]}

    again = run(tmp_path / "other.db", "init", "--origin", ORIGIN, "--keys-dir", str(keys_dir))
    assert again.exit_code == 1
    assert error_line(again).startswith("error [key_file_unsafe]: key file")
    assert "never overwritten" in again.stderr
    assert not (tmp_path / "other.db").exists()


def test_init_warns_when_one_folder_holds_enough_admin_keys(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    result = run(tmp_path / "x.db", "init", "--origin", ORIGIN, "--keys-dir", str(keys_dir))
    assert result.exit_code == 0, result.output
    assert (
        f"warning: the folder {keys_dir} holds 2 admin keys (admin-1.key, admin-2.key); "
        "whoever copies it can sign as 2 admins, and 2 are enough." in result.stderr
    )
    assert "--keys-dir once per admin" in result.stderr
    assert "warning" not in result.stdout


@pytest.mark.parametrize("spelling", ["absolute", "dotdot", "symlink"])
def test_init_warns_of_one_folder_given_twice_under_other_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Path("keys")
    second = {
        "absolute": tmp_path / "keys",
        "dotdot": Path("keys/../keys"),
        "symlink": Path("link"),
    }[spelling]
    if spelling == "symlink":
        first.mkdir()
        second.symlink_to(first, target_is_directory=True)
    result = run(
        tmp_path / "x.db",
        *("init", "--origin", ORIGIN, "--keys-dir", str(first), "--keys-dir", str(second)),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "admin-1.key",
        "admin-2.key",
        "log.key",
    ]
    assert (
        f"warning: the folder {first} holds 2 admin keys (admin-1.key, admin-2.key)"
        in result.stderr
    )


def test_init_with_a_folder_per_admin_keeps_each_admin_key_apart(tmp_path: Path) -> None:
    office, second, third = (tmp_path / name for name in ("office", "chen", "liu"))
    args = ["init", "--origin", ORIGIN, "--admins", "3", "--threshold", "2", "--json"]
    result = run(
        tmp_path / "x.db",
        *args,
        *("--keys-dir", str(office), "--keys-dir", str(second), "--keys-dir", str(third)),
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    assert sorted(p.name for p in office.iterdir()) == ["admin-1.key", "log.key"]
    assert [p.name for p in second.iterdir()] == ["admin-2.key"]
    assert [p.name for p in third.iterdir()] == ["admin-3.key"]
    assert all(folder.stat().st_mode & 0o777 == 0o700 for folder in (office, second, third))
    info = json.loads(result.stdout)
    assert [a["path"] for a in info["admins"]] == [
        str(office / "admin-1.key"),
        str(second / "admin-2.key"),
        str(third / "admin-3.key"),
    ]
    # Admins past the folders given share the last one: there two keys meet threshold 2.
    shared = run(
        tmp_path / "y.db",
        *args,
        *("--keys-dir", str(tmp_path / "a"), "--keys-dir", str(tmp_path / "b")),
    )
    assert shared.exit_code == 0, shared.output
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["admin-2.key", "admin-3.key"]
    assert "holds 2 admin keys (admin-2.key, admin-3.key)" in shared.stderr
    too_many = run(
        tmp_path / "z.db",
        *("init", "--origin", ORIGIN),
        *(f"--keys-dir={tmp_path / name}" for name in ("a1", "a2", "a3")),
    )
    assert too_many.exit_code == 2
    assert "--keys-dir is given 3 times for 2 admin keys" in too_many.stderr
    assert not (tmp_path / "z.db").exists() and not (tmp_path / "a1").exists()


def test_a_single_admin_ledger_gives_no_folder_warning(tmp_path: Path) -> None:
    keys_dir = str(tmp_path / "keys")
    result = run(
        tmp_path / "x.db", "init", "--origin", ORIGIN, "--single-admin", "--keys-dir", keys_dir
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_init_refuses_existing_ledger_before_making_keys(db: Path, tmp_path: Path) -> None:
    result = run(db, "init", "--origin", ORIGIN, "--keys-dir", str(tmp_path / "k2"))
    assert result.exit_code == 1
    assert error_line(result).startswith("error [storage_error]:")
    assert not (tmp_path / "k2").exists()


@pytest.mark.parametrize(
    ("ledger", "origin"),
    [("x.db", "Chengdu.example/x"), ("no-such-folder/x.db", ORIGIN)],
    ids=["bad-origin", "missing-folder"],
)
def test_a_failed_init_leaves_no_keys_and_can_be_run_again(
    tmp_path: Path, ledger: str, origin: str
) -> None:
    keys_dir = tmp_path / "keys"
    failed = run(tmp_path / ledger, "init", "--origin", origin, "--keys-dir", str(keys_dir))
    assert failed.exit_code == 1, failed.output
    assert not keys_dir.exists()
    assert not (tmp_path / ledger).exists()
    retried = run(tmp_path / "x.db", "init", "--origin", ORIGIN, "--keys-dir", str(keys_dir))
    assert retried.exit_code == 0, retried.output
    assert sorted(p.name for p in keys_dir.iterdir()) == ["admin-1.key", "admin-2.key", "log.key"]


def test_a_failed_init_keeps_what_was_already_in_the_keys_folder(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    (keys_dir / "worker.key").write_text("not init's", encoding="utf-8")
    failed = run(tmp_path / "x.db", "init", "--origin", "Bad Origin", "--keys-dir", str(keys_dir))
    assert failed.exit_code == 1
    assert [p.name for p in keys_dir.iterdir()] == ["worker.key"]


def test_init_makes_two_admins_by_default_and_one_only_when_asked(tmp_path: Path) -> None:
    default = run(
        tmp_path / "two.db",
        "init",
        "--origin",
        ORIGIN,
        "--keys-dir",
        str(tmp_path / "k2"),
        "--json",
    )
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["admin_threshold"] == 2
    assert len(json.loads(default.stdout)["admins"]) == 2
    for extra in (["--admins", "1"], ["--admins", "3", "--threshold", "1"]):
        alone = run(
            tmp_path / "one.db",
            "init",
            "--origin",
            ORIGIN,
            "--keys-dir",
            str(tmp_path / "k1"),
            *extra,
        )
        assert alone.exit_code == 2
        assert "--single-admin" in alone.output
        assert not (tmp_path / "one.db").exists()
    single = run(
        tmp_path / "one.db",
        "init",
        "--origin",
        ORIGIN,
        "--keys-dir",
        str(tmp_path / "k1"),
        "--single-admin",
    )
    assert single.exit_code == 0, single.output
    with Ledger.open(tmp_path / "one.db") as ledger:
        report = ledger.audit()
    assert report.ok
    assert [f.code for f in report.findings] == ["single_admin"]
    assert "finding: [single_admin]" in report.to_text()
    audited = run(tmp_path / "one.db", "audit")
    assert audited.exit_code == 0
    assert "single_admin" in audited.output


def test_init_threshold_above_admins_is_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path / "x.db", "init", "--origin", ORIGIN, "--threshold", "3")
    assert result.exit_code == 2


def test_keygen_writes_a_loadable_file_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "phone.key"
    result = run(None, "keygen", str(target), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    signer = points_ledger.load_signer(target, PASS)
    assert info["key_id"] == signer.key_id and info["public_key"] == signer.public_key_b64
    again = run(None, "keygen", str(target))
    assert again.exit_code == 1
    assert error_line(again).startswith("error [key_file_unsafe]: key file")


def test_keygen_prompts_twice_without_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("points_ledger.cli.app.stdin_is_terminal", lambda: True)
    target = tmp_path / "prompted.key"
    result = run(None, "keygen", str(target), passphrase=None, input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    points_ledger.load_signer(target, "s3cret-pass")


# -- writing -------------------------------------------------------------------------------


def test_account_open(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "account",
        "open",
        "vol:0003",
        "--grid",
        "成华区",
        "--grid",
        "致强社区",
        "--key",
        str(keys.admin_file),
        "--id",
        "open-3",
        "--date",
        "2026-11-03",
    )
    assert result.exit_code == 0, result.output
    assert "created entry 10 (open_account, id open-3)" in result.stdout
    with Ledger.open(db) as ledger:
        record = ledger.account("vol:0003")
        assert record.grid == ("成华区", "致强社区") and record.kind is AccountKind.MEMBER


def test_account_open_existing_is_refused(db: Path, keys: KeySet) -> None:
    result = run(db, "account", "open", "vol:0001", "--key", str(keys.admin_file))
    assert result.exit_code == 1
    assert error_line(result).startswith("error [account_exists]:")


def test_a_mistyped_year_in_date_is_refused_and_not_written(db: Path, keys: KeySet) -> None:
    with Ledger.open(db) as ledger:
        size = ledger.size()
    key = str(keys.admin_file)
    result = run(db, "account", "open", "vol:0009", "--date", "2035-11-02", "--key", key)
    assert result.exit_code == 1
    assert error_line(result).startswith("error [effective_date_out_of_range]:")
    assert "2035-11-02" in result.output
    with Ledger.open(db) as ledger:
        assert ledger.size() == size


def test_write_needs_a_key(db: Path) -> None:
    result = run(db, "account", "open", "vol:0009")
    assert result.exit_code == 2
    assert "--key" in error_line(result)


def test_transfer_with_id_is_idempotent(db: Path, keys: KeySet) -> None:
    args = (
        "transfer",
        "vol:0001:PTS:-10",
        "vol:0002:PTS:10",
        "--key",
        str(keys.member_file),
        "--id",
        "gift-1",
        "--memo",
        "赠送",
    )
    first = run(db, *args)
    assert first.exit_code == 0, first.output
    assert "created entry 10 (transfer, id gift-1)" in first.stdout
    assert "vol:0001 -10 PTS, vol:0002 +10 PTS" in first.stdout
    second = run(db, *args, "--json")
    assert second.exit_code == 0
    doc = json.loads(second.stdout)
    assert doc["status"] == "exists" and doc["seq"] == 10 and doc["event"]["memo"] == "赠送"


def test_transfer_generated_id_is_announced_before_writing(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "transfer",
        "issuer:PTS:-5",
        "vol:0002:PTS:5",
        "--key",
        str(keys.admin_file),
        *keys.committee_files,
    )
    assert result.exit_code == 0, result.output
    announced = [line for line in result.stderr.splitlines() if line.startswith("event id: ")]
    event_id = announced[0].split()[2]
    assert f"--id {event_id}" in announced[0]
    with Ledger.open(db) as ledger:
        assert ledger.entry(10).event_id == event_id


def test_transfer_money_in_yuan(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "transfer",
        "external:CNY:-1234.5",
        "fund:village:CNY:1234.50",
        "--key",
        str(keys.admin_file),
        *keys.committee_files,
        "--id",
        "income-1",
    )
    assert result.exit_code == 0, result.output
    with Ledger.open(db) as ledger:
        assert ledger.balance("fund:village", Asset.CNY).posted == 123450
    shown = run(db, "balance", "fund:village", "--asset", "CNY")
    assert "1,234.50" in shown.stdout


def test_transfer_insufficient_balance(db: Path, keys: KeySet) -> None:
    result = run(
        db, "transfer", "vol:0001:PTS:-300", "vol:0002:PTS:300", "--key", str(keys.member_file)
    )
    assert result.exit_code == 1
    assert error_line(result).startswith("error [insufficient_balance]:")
    assert "hint: Check the account's available balance" in result.stderr
    with Ledger.open(db) as ledger:
        assert ledger.size() == 10


def test_transfer_unknown_account(db: Path, keys: KeySet) -> None:
    result = run(db, "transfer", "issuer:PTS:-5", "vol:9999:PTS:5", "--key", str(keys.admin_file))
    assert result.exit_code == 1
    assert error_line(result).startswith("error [unknown_account]:")


def test_transfer_wrong_passphrase(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "transfer",
        "issuer:PTS:-5",
        "vol:0002:PTS:5",
        "--key",
        str(keys.admin_file),
        passphrase="not the passphrase",
    )
    assert result.exit_code == 1
    assert error_line(result).startswith("error [wrong_passphrase]:")
    # Nothing was typed: the message names the variable it came from and the one to set.
    assert "read from POINTS_LEDGER_PASSPHRASE" in result.stderr
    assert f"Set {passphrase_env_name(keys.admin_file)}" in result.stderr
    assert "not the passphrase" not in result.output


def test_per_file_passphrase_variable_wins(db: Path, keys: KeySet) -> None:
    env = {passphrase_env_name(keys.member_file): PASS}
    assert passphrase_env_name(Path("keys/admin-1.key")) == "POINTS_LEDGER_PASSPHRASE_ADMIN_1"
    result = run(
        db,
        "transfer",
        "vol:0001:PTS:-5",
        "vol:0002:PTS:5",
        "--key",
        str(keys.member_file),
        passphrase="wrong",
        extra_env=env,
    )
    assert result.exit_code == 0, result.output


def test_passphrase_prompt_when_no_env(
    db: Path, keys: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("points_ledger.cli.app.stdin_is_terminal", lambda: True)
    result = run(
        db,
        "transfer",
        "vol:0001:PTS:-5",
        "vol:0002:PTS:5",
        "--key",
        str(keys.member_file),
        passphrase=None,
        input=PASS + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASS not in result.output


def test_transfer_not_authorized(db: Path, keys: KeySet) -> None:
    result = run(db, "transfer", "vol:0001:PTS:-5", "vol:0002:PTS:5", "--key", str(keys.spare_file))
    assert result.exit_code == 1
    assert error_line(result).startswith("error [unknown_key]:")


@pytest.mark.parametrize("posting", ["vol:0001:PTS:1.5", "vol:0001:XYZ:5", "nonsense", "a:PTS:x"])
def test_malformed_posting_is_usage_error(db: Path, keys: KeySet, posting: str) -> None:
    result = run(db, "transfer", posting, "vol:0002:PTS:5", "--key", str(keys.admin_file))
    assert result.exit_code == 2
    assert error_line(result).startswith("error [usage]:")


def test_bad_date_is_usage_error(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "transfer",
        "issuer:PTS:-5",
        "vol:0002:PTS:5",
        "--key",
        str(keys.admin_file),
        "--date",
        "2026-13-01",
    )
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in error_line(result)


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1,000", 100_000), ("12,500.50", 1_250_050), ("-1,234,567.89", -123_456_789), ("007", 700)],
)
def test_commas_group_thousands_only(text: str, fen: int) -> None:
    assert parse_amount(text, Asset.CNY) == fen


@pytest.mark.parametrize("text", ["1,50", "0,05", "1,0,0", "10,00.00", ",100", "100,", "1_000"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(text: str) -> None:
    """``1,50`` must not become 150 yuan: a decimal comma is refused, never dropped."""
    with pytest.raises(InvalidEventError, match="is not an amount"):
        parse_amount(text, Asset.CNY)


def test_an_amount_too_large_says_so() -> None:
    # The command line holds amounts to the ledger's one bound, AMOUNT_MAX, either way.
    with pytest.raises(InvalidEventError, match="too large"):
        parse_amount("9" * 17, Asset.PTS)
    with pytest.raises(InvalidEventError, match="too large"):
        parse_amount(str(AMOUNT_MAX + 1), Asset.PTS)
    with pytest.raises(InvalidEventError, match="too large"):
        parse_amount(f"-{AMOUNT_MAX // 100}.01", Asset.CNY)
    assert parse_amount(str(AMOUNT_MAX), Asset.PTS) == AMOUNT_MAX
    assert parse_amount(f"-{AMOUNT_MAX // 100}.00", Asset.CNY) == -AMOUNT_MAX


def test_a_decimal_comma_on_the_command_line_changes_nothing(db: Path, keys: KeySet) -> None:
    with Ledger.open(db) as ledger:
        before = ledger.size()
    result = run(
        db, "transfer", "issuer:PTS:-1,50", "vol:0001:PTS:1,50", "--key", str(keys.admin_file)
    )
    assert result.exit_code != 0
    assert "commas may only separate thousands" in error_line(result)
    with Ledger.open(db) as ledger:
        assert ledger.size() == before


def test_parse_amount_and_posting() -> None:
    assert parse_amount("30", Asset.PTS) == 30
    assert parse_amount("-1,000", Asset.PTS) == -1000
    assert parse_amount("12.5", Asset.CNY) == 1250
    assert parse_amount("0.05", Asset.CNY) == 5
    assert parse_amount("-3", Asset.CNY) == -300
    with pytest.raises(InvalidEventError):
        parse_amount("1.234", Asset.CNY)
    with pytest.raises(InvalidEventError):
        parse_amount("1e3", Asset.PTS)
    posting = parse_posting("vol:0001:pts:30")
    assert (posting.account, posting.asset, posting.amount) == ("vol:0001", Asset.PTS, 30)


def test_key_register_from_file_and_revoke(db: Path, keys: KeySet) -> None:
    result = run(
        db,
        "key",
        "register",
        "--from-file",
        str(keys.spare_file),
        "--role",
        "issuer",
        "--owner",
        "vol:0002",
        "--key",
        str(keys.admin_file),
        "--id",
        "reg-spare",
    )
    assert result.exit_code == 0, result.output
    with Ledger.open(db) as ledger:
        record = ledger.key(keys.spare.key_id)
        assert record.roles == (Role.ISSUER,) and record.owner == "vol:0002"
    revoked = run(
        db,
        "key",
        "revoke",
        keys.spare.key_id,
        "--reason",
        "phone lost",
        "--key",
        str(keys.admin_file),
    )
    assert revoked.exit_code == 0, revoked.output
    refused = run(
        db, "transfer", "vol:0002:PTS:-1", "vol:0001:PTS:1", "--key", str(keys.spare_file)
    )
    assert refused.exit_code == 1
    assert error_line(refused).startswith("error [key_revoked]:")


def test_key_register_from_base64(db: Path, keys: KeySet) -> None:
    fresh = Signer.generate()
    result = run(
        db,
        "key",
        "register",
        "--public-key",
        fresh.public_key_b64,
        "--role",
        "member",
        "--role",
        "committee",
        "--owner",
        "vol:0002",
        "--key",
        str(keys.admin_file),
        *keys.committee_files,
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"]["key"]["roles"] == ["member", "committee"]


def test_key_register_needs_exactly_one_source(db: Path, keys: KeySet) -> None:
    result = run(db, "key", "register", "--role", "member", "--key", str(keys.admin_file))
    assert result.exit_code == 2
    assert "exactly one of --from-file and --public-key" in error_line(result)


def test_key_register_rejects_a_non_key_file(db: Path, keys: KeySet, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.key"
    bogus.write_text("{}", "utf-8")
    result = run(
        db,
        "key",
        "register",
        "--from-file",
        str(bogus),
        "--role",
        "member",
        "--key",
        str(keys.admin_file),
    )
    assert result.exit_code == 1
    assert error_line(result).startswith("error [key_file_unsafe]:")


def test_reverse_once(db: Path, keys: KeySet) -> None:
    result = run(db, "reverse", "9", "--reason", "entered twice", "--key", str(keys.admin_file))
    assert result.exit_code == 0, result.output
    assert "vol:0001 -30 PTS" in result.stdout
    again = run(db, "reverse", "9", "--reason", "again", "--key", str(keys.admin_file))
    assert again.exit_code == 1
    assert error_line(again).startswith("error [already_reversed]:")


# -- reading -------------------------------------------------------------------------------


def test_balance_table_and_json(db: Path) -> None:
    table = run(db, "balance", "vol:0001")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == [
        "account",
        "asset",
        "posted",
        "pending",
        "available",
    ]
    assert "vol:0001  PTS" in table.stdout and "0.00" in table.stdout
    one = run(db, "balance", "vol:0001", "--asset", "pts", "--json")
    assert json.loads(one.stdout) == {
        "account": "vol:0001",
        "asset": "PTS",
        "posted": 30,
        "pending": 0,
        "available": 30,
    }
    lines = run(db, "balance", "vol:0001", "--json").stdout.splitlines()
    assert [json.loads(line)["asset"] for line in lines] == ["PTS", "CNY"]


def test_balance_at_seq_and_date(db: Path) -> None:
    before = run(db, "balance", "vol:0001", "--asset", "PTS", "--at-seq", "4", "--json")
    assert json.loads(before.stdout)["posted"] == 0
    by_date = run(db, "balance", "vol:0001", "--asset", "PTS", "--at-date", "2026-11-02", "--json")
    assert json.loads(by_date.stdout)["posted"] == 30
    earlier = run(db, "balance", "vol:0001", "--asset", "PTS", "--at-date", "2026-11-01", "--json")
    assert json.loads(earlier.stdout)["posted"] == 0


def test_balance_unknown_account(db: Path) -> None:
    result = run(db, "balance", "vol:9999")
    assert result.exit_code == 1
    assert error_line(result).startswith("error [not_found]: account 'vol:9999'")


def test_statement(db: Path) -> None:
    result = run(db, "statement", "vol:0001")
    assert result.exit_code == 0
    assert "award-1" in result.stdout and "燃气安全检查" in result.stdout
    doc = json.loads(run(db, "statement", "vol:0001", "--json").stdout.splitlines()[0])
    assert doc["seq"] == 9 and doc["amount"] == 30 and doc["balance"] == 30


def test_entries_table_and_json_lines(db: Path) -> None:
    table = run(db, "entries", "--start", "8", "--limit", "2")
    assert table.exit_code == 0
    assert "register_key" in table.stdout and "issuer -30 PTS, vol:0001 +30 PTS" in table.stdout
    assert "genesis" not in table.stdout
    lines = run(db, "entries", "--json").stdout.splitlines()
    assert len(lines) == 10
    docs = [json.loads(line) for line in lines]
    with Ledger.open(db) as ledger:
        stored = ledger.entry(9)
    assert base64.b64decode(docs[9]["event_bytes"]) == stored.event_bytes
    assert base64.b64decode(docs[9]["hash"]) == stored.hash


def test_entry_shows_postings_and_signatures(db: Path, keys: KeySet) -> None:
    result = run(db, "entry", "9")
    assert result.exit_code == 0
    assert "award-1" in result.stdout and "燃气安全检查" in result.stdout
    assert keys.admin.key_id in result.stdout and "admin" in result.stdout
    assert "vol:0001  PTS" in result.stdout
    doc = json.loads(run(db, "entry", "9", "--json").stdout)
    assert keys.admin.key_id in [signature["key_id"] for signature in doc["signatures"]]


def test_entry_not_found(db: Path) -> None:
    result = run(db, "entry", "99")
    assert result.exit_code == 1
    assert error_line(result) == "error [not_found]: there is no entry 99"


# -- verify, audit, export ----------------------------------------------------------------


def test_verify_and_audit_pass(db: Path) -> None:
    verify = run(db, "verify")
    assert verify.exit_code == 0 and "verify passed: 10 entries" in verify.stdout
    audit = run(db, "audit", "--json")
    assert audit.exit_code == 0
    assert json.loads(audit.stdout)["ok"] is True


def test_verify_tampered_file_exits_3(db: Path) -> None:
    tamper(db)
    result = run(db, "verify")
    assert result.exit_code == 3
    assert error_line(result).startswith("error [integrity_failure]: entry 9:")
    as_json = run(db, "verify", "--json")
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["seq"] == 9


def test_audit_tampered_file_exits_3(db: Path) -> None:
    tamper(db)
    result = run(db, "audit")
    assert result.exit_code == 3
    assert "audit FAILED" in result.stdout and "entry 9" in result.stdout
    doc = json.loads(run(db, "audit", "--json").stdout)
    assert doc["ok"] is False and 9 in [p["seq"] for p in doc["problems"]]


def test_export_csv_has_bom_and_chinese(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    result = run(db, "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["account"], r["amount"]) for r in rows] == [("issuer", "-30"), ("vol:0001", "30")]
    assert rows[1]["memo"] == "燃气安全检查" and rows[1]["event_id"] == "award-1"
    again = run(db, "export", "--output", str(out))
    assert again.exit_code == 1
    assert error_line(again).startswith("error [command_failed]:")


def test_export_csv_money_columns(db: Path, keys: KeySet) -> None:
    run(
        db,
        "transfer",
        "external:CNY:-1234.5",
        "fund:village:CNY:1234.50",
        "--key",
        str(keys.admin_file),
        *keys.committee_files,
        "--id",
        "income-1",
    )
    rows = list(csv.DictReader(io.StringIO(run(db, "export").stdout.lstrip("\ufeff"))))
    fund = next(r for r in rows if r["account"] == "fund:village")
    assert (fund["amount"], fund["amount_minor"]) == ("1234.50", "123450")


@pytest.mark.parametrize("memo", ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)"])
def test_export_csv_never_hands_a_spreadsheet_a_formula(db: Path, keys: KeySet, memo: str) -> None:
    run(
        db,
        "transfer",
        "issuer:PTS:-1",
        "vol:0002:PTS:1",
        "--memo",
        memo,
        "--id",
        "-formula",
        "--key",
        str(keys.admin_file),
        *keys.committee_files,
    )
    rows = list(csv.DictReader(io.StringIO(run(db, "export").stdout.lstrip("\ufeff"))))
    row = next(r for r in rows if r["account"] == "vol:0002")
    assert (row["memo"], row["event_id"]) == ("'" + memo, "'-formula")
    assert row["amount"] == "1"  # numbers stay numbers
    assert next(r for r in rows if r["event_id"] == "award-1")["memo"] == "燃气安全检查"


def test_export_jsonl(db: Path) -> None:
    result = run(db, "export", "--format", "jsonl")
    assert result.exit_code == 0
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["seq"] for d in docs] == list(range(10))
    assert docs[0]["kind"] == "genesis"


def test_repl_command_reads_stdin(db: Path) -> None:
    result = run(db, "repl", input=".balance vol:0001 PTS\nledger.size()\n.quit\n")
    assert result.exit_code == 0, result.output
    assert "30" in result.stdout and "10" in result.stdout


# -- the demo as a real process ------------------------------------------------------------


def test_python_m_demo_in_fresh_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-m", "points_ledger", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    position = 0
    for number, title in enumerate(STEPS, start=1):
        heading = f"\n{number}. {title}"
        found = ("\n" + out).find(heading, position)
        assert found >= 0, f"step {number} ({title}) missing or out of order"
        position = found
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"{len(STEPS)}. Audit: audit passed"), last
    for shown in ("datasette demo-ledger.db", "sqlite_utils", "V000000", "84,000.01", "— street"):
        assert shown in out, shown
    assert (tmp_path / "demo-ledger.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-ledger.db"]
    assert "Traceback" not in proc.stderr


def test_demo_replaces_its_own_ledger_but_no_other_file(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(tmp_path, echo=lines.append)
    run_demo(tmp_path, echo=lines.append)
    assert lines[-1].endswith("no problems")
    with Ledger.open(tmp_path / "demo-ledger.db") as ledger:
        ledger.verify()
        assert len(ledger.checkpoints()) == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / "demo-ledger.db").write_text("my spreadsheet notes")
    with pytest.raises(StorageError):
        run_demo(other, echo=lines.append)
    assert (other / "demo-ledger.db").read_text() == "my spreadsheet notes"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from points_ledger.cli.app import progress_callback

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_callback("verifying") as progress:
        assert progress is None
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_callback("verifying") as progress:
        assert progress is not None
        progress(1, 4)
        progress(4, 4)
    assert "verifying" in terminal.getvalue()


def test_key_recover_replaces_a_lost_phone_with_admins_and_committee(
    db: Path, keys: KeySet
) -> None:
    new_phone = Signer.generate()
    args = (
        "key",
        "recover",
        "--public-key",
        new_phone.public_key_b64,
        "--role",
        "member",
        "--owner",
        "vol:0001",
        "--reason",
        "phone lost at the market",
        "--id",
        "recover-vol-0001",
    )
    alone = run(db, *args, "--key", str(keys.admin_file))
    assert alone.exit_code == 1
    assert "committee" in error_line(alone)
    result = run(db, *args, "--key", str(keys.admin_file), *keys.committee_files, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["event"]["reason"] == "phone lost at the market"
    # The lost phone no longer spends; the new one does.
    old = run(db, "transfer", "vol:0001:PTS:-5", "vol:0002:PTS:5", "--key", str(keys.member_file))
    assert error_line(old).startswith("error [key_revoked]:")
    with Ledger.open(db, clock=LEDGER_CLOCK) as ledger:
        gift = Transfer(
            id="gift-after-recovery",
            effective_at=DAY,
            postings=(
                Posting(account="vol:0001", asset=Asset.PTS, amount=-5),
                Posting(account="vol:0002", asset=Asset.PTS, amount=5),
            ),
        )
        ledger.append(gift, [new_phone])
        assert ledger.balance("vol:0002", Asset.PTS).posted == 5
