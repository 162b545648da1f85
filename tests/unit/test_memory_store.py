"""The memory store through the facade: what it refuses, in plain words."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DAY, World
from memory_world import memory_world
from points_ledger import InvalidEventError, Ledger, OpenAccount, StorageError
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


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows while the test runs.

    Without the store's lock a write would then start inside another, or a read land in
    the middle of one.
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def test_threads_sharing_a_store_write_one_at_a_time_and_read_whole_writes(
    busy_switching: None,
) -> None:
    w = memory_world(members=())
    store = w.ledger._store
    assert isinstance(store, MemoryStore)
    size = w.ledger.size()
    per_thread, threads = 8, 4
    events = [
        [w.open_account_event(f"t{t}.m{i}") for i in range(per_thread)] for t in range(threads)
    ]
    seen: list[tuple[int, int]] = []
    problems: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def write(batch: list[OpenAccount]) -> None:
        try:
            ledger = Ledger.open(store, clock=w.clock)  # each thread its own facade
            start.wait()
            for event in batch:
                ledger.append(event, signers=w.quorum)
        except BaseException as e:  # reported below, never lost in the thread
            problems.append(e)

    def read() -> None:
        start.wait()
        for _ in range(200):
            with store.read_snapshot() as count:
                # Inside a snapshot no write lands: the log and the accounts agree.
                seen.append((count, len(store.state.opened_accounts())))

    workers = [threading.Thread(target=write, args=(batch,)) for batch in events]
    workers.append(threading.Thread(target=read))
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert problems == []
    assert w.ledger.size() == size + per_thread * threads
    assert w.ledger.audit().ok
    # Each write adds one entry and one account: a torn read would change the difference.
    assert len(seen) == 200
    assert len({accounts - count for count, accounts in seen}) == 1
