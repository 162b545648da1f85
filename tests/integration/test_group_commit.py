"""Group commit: many threads of one process append through one ``SharedWriter``.

Concurrency is made deterministic without sleeps: a ``threading.Barrier`` starts the
threads together, and a gate in the ledger's clock holds the writer thread inside one
group while the test lines up the next group's callers in a known order.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from conftest import DAY, START, FixedClock, World, build_world
from memory_world import memory_world
from points_ledger import (
    AppendResult,
    Asset,
    AuthorizationError,
    AutoCheckpoint,
    EntryConflictError,
    InvalidEventError,
    Ledger,
    LedgerError,
    LogRecord,
    LogRecordError,
    OverdraftError,
    Signature,
    SignatureError,
    Signer,
    StorageError,
    Transfer,
    WrongThreadError,
)
from points_ledger.ledger import _Prepared
from points_ledger.shared import SharedWriter
from points_ledger.store.memory import MemoryStore
from points_ledger.store.sqlite import SqliteStore

THREADS = 16

Target = Path | MemoryStore | str
"""Where a ledger is opened: a file, a store object or a PostgreSQL URL."""
EACH = 4


class GateClock(FixedClock):
    """A fixed clock that, once armed, holds the first thread that reads it at a gate."""

    def __init__(self) -> None:
        super().__init__()
        self._armed = False
        self._lock = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def __call__(self) -> dt.datetime:
        with self._lock:
            hold, self._armed = self._armed, False
        if hold:
            self.entered.set()
            assert self.release.wait(60), "the test never opened the gate"
        return super().__call__()


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def setting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, Target]]:
    """A ledger with members m0..m15 holding 100 points each, and where to open it."""
    members = tuple(f"m{n}" for n in range(THREADS))
    target: Target
    if request.param == "sqlite":
        world = build_world(tmp_path / "shared.db", members=members)
        target = world.path
    elif request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        world = build_world(cast(Path, url), members=members)
        target = url
    else:
        world = memory_world(members)
        target = world.ledger._store  # type: ignore[assignment]
    world.ledger.append_many(
        [
            (world.transfer_event("issuer", m, 100), [*world.quorum, *world.committee])
            for m in members
        ]
    )
    yield world, target
    world.ledger.close()


def _pay(world: World, source: str, target: str, amount: int, event_id: str) -> Transfer:
    return world.transfer_event(source, target, amount, event_id=event_id)


def _line_up(writer: SharedWriter, count: int) -> None:
    """Wait until ``count`` callers wait for the writer (it is held at the gate)."""
    with writer._cond:
        assert writer._cond.wait_for(lambda: len(writer._queue) == count, timeout=60)


def _call(
    writer: SharedWriter, event: Transfer, signers: list[Signer], out: list[object], slot: int
) -> threading.Thread:
    def run() -> None:
        try:
            out[slot] = writer.append(event, signers)
        except LedgerError as e:
            out[slot] = e

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_concurrent_appends_land_exactly_once_in_a_serial_order(
    setting: tuple[World, Target],
) -> None:
    world, target = setting
    start = world.ledger.size()
    barrier = threading.Barrier(THREADS)
    results: dict[int, list[AppendResult]] = {}
    failures: list[BaseException] = []
    with SharedWriter.open(target, clock=world.clock) as writer:

        def worker(n: int) -> None:
            try:
                me, neighbour = f"m{n}", f"m{(n + 1) % THREADS}"
                barrier.wait(timeout=60)
                results[n] = [
                    writer.append(_pay(world, me, neighbour, 1, f"t{n}-{i}"), [world.members[me]])
                    for i in range(EACH)
                ]
            except BaseException as e:
                failures.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert writer.entries_appended == THREADS * EACH
        assert 1 <= writer.groups_committed <= THREADS * EACH
    assert failures == []
    seqs = sorted(r.entry.seq for rs in results.values() for r in rs)
    assert seqs == list(range(start, start + THREADS * EACH))
    assert all(r.status == "created" for rs in results.values() for r in rs)
    for n, rs in results.items():
        assert [r.entry.event_id for r in rs] == [f"t{n}-{i}" for i in range(EACH)]
        assert [r.entry.seq for r in rs] == sorted(r.entry.seq for r in rs)  # each caller in order
    ledger = world.ledger
    assert ledger.size() == start + THREADS * EACH
    stored = {e.event_id: e for e in ledger.entries(start)}
    for rs in results.values():
        for r in rs:
            assert stored[r.entry.event_id].hash == r.entry.hash
    ledger.verify()
    assert ledger.audit().ok
    for n in range(THREADS):  # every member paid 4 and was paid 4
        assert ledger.balance(f"m{n}", Asset.PTS).posted == 100


def _gated(world: World, target: Target) -> tuple[SharedWriter, GateClock]:
    clock = GateClock()
    clock.now = world.clock.now
    return SharedWriter.open(target, clock=clock), clock


def _hold_writer(
    writer: SharedWriter, clock: GateClock, world: World, out: list[object]
) -> threading.Thread:
    """Send a first event and keep the writer at the gate while it plans it."""
    clock.arm()
    thread = _call(writer, _pay(world, "m0", "m1", 1, "first"), [world.members["m0"]], out, 0)
    assert clock.entered.wait(60)
    return thread


def test_a_bad_event_among_good_ones_fails_only_its_caller(
    setting: tuple[World, Target],
) -> None:
    world, target = setting
    writer, clock = _gated(world, target)
    out: list[object] = [None] * 6
    with writer:
        threads = [_hold_writer(writer, clock, world, out)]
        for slot in range(1, 6):
            payer = f"m{slot}"
            # Slot 3 signs m3's payment with m4's key: not authorised.
            key = world.members["m4" if slot == 3 else payer]
            threads.append(_call(writer, _pay(world, payer, "m0", 5, f"g{slot}"), [key], out, slot))
            _line_up(writer, slot)
        clock.release.set()
        for thread in threads:
            thread.join()
        assert writer.groups_committed == 2  # the held event, then the five together
    assert isinstance(out[3], AuthorizationError)
    good = [o for i, o in enumerate(out) if i != 3]
    assert all(isinstance(o, AppendResult) and o.status == "created" for o in good)
    ledger = world.ledger
    assert "g3" not in {e.event_id for e in ledger.entries()}
    assert ledger.balance("m3", Asset.PTS).posted == 100
    ledger.verify()


def test_a_conflicting_event_in_the_same_group_is_refused_for_the_later_one(
    setting: tuple[World, Target],
) -> None:
    world, target = setting
    writer, clock = _gated(world, target)
    out: list[object] = [None] * 3
    with writer:
        threads = [_hold_writer(writer, clock, world, out)]
        # Two payments of 60 from m5, which holds 100: together they would overdraw it.
        for slot, event_id in ((1, "spend-a"), (2, "spend-b")):
            event = _pay(world, "m5", "m6", 60, event_id)
            threads.append(_call(writer, event, [world.members["m5"]], out, slot))
            _line_up(writer, slot)
        clock.release.set()
        for thread in threads:
            thread.join()
        assert writer.groups_committed == 2
    assert isinstance(out[1], AppendResult) and out[1].status == "created"
    assert isinstance(out[2], OverdraftError)
    assert world.ledger.balance("m5", Asset.PTS).posted == 40
    world.ledger.verify()


def test_an_idempotent_retry_and_a_reused_id_inside_one_group(
    setting: tuple[World, Target],
) -> None:
    world, target = setting
    writer, clock = _gated(world, target)
    out: list[object] = [None] * 4
    event = _pay(world, "m7", "m8", 3, "pay-once")
    other = _pay(world, "m7", "m8", 4, "pay-once")  # the same id, other content
    with writer:
        threads = [_hold_writer(writer, clock, world, out)]
        for slot, item in ((1, event), (2, event), (3, other)):
            threads.append(_call(writer, item, [world.members["m7"]], out, slot))
            _line_up(writer, slot)
        clock.release.set()
        for thread in threads:
            thread.join()
        again = writer.append(event, [world.members["m7"]])
    first, retry = out[1], out[2]
    assert isinstance(first, AppendResult) and first.status == "created"
    assert isinstance(retry, AppendResult) and retry.status == "exists"
    assert retry.entry.seq == first.entry.seq and retry.entry.hash == first.entry.hash
    assert isinstance(out[3], EntryConflictError)
    assert again.status == "exists" and again.entry.seq == first.entry.seq
    assert [e.event_id for e in world.ledger.entries()].count("pay-once") == 1
    assert world.ledger.balance("m7", Asset.PTS).posted == 97


def test_a_group_whose_commit_fails_retries_each_event_alone(
    setting: tuple[World, Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the group's transaction fail, each event is tried alone: one failure, one caller."""
    world, target = setting
    ledger = Ledger.open(target, clock=world.clock)
    original = Ledger._write_planned

    def fail_once_for_spoiled(self: Ledger, planned: object) -> AppendResult:
        if planned.item.event.id == "spoiled":  # type: ignore[attr-defined]
            raise StorageError("the disk is full")
        return original(self, planned)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "_write_planned", fail_once_for_spoiled)
    items = [
        Ledger._prepare(_pay(world, f"m{n}", "m0", 1, name), [world.members[f"m{n}"]], ident=ident)
        for n, name, ident in [
            (1, "fine-1", (ledger.origin, ledger.config.ledger_id)),
            (2, "spoiled", (ledger.origin, ledger.config.ledger_id)),
            (3, "fine-3", (ledger.origin, ledger.config.ledger_id)),
        ]
    ]
    size = ledger.size()
    outcomes = ledger._append_group([(item, {}) for item in items])
    ledger.close()
    assert isinstance(outcomes[0], AppendResult) and outcomes[0].entry.seq == size
    assert isinstance(outcomes[1], StorageError)
    assert isinstance(outcomes[2], AppendResult) and outcomes[2].entry.seq == size + 1
    ids = [e.event_id for e in world.ledger.entries(size)]
    assert ids == ["fine-1", "fine-3"]
    world.ledger.verify()


