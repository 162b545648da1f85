"""A ledger file that cannot be written where it lies can still be read and checked.

An auditor gets the file on a USB stick or a read-only share: reading, ``verify`` and
``audit`` must work there, and nothing may be written to the file; every write is
refused with a ``StorageError`` that says why.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import points_ledger
from conftest import World
from points_ledger import Ledger, StorageError

SRC = Path(points_ledger.__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _settle_wal(path: Path) -> None:
    """Fold the WAL into the file and remove it, as a copy made for an auditor would be."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def settled(world: World) -> World:
    world.issue("m1", 50)
    world.pay("m1", "m2", 20)
    world.ledger.close()
    _settle_wal(world.path)
    return world


def test_read_only_opening_reads_checks_and_refuses_writes(settled: World) -> None:
    before = _digest(settled.path)
    with Ledger.open(settled.path, read_only=True) as ledger:
        assert ledger.balance("m1").posted == 30
        assert ledger.audit().ok
        ledger.verify()
        size = ledger.size()
        with pytest.raises(StorageError, match="open read-only") as refused:
            ledger.append(
                settled.transfer_event("issuer", "m1", 1), [*settled.quorum, *settled.committee]
            )
        assert "office's own copy" in refused.value.hint
        with pytest.raises(StorageError, match="open read-only"):
            ledger.checkpoint(settled.log_key, settled.path.with_suffix(".record"))
    assert _digest(settled.path) == before
    with Ledger.open(settled.path) as ledger:
        assert ledger.size() == size


def test_a_file_that_cannot_be_written_is_opened_read_only(
    settled: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_access = os.access

    def no_writing(path: object, mode: int, **kwargs: object) -> bool:
        return False if mode & os.W_OK else real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", no_writing)
    with Ledger.open(settled.path) as ledger:
        assert ledger.balance("m2").posted == 20
        with pytest.raises(StorageError, match="open read-only"):
            ledger.append(
                settled.transfer_event("issuer", "m1", 1), [*settled.quorum, *settled.committee]
            )


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A folder and a read-only bind mount of it (needs root; skipped otherwise)."""
    source, mount = tmp_path / "source", tmp_path / "usb"
    source.mkdir()
    mount.mkdir()
    made = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("a read-only bind mount needs root")
    try:
        ro = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(mount)], capture_output=True, check=False
        )
        if ro.returncode != 0:
            pytest.skip("this system refuses a read-only remount")
        yield source, mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_on_read_only_media_the_command_line_reads_and_audits(
    settled: World, read_only_mount: tuple[Path, Path]
) -> None:
    """No ``-shm`` can be made next to the file there: SQLite must open it immutable."""
    source, mount = read_only_mount
    (source / "ledger.db").write_bytes(settled.path.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    env["PYTHONPATH"] = str(SRC)

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "points_ledger", "--ledger", "ledger.db", *args],
            cwd=mount,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    balance = command("balance", "m1", "--asset", "PTS", "--json")
    assert balance.returncode == 0, balance.stderr
    assert '"posted": 30' in balance.stdout
    audit = command("audit")
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.startswith("audit passed")
    assert sorted(p.name for p in mount.iterdir()) == ["ledger.db"]
