"""What ``audit()`` and ``verify()`` report, pinned on a ledger in memory.

The store here is a :class:`MemoryStore` that changes what it reads back (entries, Merkle
nodes, cached state rows), as a damaged or edited file would: each test names the problem
code and the seq the report must give. Quick enough for a mutation run over ``audit.py``
to repeat them for every mutant; the tampering tests on real files
(``tests/integration/test_tamper.py``) hold the SQLite store to the same reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DAY, ORIGIN, FixedClock, World, seeded_signer
from points_ledger import IntegrityError, Ledger, LogRecord, StorageError, audit
from points_ledger.audit import run_audit
from points_ledger.store import EntryRow
from points_ledger.store.memory import MemoryState, MemoryStore

Row = tuple[Any, ...]


class DamagedState(MemoryState):
    """Cached state rows as read back: ``damage[table]`` rewrites a table's rows."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.damage: dict[str, Callable[[list[Row]], list[Row]]] = {}

    def table_rows(self, table: str) -> Generator[Row, None, None]:
        rows = list(super().table_rows(table))
        damage = self.damage.get(table)
        yield from rows if damage is None else damage(rows)


class DamagedStore(MemoryStore):
    """A memory store whose reads can be damaged after the ledger is written."""

    def __init__(self) -> None:
        super().__init__()
        self.damaged_state = DamagedState(self)
        self.state = self.damaged_state
        self.rows: Callable[[list[EntryRow]], list[EntryRow]] = lambda rows: rows
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.snapshot_fails = False
        self.count_fails = False

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[int]:
        if self.snapshot_fails:
            raise StorageError("the file is locked by another program")
        with super().read_snapshot() as size:
            yield size

    def entry_rows(self, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        return iter(self.rows(list(super().entry_rows(start, stop))))

    def entry_count(self) -> int:
        if self.count_fails:
            raise StorageError("the entries table cannot be counted")
        return super().entry_count()

    def merkle_node(self, level: int, index: int) -> bytes:
        return self.nodes.get((level, index)) or super().merkle_node(level, index)

    def merkle_nodes(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        found = super().merkle_nodes(level, start, stop)
        found.update(
            (i, h) for (lv, i), h in self.nodes.items() if lv == level and start <= i < stop
        )
        return found


def _world(store: MemoryStore, *, threshold: int = 2) -> World:
    clock = FixedClock()
    admins = [seeded_signer(f"admin/{i}") for i in range(2)]
    log_key = seeded_signer("log")
    ledger = Ledger.create(
        store,
        origin=ORIGIN,
        log_key=log_key,
        admins=admins,
        threshold=threshold,
        effective_at=DAY,
        clock=clock,
    )
    world = World(
        ledger=ledger,
        path=Path(":memory:"),
        clock=clock,
        admins=admins,
        log_key=log_key,
        threshold=threshold,
    )
    for name in ("m1", "m2"):
        world.add_member(name)
    return world


@pytest.fixture
def store() -> DamagedStore:
    """Genesis, two members (entries 1 to 4), 10 points to m1 (the committee seated first,
    entries 5 to 8, the issue at 9), a minute later m1 pays m2 3 points (10) and 2 points
    go to m2 (11)."""
    store = DamagedStore()
    world = _world(store)
    world.issue("m1", 10)
    world.clock.advance(minutes=1)
    world.ledger.append(world.transfer_event("m1", "m2", 3), [world.members["m1"]])
    world.issue("m2", 2)
    assert world.ledger.size() == 12
    return store


def _audit(store: MemoryStore) -> set[tuple[str, int | None]]:
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    assert report.problems_total == len(report.problems)
    return {(p.code, p.seq) for p in report.problems}


def _edit(seq: int, **fields: Any) -> Callable[[list[EntryRow]], list[EntryRow]]:
    def rows(found: list[EntryRow]) -> list[EntryRow]:
        return [dataclasses.replace(r, **fields) if r.seq == seq else r for r in found]

    return rows


def test_a_sound_ledger_audits_clean_and_progress_reaches_the_end(store: DamagedStore) -> None:
    calls: list[tuple[int, int]] = []
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit(progress=lambda done, total: calls.append((done, total)))
        assert ledger.verify().ok
    assert report.ok, report.to_text()
    assert (report.entries_checked, report.problems_total, report.anchored) == (12, 0, 0)
    assert calls == [(12, 12)]
    assert report.findings == ()


def test_an_empty_store_has_no_genesis() -> None:
    report = run_audit(MemoryStore())
    assert [(p.code, p.seq) for p in report.problems] == [("empty", None)]
    assert report.entries_checked == 0


def test_a_changed_amount_is_a_hash_mismatch_and_a_broken_rule(store: DamagedStore) -> None:
    row = store.entry_at(10)
    assert row is not None
    first, second = row.postings
    changed = (first.model_copy(update={"amount": -4}), second.model_copy(update={"amount": 4}))
    store.rows = _edit(10, postings=changed)
    assert _audit(store) == {("hash_mismatch", 10), ("postings_mismatch", 10)}


def test_unbalanced_postings_are_reported(store: DamagedStore) -> None:
    row = store.entry_at(10)
    assert row is not None
    store.rows = _edit(10, postings=row.postings[:1])
    assert _audit(store) == {("hash_mismatch", 10), ("unbalanced", 10), ("postings_mismatch", 10)}


def test_a_broken_chain_is_named_at_its_entry(store: DamagedStore) -> None:
    store.rows = _edit(6, prev_hash=b"\x00" * 32)
    assert _audit(store) == {("chain_broken", 6), ("hash_mismatch", 6)}


def test_a_time_earlier_than_the_entry_before_is_reported(store: DamagedStore) -> None:
    row = store.entry_at(4)
    assert row is not None
    store.rows = _edit(5, recorded_at_us=row.recorded_at_us - 1)
    assert _audit(store) == {("time_decreased", 5), ("hash_mismatch", 5)}


def test_the_same_time_as_the_entry_before_is_no_problem(store: DamagedStore) -> None:
    # Entries 5 and 6 were appended at the same fixed time.
    five, six = store.entry_at(5), store.entry_at(6)
    assert five is not None and six is not None
    assert five.recorded_at_us == six.recorded_at_us
    assert _audit(store) == set()


def test_the_first_entry_has_no_earlier_time_to_compare_with(store: DamagedStore) -> None:
    # A genesis time of 0 (1970-01-01) is damage, named as such: it is not "earlier than
    # the previous entry's", there being none.
    store.rows = _edit(0, recorded_at_us=0)
    problems = _audit(store)
    assert ("hash_mismatch", 0) in problems
    assert not any(code == "time_decreased" for code, _ in problems)
    # A time before 1970 is below every time a ledger can record (a clock that reads so is
    # refused): that is reported too, as what it is.
    store.rows = _edit(0, recorded_at_us=-1)
    assert ("time_decreased", 0) in _audit(store)
    with Ledger.open(store, clock=FixedClock()) as ledger:
        messages = {p.message for p in ledger.audit().problems if p.code == "time_decreased"}
    assert messages == {"recorded_at lies before 1970"}


def test_an_index_that_differs_from_the_event_bytes_is_reported(store: DamagedStore) -> None:
    store.rows = _edit(3, event_id="someone-else")
    assert _audit(store) == {("index_mismatch", 3)}  # the id is not hashed twice


def test_undecodable_event_bytes_are_a_bad_event(store: DamagedStore) -> None:
    store.rows = _edit(11, event=b"not json")
    # Its 2 points are not replayed: the cached balances of m2 and the issuer differ.
    assert _audit(store) == {("bad_event", 11), ("hash_mismatch", 11), ("state_mismatch", 11)}


def test_a_missing_entry_ends_the_replay(store: DamagedStore) -> None:
    store.rows = lambda rows: [r for r in rows if r.seq != 4]
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    assert report.entries_checked == 4
    assert ("missing_entry", 4) in {(p.code, p.seq) for p in report.problems}
    assert not any(p.code in {"chain_broken", "rule_broken"} for p in report.problems)


def test_an_entry_moved_in_front_of_its_key_breaks_a_rule(store: DamagedStore) -> None:
    # Entry 8 is signed by m1's key, registered at entry 2: replayed against the state of
    # entries 0 and 1 only, the key is unknown.
    rows = {r.seq: r for r in store.entry_rows()}
    store.rows = lambda found: [
        dataclasses.replace(rows[8], seq=2) if r.seq == 2 else r for r in found
    ]
    problems = _audit(store)
    assert ("rule_broken", 2) in problems


def test_a_wrong_merkle_node_is_named_with_the_entry_that_completes_it(
    store: DamagedStore,
) -> None:
    store.nodes[0, 6] = b"\x01" * 32  # the leaf of entry 6
    store.nodes[1, 3] = b"\x02" * 32  # entries 6 and 7: completed by entry 7
    store.nodes[3, 0] = b"\x03" * 32  # entries 0 to 7: completed by entry 7
    assert _audit(store) == {
        ("merkle_mismatch", 6),
        ("merkle_mismatch", 7),
    }
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    nodes = sorted(p.message.split(")")[0] for p in report.problems)
    assert nodes == ["Merkle node (0, 6", "Merkle node (1, 3", "Merkle node (3, 0"]


def test_verify_stops_at_the_first_problem_and_audit_lists_all(store: DamagedStore) -> None:
    store.rows = _edit(6, prev_hash=b"\x00" * 32)
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
        assert report.problems_total == 2
        with pytest.raises(IntegrityError) as info:
            ledger.verify()
    assert "6" in str(info.value)


def test_a_report_lists_a_thousand_problems_and_counts_them_all(store: DamagedStore) -> None:
    extra = [(f"zz.{i:04}", "PTS", 1, 0) for i in range(1001)]  # after every real account
    store.damaged_state.damage["balances"] = lambda rows: [*rows, *extra]
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    assert report.problems_total == 1001
    assert len(report.problems) == 1000
    assert report.problems[-1].message.startswith("cached balances row ('zz.0999', 'PTS')")


def _changed_balance(rows: list[Row]) -> list[Row]:
    return [(*r[:2], r[2] + 1, r[3]) if r[0] == "m2" else r for r in rows]


def test_a_changed_cached_balance_is_named_with_its_last_posting(store: DamagedStore) -> None:
    store.damaged_state.damage["balances"] = _changed_balance
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    [problem] = report.problems
    assert (problem.code, problem.seq) == ("state_mismatch", 11)
    assert "('m2', 'PTS', 6, 0)" in problem.message
    assert "('m2', 'PTS', 5, 0)" in problem.message


def test_cached_rows_missing_or_added_are_reported(store: DamagedStore) -> None:
    store.damaged_state.damage["accounts"] = lambda rows: [r for r in rows if r[0] != "m1"]
    store.damaged_state.damage["balances"] = lambda rows: [*rows, ("zz.extra", "PTS", 0, 0)]
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    found = {(p.code, p.seq) for p in report.problems}
    assert found == {("state_mismatch", 1), ("state_mismatch", None)}
    texts = sorted(p.message for p in report.problems)
    assert "cached accounts row ('m1') is missing" in texts[0]
    assert "cached balances row ('zz.extra', 'PTS') is ('zz.extra', 'PTS', 0, 0)" in texts[1]


def test_a_key_row_with_another_public_key_is_one_changed_row(store: DamagedStore) -> None:
    # Key rows pair up by key id alone: a changed public key is that row changed, not a
    # row missing and another added.
    def replaced(rows: list[Row]) -> list[Row]:
        return [(r[0], b"\x01" * 32, *r[2:]) if r[3] == "m2" else r for r in rows]

    store.damaged_state.damage["keys"] = replaced
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    assert [(p.code, p.seq) for p in report.problems] == [("state_mismatch", 4)]
    [key_id] = [r[0] for r in store.state.table_rows("keys") if r[3] == "m2"]
    # The row is named by its key id; bytes are shown by their first 8 bytes in hex.
    changed = f"cached keys row ({key_id!r}) is ({key_id!r}, 0101010101010101, '[\"member\"]'"
    assert report.problems[0].message.startswith(changed)


def test_a_state_record_with_another_value_is_one_changed_row(store: DamagedStore) -> None:
    def changed(rows: list[Row]) -> list[Row]:
        return [(*r[:2], "9") if r[:2] == ("ledger", "committee_seated") else r for r in rows]

    store.damaged_state.damage["state"] = changed
    report = run_audit(store)
    [problem] = report.problems
    assert problem.message.startswith(
        "cached state row ('ledger', 'committee_seated') is ('ledger', 'committee_seated', '9')"
    )


def test_a_key_row_marked_revoked_is_named_with_the_keys_registration(
    store: DamagedStore,
) -> None:
    # The replayed row is the sound one: m2's key, registered at 4 and never revoked.
    def revoked(rows: list[Row]) -> list[Row]:
        return [(*r[:5], 9) if r[3] == "m2" else r for r in rows]

    store.damaged_state.damage["keys"] = revoked
    assert _audit(store) == {("state_mismatch", 4)}


def test_a_key_row_only_in_the_cache_is_named_with_its_registration(
    store: DamagedStore,
) -> None:
    # A row the replay does not have is named by its own seq columns, whatever the other
    # columns hold (here a number as the owner): the revocation if there is one (7), else
    # the registration (3).
    extra: list[Row] = [
        ("zzzzzzzzzzzzzzz0", b"\x00" * 32, '["member"]', 5, 3, None),
        ("zzzzzzzzzzzzzzz1", b"\x00" * 32, '["member"]', 5, 3, 7),
    ]
    store.damaged_state.damage["keys"] = lambda rows: [*rows, *extra]
    assert _audit(store) == {("state_mismatch", 3), ("state_mismatch", 7)}


def test_rows_in_key_order_pair_up_whatever_their_types(store: DamagedStore) -> None:
    # A cached key of another type (NULL, a number, bytes) sorts where the stores sort it
    # and is one extra row, not a reason for every row after it to look changed.
    extra: list[Row] = [(None, "x", "{}"), (7, "x", "{}"), (b"\xff", "x", "{}")]
    store.damaged_state.damage["state"] = lambda rows: sorted(
        [*rows, *extra],
        key=lambda r: [
            (0, 0)
            if v is None
            else (1, v)
            if isinstance(v, int)
            else (2, v)
            if isinstance(v, str)
            else (3, v)
            for v in r[:2]
        ],
    )
    with Ledger.open(store, clock=FixedClock()) as ledger:
        report = ledger.audit()
    assert report.problems_total == 3, report.to_text()
    assert all(
        p.code == "state_mismatch" and "is missing" not in p.message for p in report.problems
    )


def test_a_cached_key_of_bytes_sorts_after_the_text_keys_of_its_namespace(
    store: DamagedStore,
) -> None:
    # m2's owner_keys row is gone and a row keyed by bytes stands last in that namespace,
    # where SQLite sorts a BLOB: the merge compares the two keys, text before bytes.
    def damage(rows: list[Row]) -> list[Row]:
        kept = [r for r in rows if r[:2] != ("owner_keys", "m2")]
        return [*kept, ("owner_keys", b"\x00", "[]")]

    store.damaged_state.damage["state"] = damage
    report = run_audit(store)
    assert [p.code for p in report.problems] == ["state_mismatch", "state_mismatch"]
    first, second = (p.message for p in report.problems)
    assert "row ('owner_keys', 'm2') is missing" in first
    assert "row ('owner_keys', 00) is" in second
    assert second.endswith("replaying the log gives missing")


def test_without_a_snapshot_the_replay_still_runs_to_the_end(store: DamagedStore) -> None:
    store.snapshot_fails = True
    calls: list[tuple[int, int]] = []
    report = run_audit(store, progress=lambda done, total: calls.append((done, total)))
    assert [(p.code, p.seq) for p in report.problems] == [("unreadable", None)]
    assert "locked by another program" in report.problems[0].message
    assert report.entries_checked == 12
    assert calls == [(12, 12)]


def test_without_the_number_of_entries_progress_is_told_no_total(store: DamagedStore) -> None:
    store.snapshot_fails = store.count_fails = True
    calls: list[tuple[int, int]] = []
    report = run_audit(store, progress=lambda done, total: calls.append((done, total)))
    assert [(p.code, p.seq) for p in report.problems] == [("unreadable", None)] * 2
    assert report.entries_checked == 12
    assert calls == []


def test_one_admin_acting_alone_is_a_finding_not_a_problem() -> None:
    single = _world(MemoryStore(), threshold=1)
    report = single.ledger.audit()
    assert report.ok
    assert [(f.code, f.seq) for f in report.findings] == [("single_admin", 0)]


# --- against the log key holder's record ---------------------------------------------------


def test_the_record_anchors_a_sound_ledger_and_names_what_was_removed_or_changed(
    store: DamagedStore, tmp_path: Path
) -> None:
    record = tmp_path / "log.record"
    with Ledger.open(store, clock=FixedClock()) as ledger:
        ledger.checkpoint(seeded_signer("log"), record)
        sound = ledger.audit(record=record)
        assert sound.ok, sound.to_text()
        assert (sound.anchored, sound.unanchored) == (12, 0)
        store.rows = lambda rows: [r for r in rows if r.seq < 10]
        cut = ledger.audit(record=record)
        assert ("truncated", 10) in {(p.code, p.seq) for p in cut.problems}
        assert "entries 10 to 11 were removed" in cut.to_text()
        hashes = {6: b"\x00" * 32, 7: b"\x01" * 32}
        store.rows = lambda rows: [
            dataclasses.replace(r, hash=hashes.get(r.seq, r.hash)) for r in rows
        ]
        changed = ledger.audit(record=record)  # named once, at the first entry changed
        assert (changed.problems[0].code, changed.problems[0].seq) == ("rewritten", 6)
        assert [p.code for p in changed.problems].count("rewritten") == 1


class ShortRecord(LogRecord):
    """A record whose entries file gives out after five hashes while it is read."""

    def entry_hashes(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        return itertools.islice(super().entry_hashes(start, stop), 5)


def test_a_record_that_gives_out_is_reported_once(store: DamagedStore, tmp_path: Path) -> None:
    with Ledger.open(store, clock=FixedClock()) as ledger:
        ledger.checkpoint(seeded_signer("log"), tmp_path / "log.record")
        report = ledger.audit(record=ShortRecord.open(tmp_path / "log.record"))
    assert [(p.code, p.seq) for p in report.problems] == [("record_unreadable", None)]


def test_without_a_signature_helper_every_file_is_checked_in_line(
    store: DamagedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file as large as the helper is meant for, checked without one, is still checked.
    monkeypatch.setattr(audit, "HELPER_MIN_ENTRIES", 1)
    assert run_audit(store).ok
    store.rows = _edit(6, prev_hash=b"\x00" * 32)
    assert {(p.code, p.seq) for p in run_audit(store).problems} == {
        ("chain_broken", 6),
        ("hash_mismatch", 6),
    }


def test_progress_is_told_every_thousand_entries_and_at_the_end() -> None:
    store = DamagedStore()
    world = _world(store)
    world.issue("m1", 1000)
    payer = world.members["m1"]
    world.ledger.append_many([(world.transfer_event("m1", "m2", 1), [payer]) for _ in range(991)])
    assert world.ledger.size() == 1001
    calls: list[tuple[int, int]] = []
    assert run_audit(store, progress=lambda done, total: calls.append((done, total))).ok
    assert calls == [(1000, 1001), (1001, 1001)]