def test_auto_checkpoint_runs_after_group_commits(tmp_path: Path) -> None:
    world = build_world(tmp_path / "anchored.db", members=("m1", "m2"))
    world.issue("m1", 50)
    record = LogRecord.open(tmp_path / "log.record")
    auto = AutoCheckpoint(log_key=world.log_key, record=record, every_entries=3)
    with SharedWriter.open(world.path, clock=world.clock, auto_checkpoint=auto) as writer:
        for i in range(6):
            writer.append(_pay(world, "m1", "m2", 1, f"a{i}"), [world.members["m1"]])
    latest = record.latest()
    assert latest is not None and latest.size >= world.ledger.size() - 2
    assert world.ledger.checkpoints()[-1].size == latest.size
    world.ledger.close()


def test_appends_after_close_are_refused(setting: tuple[World, Target]) -> None:
    world, target = setting
    writer = SharedWriter.open(target, clock=world.clock)
    writer.close()
    writer.close()  # closing twice is harmless
    size = world.ledger.size()
    with pytest.raises(StorageError, match="closed"):
        writer.append(_pay(world, "m1", "m2", 1, "late"), [world.members["m1"]])
    assert world.ledger.size() == size


def test_a_bad_event_object_is_refused_in_the_callers_thread(tmp_path: Path) -> None:
    world = build_world(tmp_path / "x.db", members=())
    with SharedWriter.open(world.path, clock=world.clock) as writer:
        with pytest.raises(InvalidEventError):
            writer.append("not an event", [])  # type: ignore[arg-type]
        assert writer.groups_committed == 0
        assert writer.path == world.path
        assert "x.db" in repr(writer)
    world.ledger.close()


