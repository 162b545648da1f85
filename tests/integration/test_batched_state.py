"""Inside a write transaction, state records, balances and log rows are batched in memory.

Each record is read once and written once per transaction (``SqliteState.begin_batch``
/ ``flush``), and the log rows of a batch (entries, signatures, postings, Merkle nodes)
are inserted together at its end (``SqliteStore.flush_log``). Later events of a batch
must see what earlier ones changed, a refused batch must leave nothing behind (not even
in memory), and the audit replay, which batches into its scratch state, must give the
same verdicts when it flushes part-way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import points_ledger.audit as audit_module
from conftest import World, build_world
from points_ledger import EntryConflictError, Event, Ledger, OverdraftError, Signer
from points_ledger.store.sqlite import SqliteState, SqliteStore


def _sqlite(ledger: Ledger) -> SqliteStore:
    """The SQLite store under ``ledger`` (these checks look at the file itself)."""
    store = ledger._store
    assert isinstance(store, SqliteStore)
    return store


def _pay(world: World, source: str, target: str, amount: int) -> tuple[Event, list[Signer]]:
    return world.transfer_event(source, target, amount), [world.members[source]]


def test_later_events_of_a_batch_see_earlier_changes(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    issue = world.transfer_event("issuer", "m1", 100)
    minters = [*world.quorum, *world.committee]
    batch = [(issue, minters), _pay(world, "m1", "m2", 60), _pay(world, "m2", "m1", 15)]
    world.ledger.append_many(batch)
    assert world.ledger.balance("m1").posted == 55
    assert world.ledger.balance("m2").posted == 45
    world.ledger.verify()


def test_a_refused_batch_leaves_no_state_behind(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    size = world.ledger.size()
    # The second payment only fits if the first one's debit is forgotten.
    batch = [_pay(world, "m1", "m2", 60), _pay(world, "m1", "m2", 50)]
    with pytest.raises(OverdraftError):
        world.ledger.append_many(batch)
    assert world.ledger.size() == size
    assert world.ledger.balance("m1").posted == 100
    assert world.ledger.balance("m2").posted == 0
    # The same ledger object goes on from the committed state, not from memory.
    world.ledger.append_many([_pay(world, "m1", "m2", 50)])
    assert world.ledger.balance("m1").posted == 50
    world.ledger.verify()


def _long_ledger(path: Path) -> World:
    world = build_world(path)
    world.issue("m1", 5000)
    batch = [_pay(world, "m1", "m2", 1) for _ in range(1200)]
    world.ledger.append_many(batch)
    return world


def test_an_audit_that_flushes_part_way_passes_and_still_finds_a_changed_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_module, "SCRATCH_BATCH_MAX", 0)  # flush every 1,000 entries
    world = _long_ledger(tmp_path / "b.db")
    flushes: list[int] = []
    real_flush = SqliteState.flush

    def counting(self: SqliteState) -> None:
        flushes.append(self.batched)
        real_flush(self)

    monkeypatch.setattr(SqliteState, "flush", counting)
    assert world.ledger.audit().ok
    assert len(flushes) >= 2 and flushes[0] > 0, flushes  # part-way, then before comparing
    world.ledger.close()
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    try:
        conn.execute("UPDATE balances SET posted = posted + 1 WHERE account = 'm2'")
    finally:
        conn.close()
    world.reopen()
    report = world.ledger.audit()
    assert {p.code for p in report.problems} == {"state_mismatch"}, report.to_text()


# -- log rows -------------------------------------------------------------------------------


def _statements(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_a_batch_inserts_each_log_table_with_one_statement(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 500)
    before = world.ledger.size()
    seen = _statements(_sqlite(world.ledger).conn)
    world.ledger.append_many([_pay(world, "m1", "m2", 1) for _ in range(40)])
    _sqlite(world.ledger).conn.set_trace_callback(None)
    for table in ("entries", "signatures", "postings", "merkle_nodes"):
        inserts = [sql for sql in seen if sql.startswith(f"INSERT INTO {table} ")]
        # executemany traces each row; all of them come after the last handler read.
        assert len(inserts) >= 40, (table, len(inserts))
        first = seen.index(inserts[0])
        assert all(not sql.startswith("SELECT") for sql in seen[first:]), table
    assert world.ledger.size() == before + 40
    world.ledger.verify()


def test_an_event_sent_twice_in_one_batch_is_stored_once(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    item = _pay(world, "m1", "m2", 30)
    results = world.ledger.append_many([item, _pay(world, "m1", "m2", 5), item])
    assert [r.status for r in results] == ["created", "created", "exists"]
    assert results[2].entry == results[0].entry
    assert world.ledger.balance("m1").posted == 65
    world.ledger.verify()


def test_an_id_reused_for_other_content_in_one_batch_refuses_the_whole_batch(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    before = world.ledger.size()
    first = world.transfer_event("m1", "m2", 30, event_id="same")
    other = world.transfer_event("m1", "m2", 31, event_id="same")
    signer = [world.members["m1"]]
    with pytest.raises(EntryConflictError) as caught:
        world.ledger.append_many([(first, signer), (other, signer)])
    assert caught.value.seq == before
    assert world.ledger.size() == before
    assert _sqlite(world.ledger).find_event("same") is None
    world.ledger.verify()


def test_a_reversal_in_the_same_batch_sees_the_entry_it_reverses(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    target = world.ledger.size()
    results = world.ledger.append_many(
        [_pay(world, "m1", "m2", 40), (world.reverse_event(target), world.quorum)]
    )
    assert [r.status for r in results] == ["created", "created"]
    assert [(p.account, p.amount) for p in results[1].entry.postings] == [("m1", 40), ("m2", -40)]
    assert world.ledger.balance("m1").posted == 100
    assert world.ledger.audit().ok


def _entries_in_file(path: Path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        conn.close()


def test_rows_written_out_part_way_through_a_helper_batch_stay_consistent(
    tmp_path: Path,
) -> None:
    # A repeated event ("exists") reads its stored entry, which writes the held rows out
    # in the middle of the batch; a reversal and more events follow. Over 256 events,
    # so the signature helper path is taken.
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 5000)
    again = _pay(world, "m1", "m2", 3)
    target = world.ledger.size() + 1
    batch = [_pay(world, "m1", "m2", 1), again]
    batch += [_pay(world, "m1", "m2", 1) for _ in range(150)]
    batch += [again, (world.reverse_event(target), world.quorum)]
    batch += [_pay(world, "m1", "m2", 1) for _ in range(150)]
    batch.append(again)
    results = world.ledger.append_many(batch)
    assert [r.status for r in results].count("exists") == 2
    # m2 receives 1 + 3 + 150 + 150; the reversal takes back the 3.
    assert world.ledger.balance("m2").posted == 301
    assert world.ledger.audit().ok


class _InterruptedInsert:
    """A connection whose first matching ``executemany`` writes one row, then is interrupted."""

    def __init__(self, real: sqlite3.Connection, prefix: str) -> None:
        self.real, self.prefix, self.armed = real, prefix, True

    def executemany(self, sql: str, rows: Any) -> Any:
        if self.armed and sql.startswith(self.prefix):
            self.armed = False
            self.real.executemany(sql, list(rows)[:1])
            raise KeyboardInterrupt
        return self.real.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_an_interrupt_while_the_held_rows_are_written_leaves_the_file_unchanged(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    store = _sqlite(world.ledger)
    before = _entries_in_file(world.path)
    real = store.conn
    store.conn = _InterruptedInsert(real, "INSERT INTO postings")  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            world.ledger.append_many([_pay(world, "m1", "m2", 1) for _ in range(5)])
    finally:
        store.conn = real
    assert not real.in_transaction
    list(world.ledger.entries())  # a read after the interrupt writes nothing
    assert _entries_in_file(world.path) == before
    world.ledger.append_many([_pay(world, "m1", "m2", 1) for _ in range(5)])
    assert _entries_in_file(world.path) == before + 5
    world.ledger.verify()


def test_an_interrupt_as_a_refused_batch_ends_never_lets_its_rows_reach_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by review: rows held by a rolled-back transaction must never be written by a
    # later read, even when an interrupt stops write() from tidying up.
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    before = _entries_in_file(world.path)
    fired: list[bool] = []

    def interrupted(self: SqliteState, *, keep: bool = False) -> None:
        del keep
        # Ctrl-C while write() tidies up, before the held records are dropped; they
        # are then never dropped by write() at all.
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(SqliteState, "end_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        # Refused: the second payment overdraws, after the first one's rows are held.
        world.ledger.append_many([_pay(world, "m1", "m2", 60), _pay(world, "m1", "m2", 50)])
    assert fired
    store = _sqlite(world.ledger)
    assert not store.conn.in_transaction
    list(world.ledger.entries())
    world.ledger.statement("m1")
    assert _entries_in_file(world.path) == before
    assert world.ledger.balance("m1").posted == 100
    monkeypatch.undo()
    world.ledger.append_many([_pay(world, "m1", "m2", 50)])
    assert world.ledger.balance("m1").posted == 50
    world.ledger.verify()


def test_a_write_left_open_by_an_interrupt_is_rolled_back_by_the_next_write(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    store = _sqlite(world.ledger)
    store.conn.execute("BEGIN IMMEDIATE")  # as if an interrupt came before ROLLBACK
    store.conn.execute("UPDATE balances SET posted = 7 WHERE account = 'm1'")
    world.pay("m1", "m2", 30)
    assert world.ledger.balance("m1").posted == 70
    world.ledger.verify()


def test_held_rows_are_never_written_outside_their_transaction(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    store = _sqlite(world.ledger)
    before = _entries_in_file(world.path)
    with pytest.raises(OverdraftError), store.write():
        # Hold an entry's rows, then fail: the held rows go with the transaction.
        world.ledger._append_one(
            world.ledger._prepare(
                *_pay(world, "m1", "m2", 5),
                ident=(world.ledger.origin, bytes.fromhex(world.ledger.ledger_id)),
            ),
            {},
        )
        held = store._log
        raise OverdraftError("stop here")
    assert held is not None and held.rows
    store._log = store.state.pending_log = held  # as if write() had not tidied up
    list(world.ledger.entries())
    assert store._log is None
    assert _entries_in_file(world.path) == before
