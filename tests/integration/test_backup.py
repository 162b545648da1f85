"""``Ledger.backup`` and ``points-ledger backup``: a verified copy, safe while in use."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import World, build_world
from points_ledger import Backup, IntegrityError, Ledger, StorageError
from points_ledger.cli import cli
from points_ledger.cli.app import EXIT_INTEGRITY, EXIT_REFUSED


def _wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_plain_copy_of_a_ledger_in_use_is_torn_or_out_of_date(
    world: World, tmp_path: Path
) -> None:
    # Why a backup command: while the ledger is open, its newest pages live in the WAL
    # file, and a copy of the main file alone is no ledger at all, or an older one that
    # still passes verify.
    assert _wal_bytes(world.path) > 0
    shutil.copyfile(world.path, tmp_path / "torn.db")
    with pytest.raises(StorageError, match="not a points ledger file"):
        Ledger.open(tmp_path / "torn.db")
    world.reopen()  # the last connection closing moves the WAL into the main file
    world.issue("m1", 10)
    assert _wal_bytes(world.path) > 0
    shutil.copyfile(world.path, tmp_path / "stale.db")
    with Ledger.open(tmp_path / "stale.db") as stale:
        assert stale.verify().entries_checked == stale.size() < world.ledger.size()
    # A backup taken at the same moment holds every entry.
    with Ledger.open(world.ledger.backup(tmp_path / "backup.db").path) as copy:
        assert copy.verify().entries_checked == copy.size() == world.ledger.size()


def test_backup_holds_every_entry_and_verifies(world: World, tmp_path: Path) -> None:
    world.issue("m1", 10)
    world.pay("m1", "m2", 3)
    dest = tmp_path / "backup.db"
    result = world.ledger.backup(dest)
    assert isinstance(result, Backup)
    assert (result.path, result.size, result.root) == (
        dest,
        world.ledger.size(),
        world.ledger.root(),
    )
    assert f"{result.size:,} entries" in result.to_text()
    # One file to hand over: nothing beside it, even after it was verified.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == [
        "backup.db"
    ]
    with Ledger.open(dest, read_only=True) as copy:
        assert copy.verify().entries_checked == result.size
        assert copy.root() == result.root
        assert copy.log_vkey() == world.ledger.log_vkey()
        assert copy.balance("m2").posted == 3
    # The ledger goes on as before.
    world.issue("m2", 1)
    world.ledger.verify()


def test_backup_copies_the_moment_it_began_while_another_connection_appends(
    world: World, tmp_path: Path
) -> None:
    world.issue("m1", 10)
    with Ledger.open(world.path) as reader:
        before = reader.size()
        store = reader._store
        with store.read_snapshot() as size:
            world.issue("m1", 5)  # another connection appends inside the snapshot
            assert size == before
        result = reader.backup(tmp_path / "b1.db")
    assert result.size == world.ledger.size() == before + 1


def test_backup_refuses_to_overwrite(world: World, tmp_path: Path) -> None:
    dest = tmp_path / "exists.db"
    dest.write_bytes(b"keep me")
    with pytest.raises(StorageError, match="never overwritten"):
        world.ledger.backup(dest)
    assert dest.read_bytes() == b"keep me"
    (tmp_path / "stray.db-wal").write_bytes(b"")
    with pytest.raises(StorageError, match="never overwritten"):
        world.ledger.backup(tmp_path / "stray.db")
    assert not (tmp_path / "stray.db").exists()


def test_a_backup_of_a_damaged_ledger_is_refused_and_removed(world: World, tmp_path: Path) -> None:
    world.issue("m1", 10)
    world.ledger.close()
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    conn.execute("DROP TRIGGER postings_no_update")
    conn.execute("UPDATE postings SET amount = amount * 2 WHERE seq = 5")
    conn.close()
    dest = tmp_path / "bad.db"
    with (
        Ledger.open(world.path) as ledger,
        pytest.raises(IntegrityError, match="did not verify and was removed") as caught,
    ):
        ledger.backup(dest)
    assert caught.value.code == "integrity_failure"
    assert not dest.exists()
    assert not Path(f"{dest}-wal").exists()


def test_cli_backup(tmp_path: Path) -> None:
    world = build_world(tmp_path / "ledger.db")
    world.issue("m1", 10)
    size = world.ledger.size()
    root = base64.b64encode(world.ledger.root()).decode()
    env = {"POINTS_LEDGER_DB": str(world.path)}
    runner = CliRunner()
    out = runner.invoke(cli, ["backup", str(tmp_path / "a.db")], env=env)
    assert out.exit_code == 0, out.output
    assert (
        out.output.strip()
        == f"backup verified: {tmp_path / 'a.db'} holds {size:,} entries, root {root}"
    )
    out = runner.invoke(cli, ["backup", "--json", str(tmp_path / "b.db")], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {
        "ok": True,
        "path": str(tmp_path / "b.db"),
        "size": size,
        "root": root,
    }
    out = runner.invoke(cli, ["backup", str(tmp_path / "a.db")], env=env)
    assert out.exit_code == EXIT_REFUSED
    assert "never overwritten" in out.output
    world.ledger.close()
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET recorded_at_us = recorded_at_us - 1 WHERE seq = 3")
    conn.close()
    out = runner.invoke(cli, ["backup", str(tmp_path / "c.db")], env=env)
    assert out.exit_code == EXIT_INTEGRITY, out.output
    assert not (tmp_path / "c.db").exists()
