"""A SQLite ledger keeps its head and key records from one write to the next.

They are taken up again only while nothing else has changed the file: ``PRAGMA
data_version`` moves when another connection commits, and the connection's own
``total_changes`` when rows are changed on it outside a write. A value changed either way
must be seen by the next append exactly as if nothing had been kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import World, build_world
from points_ledger import IntegrityError, KeyRevokedError, Ledger, OverdraftError, StorageError
from points_ledger.merkle import node_hash
from points_ledger.store import relational
from points_ledger.store.sqlite import SqliteStore


def _sqlite(ledger: Ledger) -> SqliteStore:
    store = ledger._store
    assert isinstance(store, SqliteStore)
    return store


def _member_key_id(world: World, name: str) -> str:
    return world.members[name].key_id


def _edit_by_hand(world: World, own_connection: bool, sql: str, *params: object) -> None:
    """Run ``sql`` outside the ledger's writes: on its own connection or on another one.

    ``data_version`` moves only for another connection's commits; ``total_changes`` for
    rows changed on the ledger's own connection. Either must drop what a write kept.
    """
    if own_connection:
        _sqlite(world.ledger).conn.execute(sql, params)
    else:
        with sqlite3.connect(world.path) as other:
            other.execute(sql, params)


def _statements_of_one_payment(world: World) -> list[str]:
    """The SQL the next payment m1 -> m2 runs (m1 must hold a point)."""
    seen: list[str] = []
    conn = _sqlite(world.ledger).conn
    conn.set_trace_callback(seen.append)
    try:
        world.pay("m1", "m2", 1)
    finally:
        conn.set_trace_callback(None)
    return seen


def _reads_of_keys_and_head(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM keys WHERE" in s or "ORDER BY seq DESC" in s]


def _reads_of_balances(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and "FROM balances" in s]


def test_consecutive_appends_read_the_head_and_the_signing_key_once(tmp_path: Path) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 30)
    # The first payment of this ledger object reads m1's key (and the head) from the file.
    world.ledger.close()
    world.reopen()
    first = _statements_of_one_payment(world)
    assert _reads_of_keys_and_head(first)
    assert _reads_of_balances(first)
    # The next one takes them up, and the two balances, from the write before.
    second = _statements_of_one_payment(world)
    assert _reads_of_keys_and_head(second) == []
    assert _reads_of_balances(second) == []
    # A Merkle node's left sibling is the last node made on its level: once per level
    # after opening it is read from the file; every append of an odd seq read it before.
    reads = [
        s for _ in range(16) for s in _statements_of_one_payment(world) if "FROM merkle_nodes" in s
    ]
    assert len(reads) <= 5
    assert world.ledger.balance("m1").posted == 12
    world.ledger.verify()


@pytest.mark.parametrize("own_connection", [False, True])
def test_a_balance_changed_by_hand_is_seen_at_the_next_append(
    tmp_path: Path, own_connection: bool
) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)  # m1's balance (9) is now held from this write
    size = world.ledger.size()
    _edit_by_hand(world, own_connection, "UPDATE balances SET posted = 0 WHERE account = 'm1'")
    # As before anything was kept: the rules read the (edited) balance from the file.
    with pytest.raises(OverdraftError):
        world.pay("m1", "m2", 1)
    assert world.ledger.size() == size


@pytest.mark.parametrize("own_connection", [False, True])
def test_a_key_revoked_by_hand_is_seen_at_the_next_append(
    tmp_path: Path, own_connection: bool
) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)  # m1's key is now held from this write
    size = world.ledger.size()
    sql = "UPDATE keys SET revoked_at_seq = ? WHERE key_id = ?"
    _edit_by_hand(world, own_connection, sql, size - 1, _member_key_id(world, "m1"))
    with pytest.raises(KeyRevokedError):
        world.pay("m1", "m2", 1)
    assert world.ledger.size() == size


def test_entries_appended_by_another_ledger_object_move_the_head(tmp_path: Path) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    first = world.ledger
    second = Ledger.open(world.path, clock=world.clock)
    try:
        for _ in range(3):
            world.ledger = first
            world.pay("m1", "m2", 1)
            world.ledger = second
            world.pay("m1", "m2", 1)
        assert first.size() == second.size()
        assert first.balance("m2").posted == 6
        first.verify()
        second.verify()
    finally:
        second.close()
        world.ledger = first


def test_nothing_is_kept_after_a_write_that_failed(tmp_path: Path) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)
    store = _sqlite(world.ledger)
    with pytest.raises(StorageError), store.write():
        raise sqlite3.OperationalError("disk I/O error")
    assert _reads_of_keys_and_head(_statements_of_one_payment(world))
    world.ledger.verify()


def test_a_write_holding_more_values_than_the_bound_keeps_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relational, "_KEPT_BATCH_MAX", 1)
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)  # two balances and more: over the bound
    assert _reads_of_balances(_statements_of_one_payment(world))
    assert world.ledger.balance("m1").posted == 8


@pytest.mark.parametrize("own_connection", [False, True])
def test_a_merkle_node_changed_by_hand_is_used_by_the_next_append(
    tmp_path: Path, own_connection: bool
) -> None:
    # As before anything was kept, the next append combines the stored (edited) left
    # sibling into the parent it writes; verify() then reports the damage.
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    with sqlite3.connect(world.path) as other:
        # The operator drops the append-only guards first.
        triggers = other.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'merkle_nodes'"
        ).fetchall()
        for (name,) in triggers:
            other.execute(f'DROP TRIGGER "{name}"')
    if world.ledger.size() % 2 == 1:
        world.pay("m1", "m2", 1)
    world.pay("m1", "m2", 1)  # the last leaf has an even index: the next one pairs it
    last = world.ledger.size() - 1
    forged = bytes(32)
    sql = "UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = ?"
    _edit_by_hand(world, own_connection, sql, forged, last)
    seq = world.pay("m1", "m2", 1).entry.seq
    assert seq == last + 1
    with sqlite3.connect(world.path) as reader:
        leaf, parent = (
            reader.execute(
                "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", where
            ).fetchone()[0]
            for where in ((0, seq), (1, seq // 2))
        )
    assert parent == node_hash(forged, leaf)
    with pytest.raises(IntegrityError):
        world.ledger.verify()


def _replace_table_by_ddl(conn: sqlite3.Connection, table: str, select: str) -> None:
    """Give ``table`` the rows of ``select`` (over the old rows) with DDL alone.

    ``CREATE TABLE … AS SELECT`` and ``DROP TABLE`` change rows without counting in the
    connection's ``total_changes``; only the schema cookie moves.
    """
    conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    conn.execute(f"CREATE TABLE {table} AS {select.format(old=f'old_{table}')}")
    conn.execute(f"DROP TABLE old_{table}")
    conn.commit()


def test_a_balance_replaced_by_ddl_on_the_ledgers_own_connection_is_seen(tmp_path: Path) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)  # m1's balance (9) is now held from this write
    size = world.ledger.size()
    conn = _sqlite(world.ledger).conn
    changes = conn.total_changes
    _replace_table_by_ddl(
        conn,
        "balances",
        "SELECT account, asset, CASE account WHEN 'm1' THEN 0 ELSE posted END AS posted, "
        "pending FROM {old}",
    )
    assert conn.total_changes == changes
    with pytest.raises(OverdraftError):
        world.pay("m1", "m2", 1)
    assert world.ledger.size() == size


def test_a_key_revoked_by_ddl_on_the_ledgers_own_connection_is_seen(tmp_path: Path) -> None:
    world = build_world(tmp_path / "c.db")
    world.issue("m1", 10)
    world.pay("m1", "m2", 1)  # m1's key is now held from this write
    size = world.ledger.size()
    conn = _sqlite(world.ledger).conn
    columns = [row[1] for row in conn.execute("PRAGMA table_info(keys)")]
    revoked = ", ".join(
        f"CASE key_id WHEN '{_member_key_id(world, 'm1')}' THEN {size - 1} "
        "ELSE revoked_at_seq END AS revoked_at_seq"
        if c == "revoked_at_seq"
        else c
        for c in columns
    )
    _replace_table_by_ddl(conn, "keys", f"SELECT {revoked} FROM {{old}}")
    with pytest.raises(KeyRevokedError):
        world.pay("m1", "m2", 1)
    assert world.ledger.size() == size