def test_opening_refuses_a_missing_file_and_a_bad_group_size(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no ledger file"):
        SharedWriter.open(tmp_path / "missing.db")
    world = build_world(tmp_path / "y.db", members=())
    for bad in (0, 10_001, 2.0, True):
        with pytest.raises(InvalidEventError, match="group_max"):
            SharedWriter.open(world.path, group_max=bad)  # type: ignore[arg-type]
    world.ledger.close()


def test_a_store_that_fails_in_the_writer_thread_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A SQLite store opened in this thread cannot be used (nor closed) in the writer's:
    # the failure to close it once left open() waiting for its whole timeout.
    monkeypatch.setattr("points_ledger.shared._OPEN_TIMEOUT_S", 5.0)
    world = build_world(tmp_path / "z.db", members=())
    world.ledger.close()
    store = SqliteStore.open(world.path)
    with pytest.raises(WrongThreadError):
        SharedWriter.open(store)
    store.close()


def test_group_max_bounds_each_commit(tmp_path: Path) -> None:
    world = build_world(tmp_path / "z.db", members=("m0", "m1", "m2", "m3"))
    for m in ("m0", "m1", "m2", "m3"):
        world.issue(m, 10)
    clock = GateClock()
    clock.now = world.clock.now
    out: list[object] = [None] * 4
    with SharedWriter.open(world.path, clock=clock, group_max=2) as writer:
        threads = [_hold_writer(writer, clock, world, out)]
        for slot, payer in ((1, "m1"), (2, "m2"), (3, "m3")):
            event = _pay(world, payer, "m0", 1, f"b{slot}")
            threads.append(_call(writer, event, [world.members[payer]], out, slot))
            _line_up(writer, slot)
        clock.release.set()
        for thread in threads:
            thread.join()
        assert writer.groups_committed == 3  # held one, then two, then one
    assert all(isinstance(o, AppendResult) and o.status == "created" for o in out)
    world.ledger.close()


def test_a_writer_left_open_at_exit_closes_cleanly(tmp_path: Path) -> None:
    """The interpreter's exit closes a forgotten writer: the process ends, the entry stays."""
    world = build_world(tmp_path / "left-open.db", members=("m1", "m2"))
    world.issue("m1", 10)
    size = world.ledger.size()
    world.ledger.close()
    script = f"""
import datetime as dt
from pathlib import Path
from points_ledger import Asset, Posting, SharedWriter, Signer, Transfer
import hashlib
key = Signer.from_seed(hashlib.sha256(b"points-ledger-tests/member/m1").digest())
moment = dt.datetime({START.year}, {START.month}, {START.day}, {START.hour}, tzinfo=dt.UTC)
writer = SharedWriter.open(Path({str(world.path)!r}), clock=lambda: moment)
event = Transfer(
    id="before-exit",
    effective_at=dt.date({DAY.year}, {DAY.month}, {DAY.day}),
    postings=(
        Posting(account="m1", asset=Asset.PTS, amount=-1),
        Posting(account="m2", asset=Asset.PTS, amount=1),
    ),
)
print(writer.append(event, [key]).status)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "created"
    # The last connection to close folds the WAL into the file and removes it: the
    # writer's ledger was closed, not dropped with the process.
    assert not Path(f"{world.path}-wal").exists()
    with Ledger.open(world.path, clock=world.clock) as ledger:
        assert ledger.size() == size + 1
        assert ledger.entry(size).event_id == "before-exit"
        ledger.verify()


def test_detached_signatures_are_checked_early_once_their_key_is_known(
    setting: tuple[World, Target],
) -> None:
    world, target = setting
    key = world.members["m9"]
    with SharedWriter.open(target, clock=world.clock) as writer:
        first = _pay(world, "m9", "m1", 1, "detached-1")
        assert writer.append(first, [world.ledger.sign(first, key)]).status == "created"
        assert writer._public_keys.get(key.key_id) == key.public_key  # learnt from the log
        second = _pay(world, "m9", "m1", 2, "detached-2")
        signature = world.ledger.sign(second, key)
        item = Ledger._prepare(second, [signature], ident=writer._ident)
        assert writer._check_early(item, (signature,)) == {key.key_id: key.public_key}
        assert writer.append(second, [signature]).status == "created"
        # A forged signature under the known key id is checked early, found wrong, and
        # refused by the rules in full.
        third = _pay(world, "m9", "m1", 3, "detached-3")
        forged = Signature(key_id=key.key_id, signature=bytes(64))
        with pytest.raises(SignatureError):
            writer.append(third, [forged])
    assert world.ledger.balance("m9", Asset.PTS).posted == 97
    world.ledger.verify()


def test_a_write_that_cannot_begin_fails_the_group_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that refuses to write fails every event of the group alike, without retries."""
    world = memory_world(("m1", "m2", "m3"))
    store = world.ledger._store
    assert isinstance(store, MemoryStore)
    ledger = world.ledger
    ident = (ledger.origin, ledger.config.ledger_id)
    items: list[tuple[_Prepared, dict[str, bytes]]] = [
        (Ledger._prepare(_pay(world, m, "m1", 1, f"ro-{m}"), [world.members[m]], ident=ident), {})
        for m in ("m2", "m3")
    ]
    writes = {"n": 0}
    original = MemoryStore.write

    def counted(self: MemoryStore) -> Any:
        writes["n"] += 1
        return original(self)

    monkeypatch.setattr(MemoryStore, "write", counted)
    monkeypatch.setattr(store, "read_only", True)
    size = ledger.size()
    outcomes = ledger._append_group(items)
    assert [type(o) for o in outcomes] == [StorageError, StorageError]
    assert writes["n"] == 1
    assert ledger.size() == size
    ledger.close()


def test_an_acknowledged_entry_is_committed_when_append_returns(
    setting: tuple[World, Target],
) -> None:
    """Another connection sees the entry as soon as ``append`` returned, writer still open."""
    world, target = setting
    with SharedWriter.open(target, clock=world.clock) as writer:
        result = writer.append(_pay(world, "m2", "m3", 7, "seen-at-once"), [world.members["m2"]])
        with Ledger.open(target, clock=world.clock) as other:
            assert other.size() == result.entry.seq + 1
            assert other.entry(result.entry.seq).hash == result.entry.hash
            assert other.balance("m3", Asset.PTS).posted == 107


def test_a_refused_checkpoint_tells_each_caller_that_its_entry_is_committed(
    tmp_path: Path,
) -> None:
    """A due checkpoint refused after the commit: each caller learns its entry's seq."""
    members = tuple(f"m{n}" for n in range(5))
    world = build_world(tmp_path / "anchored.db", members=members)
    for member in members:
        world.issue(member, 50)
    folder = tmp_path / "log.record"
    world.ledger.checkpoint(world.log_key, folder)
    # The record folder is damaged after the writer opened: every checkpoint is refused.
    auto = AutoCheckpoint(log_key=world.log_key, record=LogRecord.open(folder), every_entries=1)
    clock = GateClock()
    clock.now = world.clock.now
    writer = SharedWriter.open(world.path, clock=clock, auto_checkpoint=auto)
    (folder / "ledger.json").write_text("{not json", "utf-8")
    out: list[object] = [None] * 5
    with writer:
        threads = [_hold_writer(writer, clock, world, out)]
        # Slots 1 to 3 pay 5 points each; slot 4 tries to pay 500 and is refused.
        for slot in range(1, 5):
            payer = f"m{slot}"
            amount = 500 if slot == 4 else 5
            event = _pay(world, payer, "m0", amount, f"anchored-{slot}")
            threads.append(_call(writer, event, [world.members[payer]], out, slot))
            _line_up(writer, slot)
        clock.release.set()
        for thread in threads:
            thread.join()
        assert writer.groups_committed == 2  # the held event, then the four together
    assert isinstance(out[4], OverdraftError)
    assert "committed_seq" not in out[4].details
    refusals = [cast(LedgerError, o) for o in out[:4]]
    assert all(isinstance(e, LogRecordError) for e in refusals)
    assert len({id(e) for e in refusals}) == 4  # an object of its own for each caller
    assert len({(e.code, e.message) for e in refusals}) == 1
    ledger = world.ledger
    by_id = {e.event_id: e for e in ledger.entries()}
    for slot, error in enumerate(refusals):
        event_id = "first" if slot == 0 else f"anchored-{slot}"
        assert error.details["event_id"] == event_id
        assert error.details["status"] == "created"
        assert error.details["committed_seq"] == by_id[event_id].seq
    assert "anchored-4" not in by_id
    ledger.verify()
    ledger.close()


def test_a_whole_group_failure_raises_an_error_of_its_own_in_each_caller() -> None:
    """A write that cannot begin fails each caller alike, each with its own exception."""
    world = memory_world(tuple(f"m{n}" for n in range(4)))
    world.ledger.append_many(
        [
            (world.transfer_event("issuer", m, 100), [*world.quorum, *world.committee])
            for m in ("m0", "m1", "m2", "m3")
        ]
    )
    store = world.ledger._store
    assert isinstance(store, MemoryStore)
    writer, clock = _gated(world, store)
    out: list[object] = [None] * 4
    with writer:
        threads = [_hold_writer(writer, clock, world, out)]
        for slot in range(1, 4):
            payer = f"m{slot}"
            event = _pay(world, payer, "m0", 1, f"ro-{slot}")
            threads.append(_call(writer, event, [world.members[payer]], out, slot))
            _line_up(writer, slot)
        store.read_only = True  # the held group has begun its write; the next cannot
        clock.release.set()
        for thread in threads:
            thread.join()
    assert isinstance(out[0], AppendResult)
    failures = [cast(StorageError, o) for o in out[1:]]
    assert all(isinstance(e, StorageError) for e in failures)
    assert len({id(e) for e in failures}) == 3
    assert len({(e.code, e.message) for e in failures}) == 1
    failures[0].details["mine"] = True  # details are not shared between callers either
    assert "mine" not in failures[1].details
    # Each was raised in its own thread: the tracebacks end in that thread's call.
    assert all(e.__traceback__ is not None for e in failures)
    store.read_only = False
    assert [e.event_id for e in world.ledger.entries()][-1] == "first"
