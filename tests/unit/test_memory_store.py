"""The memory store through the facade: what it refuses, in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DAY, World
from memory_world import memory_world
from points_ledger import InvalidEventError, Ledger, StorageError
from points_ledger.store.memory import MemoryStore


@pytest.fixture
def w() -> World:
    return memory_world()


def test_a_new_ledger_needs_an_empty_store(w: World) -> None:
    store = w.ledger._store
    size = w.ledger.size()
    with pytest.raises(StorageError, match="already holds a ledger"):
        Ledger.create(
            store,
            origin="test.example/other",
            log_key=w.log_key,
            admins=w.admins,
            effective_at=DAY,
            clock=w.clock,
        )
    assert w.ledger.size() == size
    assert w.ledger.verify().entries_checked == size


def test_a_ledger_is_a_path_or_a_store() -> None:
    with pytest.raises(InvalidEventError, match="file path or a store object"):
        Ledger.open(42)  # type: ignore[arg-type]


def test_a_read_only_store_refuses_writes_and_open_cannot_make_one(w: World) -> None:
    with pytest.raises(StorageError, match="keeps its own setting"):
        Ledger.open(w.ledger._store, read_only=True)
    empty = MemoryStore(read_only=True)
    with pytest.raises(StorageError, match="read-only"):
        Ledger.create(
            empty,
            origin="test.example/ro",
            log_key=w.log_key,
            admins=w.admins,
            effective_at=DAY,
            clock=w.clock,
        )
    assert empty.head() is None


def test_what_only_a_file_can_do_is_refused(w: World, tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        w.ledger.backup(tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
    with pytest.raises(StorageError, match="does not run SQL"):
        w.ledger.read_only_query("SELECT 1")
