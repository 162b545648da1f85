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

import pytest

import points_ledger.audit as audit_module
from conftest import World, build_world
from points_ledger import EntryConflictError, OverdraftError
from points_ledger.store.sqlite import SqliteState


def _pay(world: World, source: str, target: str, amount: int) -> tuple[object, list[object]]:
    return world.transfer_event(source, target, amount), [world.members[source]]


def test_later_events_of_a_batch_see_earlier_changes(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    issue = world.transfer_event("issuer", "m1", 100)
    batch = [(issue, world.quorum), _pay(world, "m1", "m2", 60), _pay(world, "m2", "m1", 15)]
    world.ledger.append_many(batch)  # type: ignore[arg-type]
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
        world.ledger.append_many(batch)  # type: ignore[arg-type]
    assert world.ledger.size() == size
    assert world.ledger.balance("m1").posted == 100
    assert world.ledger.balance("m2").posted == 0
    # The same ledger object goes on from the committed state, not from memory.
    world.ledger.append_many([_pay(world, "m1", "m2", 50)])  # type: ignore[arg-type]
    assert world.ledger.balance("m1").posted == 50
    world.ledger.verify()


def _long_ledger(path: Path) -> World:
    world = build_world(path)
    world.issue("m1", 5000)
    batch = [_pay(world, "m1", "m2", 1) for _ in range(1200)]
    world.ledger.append_many(batch)  # type: ignore[arg-type]
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
    seen = _statements(world.ledger._store.conn)
    world.ledger.append_many([_pay(world, "m1", "m2", 1) for _ in range(40)])  # type: ignore[arg-type]
    world.ledger._store.conn.set_trace_callback(None)
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
    results = world.ledger.append_many([item, _pay(world, "m1", "m2", 5), item])  # type: ignore[arg-type]
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
    assert world.ledger._store.find_event("same") is None
    world.ledger.verify()


def test_a_reversal_in_the_same_batch_sees_the_entry_it_reverses(tmp_path: Path) -> None:
    world = build_world(tmp_path / "b.db")
    world.issue("m1", 100)
    target = world.ledger.size()
    results = world.ledger.append_many(
        [_pay(world, "m1", "m2", 40), (world.reverse_event(target), world.quorum)]  # type: ignore[list-item]
    )
    assert [r.status for r in results] == ["created", "created"]
    assert [(p.account, p.amount) for p in results[1].entry.postings] == [("m1", 40), ("m2", -40)]
    assert world.ledger.balance("m1").posted == 100
    assert world.ledger.audit().ok
