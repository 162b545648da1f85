"""Tampering with a real ledger file through plain sqlite3.

First the file itself refuses edits (triggers). With the triggers dropped, every kind
of edit must be found by ``audit()`` naming the entry concerned, and ``verify()`` must
raise ``IntegrityError``, never a foreign exception.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from functools import partial
from pathlib import Path

import pytest
from sqlite_utils import Database

import points_ledger.audit as audit_module
from conftest import World, build_world, dump_file
from points_ledger import Asset, IntegrityError, Ledger, LedgerError, Posting
from points_ledger.engine import check_zero_sum
from points_ledger.keys import verify_signature
from points_ledger.models.entries import Signature
from points_ledger.store import EntryRow
from points_ledger.store.sqlite import SqliteStore
from points_ledger.store.sqlite.schema import APPEND_ONLY_TABLES, protect_log_table


@dataclass(frozen=True)
class History:
    """Seqs of interesting entries in the tamper fixture's ledger."""

    issue: int
    pay: int
    reversed_pay: int
    reversal: int
    last: int


def _build(path: Path) -> tuple[World, History]:
    world = build_world(path)
    issue = world.issue("m1", 100, memo="tree planting").entry.seq
    world.issue("m2", 2500, asset=Asset.CNY)
    pay = world.pay("m1", "m2", 30).entry.seq
    reversed_pay = world.pay("m1", "m2", 5).entry.seq
    reversal = world.reverse(reversed_pay).entry.seq
    last = world.pay("m2", "m1", 1).entry.seq
    world.ledger.close()
    return world, History(issue, pay, reversed_pay, reversal, last)


@pytest.fixture
def built(tmp_path: Path) -> tuple[World, History]:
    return _build(tmp_path / "ledger.db")


@pytest.fixture
def raw(built: tuple[World, History]) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (no foreign keys, autocommit) to the ledger file."""
    conn = sqlite3.connect(str(built[0].path), isolation_level=None)
    yield conn
    conn.close()


def drop_triggers(conn: sqlite3.Connection) -> None:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    assert len(names) == 2 * len(APPEND_ONLY_TABLES)
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")


def flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    return blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1 :]


def assert_detected(path: Path, seq: int | None) -> None:
    """audit() reports the problem at ``seq``; verify() raises IntegrityError."""
    with Ledger.open(path) as ledger:
        report = ledger.audit()
        assert not report.ok, "tampering went unnoticed"
        assert report.problems_total >= 1
        if seq is not None:
            assert seq in report.seqs(), report.to_text()
        with pytest.raises(IntegrityError) as info:
            ledger.verify()
        assert isinstance(info.value, LedgerError)
        assert info.value.code == "integrity_failure"


# -- triggers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET kind = 'transfer' WHERE seq = 0",
        "UPDATE entries SET event = x'00' WHERE seq = 1",
        "UPDATE entries SET hash = prev_hash",
        "DELETE FROM entries WHERE seq = (SELECT max(seq) FROM entries)",
        "UPDATE postings SET amount = amount + 1",
        "DELETE FROM postings",
        "UPDATE signatures SET signature = zeroblob(64)",
        "DELETE FROM signatures WHERE seq = 0",
        "UPDATE merkle_nodes SET hash = zeroblob(32)",
        "DELETE FROM merkle_nodes",
    ],
)
def test_triggers_refuse_edits(
    built: tuple[World, History], raw: sqlite3.Connection, statement: str
) -> None:
    before = dump_file(built[0].path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute(statement)
    assert dump_file(built[0].path) == before
    with Ledger.open(built[0].path) as ledger:
        ledger.verify()


def test_every_log_table_has_both_triggers(raw: sqlite3.Connection) -> None:
    rows = raw.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    covered = {
        (table, action)
        for table, sql in rows
        for action in ("UPDATE", "DELETE")
        if f"BEFORE {action}" in sql
    }
    assert covered == {(t, a) for t in APPEND_ONLY_TABLES for a in ("UPDATE", "DELETE")}


# -- tampering with the triggers dropped ------------------------------------------------

Tamper = Callable[[sqlite3.Connection, History], int | None]
"""Edit the file; return the seq the audit must name (None: any problem will do)."""


def _event_byte(conn: sqlite3.Connection, h: History) -> int:
    (event,) = conn.execute("SELECT event FROM entries WHERE seq = ?", (h.pay,)).fetchone()
    position = event.index(b'"amount":-30') + len(b'"amount":-')
    changed = event[:position] + b"4" + event[position + 1 :]  # -30 -> -40, still canonical
    conn.execute("UPDATE entries SET event = ? WHERE seq = ?", (changed, h.pay))
    return h.pay


def _memo_letter(conn: sqlite3.Connection, h: History) -> int:
    (event,) = conn.execute("SELECT event FROM entries WHERE seq = ?", (h.issue,)).fetchone()
    conn.execute(
        "UPDATE entries SET event = ? WHERE seq = ?",
        (event.replace(b"tree", b"free"), h.issue),
    )
    return h.issue


def _hash(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET hash = zeroblob(32) WHERE seq = ?", (h.pay,))
    return h.pay


def _hash_length(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET hash = x'00' WHERE seq = ?", (h.last,))
    return h.last


def _prev_hash(conn: sqlite3.Connection, h: History) -> int:
    (prev,) = conn.execute("SELECT prev_hash FROM entries WHERE seq = ?", (h.pay,)).fetchone()
    conn.execute("UPDATE entries SET prev_hash = ? WHERE seq = ?", (flip(prev, 31), h.pay))
    return h.pay


def _recorded_at(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET recorded_at_us = recorded_at_us + 1 WHERE seq = ?", (h.pay,))
    return h.pay


def _recorded_at_huge(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET recorded_at_us = ? WHERE seq = ?", (2**62, h.pay))
    return h.pay


def _event_id_column(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET event_id = 'renamed' WHERE seq = ?", (h.pay,))
    return h.pay


def _kind_column(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET kind = 'reverse' WHERE seq = ?", (h.pay,))
    return h.pay


def _effective_at_column(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET effective_at = '1999-01-01' WHERE seq = ?", (h.pay,))
    return h.pay


def _posting_amount(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE postings SET amount = amount - 1 WHERE seq = ? AND idx = 0", (h.pay,))
    return h.pay


def _posting_amounts_balanced(conn: sqlite3.Connection, h: History) -> int:
    conn.execute(
        "UPDATE postings SET amount = CASE WHEN amount < 0 THEN amount - 7 ELSE amount + 7 END "
        "WHERE seq = ?",
        (h.pay,),
    )
    return h.pay


def _posting_account(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE postings SET account = 'm2' WHERE seq = ? AND idx = 0", (h.pay,))
    return h.pay


def _posting_asset(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE postings SET asset = 'XYZ' WHERE seq = ?", (h.pay,))
    return h.pay


def _posting_deleted(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM postings WHERE seq = ? AND idx = 1", (h.issue,))
    return h.issue


def _posting_added(conn: sqlite3.Connection, h: History) -> int:
    conn.execute(
        "INSERT INTO postings (seq, idx, account, asset, amount) VALUES (?, 9, 'm1', 'PTS', 1)",
        (h.pay,),
    )
    return h.pay


def _signature_blob(conn: sqlite3.Connection, h: History) -> int:
    (sig,) = conn.execute(
        "SELECT signature FROM signatures WHERE seq = ? AND idx = 0", (h.pay,)
    ).fetchone()
    conn.execute(
        "UPDATE signatures SET signature = ? WHERE seq = ? AND idx = 0", (flip(sig, 5), h.pay)
    )
    return h.pay


def _signature_short(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE signatures SET signature = x'0102' WHERE seq = ?", (h.issue,))
    return h.issue


def _signature_key_id(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE signatures SET key_id = 'not a key id' WHERE seq = ?", (h.issue,))
    return h.issue


def _signature_deleted(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM signatures WHERE seq = ? AND idx = 0", (h.issue,))
    return h.issue


def _signature_renumbered(conn: sqlite3.Connection, h: History) -> int:
    # Found by the byte-flip soak: one signature's position changed, the order did not.
    conn.execute("UPDATE signatures SET idx = 5 WHERE seq = ? AND idx = 0", (h.pay,))
    return h.pay


def _posting_renumbered(conn: sqlite3.Connection, h: History) -> int:
    (last,) = conn.execute("SELECT max(idx) FROM postings WHERE seq = ?", (h.issue,)).fetchone()
    conn.execute("UPDATE postings SET idx = ? WHERE seq = ? AND idx = ?", (last + 7, h.issue, last))
    return h.issue


def _merkle_node(conn: sqlite3.Connection, h: History) -> int:
    conn.execute(
        "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = ?", (h.pay,)
    )
    return h.pay


def _merkle_node_deleted(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM merkle_nodes WHERE level = 0 AND idx = ?", (h.last,))
    return h.last


def _balance_row(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE balances SET posted = posted + 1 WHERE account = 'm1' AND asset = 'PTS'")
    return h.last  # the last entry that moved m1's PTS


def _balance_row_deleted(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM balances WHERE account = 'm2' AND asset = 'CNY'")
    return h.issue + 1


def _balance_row_added(conn: sqlite3.Connection, h: History) -> int | None:
    conn.execute("INSERT INTO balances VALUES ('m1', 'CNY', 5, 0)")
    return None


def _account_kind(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE accounts SET kind = 'issuer' WHERE account = 'm1'")
    return _opened_seq(conn, "m1")


def _account_opened_seq(conn: sqlite3.Connection, h: History) -> int:
    seq = _opened_seq(conn, "m2")
    conn.execute("UPDATE accounts SET opened_seq = 999 WHERE account = 'm2'")
    return seq


def _account_deleted(conn: sqlite3.Connection, h: History) -> int:
    seq = _opened_seq(conn, "m2")
    conn.execute("DELETE FROM accounts WHERE account = 'm2'")
    return seq


def _key_roles(conn: sqlite3.Connection, h: History) -> int:
    seq = _key_seq(conn, "m1")
    conn.execute("UPDATE keys SET roles = '[\"admin\"]' WHERE owner = 'm1'")
    return seq


def _key_revoked(conn: sqlite3.Connection, h: History) -> int:
    seq = _key_seq(conn, "m2")
    conn.execute("UPDATE keys SET revoked_at_seq = 999 WHERE owner = 'm2'")
    return seq


def _key_public_key(conn: sqlite3.Connection, h: History) -> int:
    seq = _key_seq(conn, "m1")
    conn.execute("UPDATE keys SET public_key = zeroblob(32) WHERE owner = 'm1'")
    return seq


def _state_row(conn: sqlite3.Connection, h: History) -> int | None:
    conn.execute("DELETE FROM state WHERE namespace = 'reversed'")
    return None


def _entry_deleted_middle(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM entries WHERE seq = ?", (h.pay,))
    return h.pay


def _entry_deleted_last(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("DELETE FROM entries WHERE seq = ?", (h.last,))
    return h.last


def _entries_swapped(conn: sqlite3.Connection, h: History) -> int:
    conn.execute("UPDATE entries SET seq = -1 WHERE seq = ?", (h.pay,))
    conn.execute("UPDATE entries SET seq = ? WHERE seq = ?", (h.pay, h.pay + 1))
    conn.execute("UPDATE entries SET seq = ? WHERE seq = -1", (h.pay + 1,))
    return h.pay


def _opened_seq(conn: sqlite3.Connection, account: str) -> int:
    return int(
        conn.execute("SELECT opened_seq FROM accounts WHERE account = ?", (account,)).fetchone()[0]
    )


def _key_seq(conn: sqlite3.Connection, owner: str) -> int:
    return int(
        conn.execute("SELECT valid_from_seq FROM keys WHERE owner = ?", (owner,)).fetchone()[0]
    )


TAMPERS: dict[str, Tamper] = {
    name.lstrip("_"): func
    for name, func in list(globals().items())
    if name.startswith("_")
    and callable(func)
    and name not in {"_build", "_opened_seq", "_key_seq"}
    and getattr(func, "__module__", None) == __name__
}


def test_tamper_catalogue_is_complete() -> None:
    assert len(TAMPERS) >= 30


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_detected(
    built: tuple[World, History], raw: sqlite3.Connection, name: str
) -> None:
    world, history = built
    with Ledger.open(world.path) as ledger:
        ledger.verify()
    drop_triggers(raw)
    seq = TAMPERS[name](raw, history)
    assert_detected(world.path, seq)


def test_reading_a_tampered_entry_raises_integrity_error(
    built: tuple[World, History], raw: sqlite3.Connection
) -> None:
    world, history = built
    drop_triggers(raw)
    raw.execute("UPDATE entries SET event = x'7b7d' WHERE seq = ?", (history.pay,))
    raw.execute("UPDATE entries SET recorded_at_us = ? WHERE seq = ?", (2**62, history.issue))
    with Ledger.open(world.path) as ledger:
        with pytest.raises(IntegrityError) as info:
            ledger.entry(history.pay)
        assert info.value.seq == history.pay
        with pytest.raises(IntegrityError):
            ledger.entry(history.issue)
        with pytest.raises(IntegrityError):
            list(ledger.entries())
        with pytest.raises(IntegrityError):
            ledger.statement("m1")


def _flip_loop(
    path: Path,
    seq: int,
    masks: Callable[[int], int],
    sample: Callable[[int], list[int]] | None = None,
) -> int:
    conn = sqlite3.connect(str(path), isolation_level=None)
    # The tamperer's own edits need no fsync: the ledger reads them from the same file
    # either way, and hundreds of them are made and undone.
    conn.execute("PRAGMA synchronous = OFF")
    try:
        drop_triggers(conn)
        (original,) = conn.execute("SELECT event FROM entries WHERE seq = ?", (seq,)).fetchone()
        with Ledger.open(path) as ledger:
            positions = list(range(len(original))) if sample is None else sample(len(original))
            for position in positions:
                changed = flip(original, position, masks(position))
                conn.execute("UPDATE entries SET event = ? WHERE seq = ?", (changed, seq))
                report = ledger.audit()
                assert seq in report.seqs(), f"byte {position}: {report.to_text()}"
                with pytest.raises(IntegrityError):
                    ledger.verify()
                try:
                    entry = ledger.entry(seq)
                except IntegrityError:
                    continue  # the changed bytes are no longer a valid canonical event
                assert entry.event_bytes == changed
            conn.execute("UPDATE entries SET event = ? WHERE seq = ?", (original, seq))
            # audit() also checks the schema: put the dropped triggers back first.
            for table in APPEND_ONLY_TABLES:
                protect_log_table(Database(conn), table)
            ledger.verify()
        return len(positions)
    finally:
        conn.close()


def test_flipping_any_byte_of_an_event_is_detected(built: tuple[World, History]) -> None:
    world, history = built
    checked = _flip_loop(world.path, history.pay, lambda _: 0x01)
    assert checked > 100


def test_random_byte_changes_of_an_event_are_detected(built: tuple[World, History]) -> None:
    world, history = built
    rng = random.Random(20240501)
    checked = _flip_loop(
        world.path,
        history.issue,
        lambda _: rng.randrange(1, 256),
        lambda size: rng.sample(range(size), 48),
    )
    assert checked == 48


def test_flipping_bytes_of_the_genesis_event_is_detected(built: tuple[World, History]) -> None:
    world, _ = built
    checked = _flip_loop(
        world.path,
        0,
        lambda position: 0x80 if position % 2 else 0x20,
        lambda size: list(range(0, size, 5)),
    )
    assert checked > 50


def _restore_triggers(conn: sqlite3.Connection) -> None:
    for table in APPEND_ONLY_TABLES:
        protect_log_table(Database(conn), table)


def test_state_keys_of_another_storage_class_pair_up_instead_of_raising() -> None:
    """Found by the byte-flip soak: a damaged record header turned a text key into a
    BLOB (STRICT tables only check on write), and comparing it with text keys raised
    ``TypeError`` in the state merge. Keys now compare in SQLite's own order."""
    values: list[object] = ["b", b"a", None, 3, "a", 2.5, b"\x00", "\u00e9", -1]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k)")
    conn.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    in_sqlite_order = [row[0] for row in conn.execute("SELECT k FROM t ORDER BY k")]
    conn.close()
    assert sorted(values, key=lambda v: audit_module._key_order((v,))) == in_sqlite_order
    live = iter([("m2", "PTS", 1, 0), (b"m1", "PTS", 5, 0)])  # as SQLite orders them
    replayed = iter([("m1", "PTS", 5, 0), ("m2", "PTS", 1, 0)])
    pairs = list(audit_module._merge_by_key(live, replayed, 2))
    assert [(stored, expected) for _, stored, expected in pairs] == [
        (None, ("m1", "PTS", 5, 0)),
        (("m2", "PTS", 1, 0), ("m2", "PTS", 1, 0)),
        ((b"m1", "PTS", 5, 0), None),
    ]


def test_changed_schema_bookkeeping_is_reported(
    built: tuple[World, History], raw: sqlite3.Connection
) -> None:
    """Found by the byte-flip soak: a damaged migration set name went unreported."""
    world, _ = built
    drop_triggers(raw)
    raw.execute(
        "UPDATE _sqlite_migrations SET migration_set = 'points_ledgeR' "
        "WHERE name = 'm002_community_views'"
    )
    _restore_triggers(raw)
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    assert [p.code for p in report.problems] == ["schema_mismatch"], report.to_text()


@pytest.mark.parametrize("amount", [None, "7", 7.0, b"\x07"])
def test_a_posting_amount_of_another_type_is_an_integrity_error(amount: object) -> None:
    """Found by the byte-flip soak: a NULL amount read from a damaged page (the schema's
    NOT NULL is only enforced on write) made ``check_zero_sum`` raise ``TypeError``."""
    damaged = Posting.model_construct(account="m1", asset=Asset.PTS, amount=amount)  # type: ignore[arg-type]
    sound = Posting(account="m2", asset=Asset.PTS, amount=-7)
    with pytest.raises(IntegrityError, match="not a whole number") as info:
        check_zero_sum([damaged, sound], seq=4)
    assert info.value.seq == 4


def _damaged_rows(
    monkeypatch: pytest.MonkeyPatch, seq: int, damage: Callable[[EntryRow], EntryRow]
) -> None:
    # Values of the wrong type are what a damaged record header reads back as (STRICT
    # and NOT NULL only hold on write), so they are injected on the way out of the store.
    real = SqliteStore.entry_rows

    def rows(self: SqliteStore, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        for row in real(self, start, stop):
            yield damage(row) if row.seq == seq else row

    monkeypatch.setattr(SqliteStore, "entry_rows", rows)


def test_a_recorded_time_of_another_type_is_reported(
    built: tuple[World, History], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fourth byte-flip soak: a BLOB ``recorded_at_us`` raised ``TypeError``."""
    world, _ = built
    _damaged_rows(monkeypatch, 5, lambda row: replace(row, recorded_at_us=b"\x01\x02"))  # type: ignore[arg-type]
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    assert ("hash_mismatch", 5) in {(p.code, p.seq) for p in report.problems}, report.to_text()


@pytest.mark.parametrize("helper", [False, True], ids=["in-line", "helper"])
def test_a_missing_signature_value_is_reported(
    built: tuple[World, History], monkeypatch: pytest.MonkeyPatch, helper: bool
) -> None:
    """Found by the fourth byte-flip soak: a NULL signature made the rules raise ``TypeError``
    (and would have made the signature helper's size check raise too)."""
    world, _ = built
    if helper:
        monkeypatch.setattr(audit_module, "HELPER_MIN_ENTRIES", 0)
    seq = 6

    def damage(row: EntryRow) -> EntryRow:
        first = Signature.model_construct(key_id=row.signatures[0].key_id, signature=None)  # type: ignore[arg-type]
        return replace(row, signatures=(first, *row.signatures[1:]))

    _damaged_rows(monkeypatch, seq, damage)
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    codes = {(p.code, p.seq) for p in report.problems}
    assert ("hash_mismatch", seq) in codes and ("rule_broken", seq) in codes, report.to_text()


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [(bytes(32), None), (None, bytes(64)), (bytes(32), "sig"), ("key", bytes(64))],
)
def test_a_signature_check_on_values_of_another_type_is_false(
    public_key: object, signature: object
) -> None:
    assert verify_signature(public_key, b"message", signature) is False  # type: ignore[arg-type]


_WRONG_TYPES = (None, b"\x01\x02", "x", 1.5, 7, -(2**63))
# The entry's own columns (seq is checked by numbering; signatures and postings below).
_ENTRY_FIELDS = tuple(
    f.name for f in fields(EntryRow) if f.name not in {"seq", "signatures", "postings"}
)


def _with_value(row: EntryRow, where: str, value: object) -> EntryRow:
    if where in _ENTRY_FIELDS:
        return replace(row, **{where: value})  # type: ignore[arg-type]
    table, name = where.split(".")
    if table == "signature":
        first = row.signatures[0]
        fields = {"key_id": first.key_id, "signature": first.signature, name: value}
        return replace(row, signatures=(Signature.model_construct(**fields), *row.signatures[1:]))  # type: ignore[arg-type]
    first_posting = row.postings[0]
    fields = {
        "account": first_posting.account,
        "asset": first_posting.asset,
        "amount": first_posting.amount,
        name: value,
    }
    return replace(row, postings=(Posting.model_construct(**fields), *row.postings[1:]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "where",
    [
        *_ENTRY_FIELDS,
        "signature.key_id",
        "signature.signature",
        "posting.account",
        "posting.asset",
        "posting.amount",
    ],
)
@pytest.mark.parametrize("helper", [False, True], ids=["in-line", "helper"])
def test_any_value_of_any_type_in_any_column_is_reported_not_raised(
    built: tuple[World, History], monkeypatch: pytest.MonkeyPatch, where: str, helper: bool
) -> None:
    """A damaged record header can make SQLite return any type from any column (STRICT
    and NOT NULL only hold on write): each such value must be reported with the entry's
    seq, never raise. The byte-flip soaks found four instances of this one at a time."""
    world, history = built
    seq = history.pay  # a member payment: one signature, two postings
    for value in _WRONG_TYPES:
        monkeypatch.undo()
        if helper:
            monkeypatch.setattr(audit_module, "HELPER_MIN_ENTRIES", 0)
        _damaged_rows(monkeypatch, seq, partial(_with_value, where=where, value=value))
        with Ledger.open(world.path) as ledger:
            report = ledger.audit()
        assert not report.ok, (where, value)
        assert seq in {p.seq for p in report.problems}, (where, value, report.to_text())
