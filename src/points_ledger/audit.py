"""Replay a ledger file and check everything it claims.

``verify()`` raises at the first problem and ``audit()`` returns a report of all of them;
both run :func:`run_audit`. The replay streams entries in pages into a replay state
(:class:`~points_ledger.store.replay.ReplayState`: dictionaries, written to the store's
scratch state when large, so memory stays bounded) and, for every entry, checks:

* the seq has no gap, ``prev_hash`` links to the previous entry and ``hash`` is right;
* ``recorded_at`` never decreases;
* the event bytes are a valid, canonical event and match the indexed columns;
* each signature verifies with a key valid at that seq, and the signing policy holds;
* the stored postings equal the postings re-derived from the event and the state, and
  sum to zero per asset (no constrained balance below zero); re-derived postings are
  summed by the rules, so stored ones are summed again only where they differ;
* the stored Merkle nodes equal the recomputed ones.

The rules that check entry ``n`` see only what ``append`` saw when it wrote it: the state
replayed from entries ``0 … n-1`` and, for events that name an earlier entry (a
``Reverse``), only entries before ``n``. An entry moved in front of one it names breaks a
rule.

It also checks the stored checkpoints and, when given one, a trusted checkpoint held
outside the file (see :mod:`points_ledger.transparency`).

At the end it compares the cached state tables with the replayed state, looks for rows
that belong to no entry, and runs ``PRAGMA integrity_check``. Corrupt data never escapes
as ``TypeError``, ``KeyError`` or ``UnicodeDecodeError``: it becomes a reported problem.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from points_ledger._sigcheck import Item, SignatureChecker
from points_ledger.canonical import (
    EVENT_BYTES_MAX,
    GENESIS_PREV_HASH,
    entry_hash,
    event_from_bytes,
    ledger_id_of,
    signing_input,
)
from points_ledger.domain.state import ConfiguredState, DeriveContext
from points_ledger.engine import (
    SIGNATURES_MAX,
    Preverified,
    authorize_and_plan,
    check_zero_sum,
    keys_checked_ahead,
)
from points_ledger.errors import LedgerError
from points_ledger.logrecord import LogRecord
from points_ledger.merkle import leaf_hash, node_hash
from points_ledger.models.audit import AuditReport, Problem
from points_ledger.models.events import Genesis, Posting
from points_ledger.store import STATE_TABLES, EntryRow, StateStore, Store
from points_ledger.store.replay import ReplayState
from points_ledger.transparency import (
    check_record_binding,
    check_stored_checkpoints,
    check_trusted_checkpoint,
)

__all__ = ["AuditReport", "Problem", "Progress", "run_audit"]

Progress = Callable[[int, int], None]
"""Called as ``progress(entries_checked, entries_total)`` while a check runs."""

PROBLEMS_MAX: Final = 1000
HELPER_MIN_ENTRIES: Final = 4096
"""From this many entries on, signatures are checked ahead in a helper process."""
SCRATCH_BATCH_MAX: Final = 50_000
"""Replayed accounts, keys, balances and records kept in memory before they are written
to the scratch store (checked every 1,000 entries)."""
MERKLE_PAGE: Final = 512
"""Merkle nodes of one level read at a time by the replay."""
_T = TypeVar("_T")


def _checked_record(store: Store, record: LogRecord, found: _Collector) -> int | None:
    """The size ``record`` covers, or None when it is damaged or another ledger's."""
    try:
        record.check()
    except LedgerError as e:
        found.add("record_invalid", f"the log record cannot be used: {e.message}", None)
        return None
    return check_record_binding(store, record, found.add)


class _RecordWitness:
    """Compares the entries replayed with the hashes the log key holder recorded."""

    def __init__(self, record: LogRecord, found: _Collector) -> None:
        self.record = record
        self.found = found
        self.size = record.size
        self.hashes = record.entry_hashes()
        self.differs = False

    def see(self, seq: int, digest: bytes) -> None:
        if self.differs or seq >= self.size:
            return
        try:
            recorded = next(self.hashes)
        except (StopIteration, LedgerError) as e:
            self.differs = True
            self.found.add("record_unreadable", f"the log record cannot be read: {e}", None)
            return
        if recorded != digest:
            self.differs = True
            self.found.add(
                "rewritten",
                f"this is not the entry the log key holder checked and signed (checkpoint of "
                f"{self.size} entries): from here on the file was changed, or an entry was "
                "removed, inserted or moved",
                seq,
            )

    def finish(self, checked: int) -> None:
        if not self.differs and checked < self.size:
            self.found.add(
                "truncated",
                f"the file ends after {checked} entries, but the log key holder checked and "
                f"signed {self.size}: entries {checked} to {self.size - 1} were removed",
                checked,
            )


class _Stop(Exception):
    """Raised internally to end a replay at the first problem."""


class _Collector:
    def __init__(self, stop_at_first: bool) -> None:
        self.stop_at_first = stop_at_first
        self.problems: list[Problem] = []
        self.findings: list[Problem] = []
        self.total = 0
        self.checked = 0  # entries replayed so far
        self.anchored = 0  # entries a checkpoint held outside the file covers

    def add(self, code: str, message: str, seq: int | None = None) -> None:
        self.total += 1
        if len(self.problems) < PROBLEMS_MAX:
            self.problems.append(Problem(code, message, seq))
        if self.stop_at_first:
            raise _Stop


def run_audit(
    store: Store,
    *,
    progress: Progress | None = None,
    stop_at_first: bool = False,
    trusted_checkpoint: str | None = None,
    checker: SignatureChecker | None = None,
    record: LogRecord | None = None,
    on_entry: Callable[[int, bytes], None] | None = None,
) -> AuditReport:
    """Replay and check the whole file; see the module docstring for what is checked.

    A ``trusted_checkpoint`` (signed note held outside the file) is compared first, so
    that truncation or rewriting is the problem ``verify()`` names. A ``record`` (the log
    key holder's :class:`~points_ledger.LogRecord`) is compared entry by entry as the log
    is replayed, so the first entry that was removed, moved or changed is named exactly.
    ``on_entry(seq, entry_hash)`` is called for every entry before it is checked. A
    ``checker`` lets signatures of large files be checked ahead on another core; verdicts
    do not depend on it.
    """
    found = _Collector(stop_at_first)
    with contextlib.ExitStack() as snapshot:
        try:
            # One read transaction for the whole check: every query sees the file at
            # one moment, whatever other processes append meanwhile.
            size: int | None = snapshot.enter_context(store.read_snapshot())
        except LedgerError as e:
            found.add("unreadable", f"the file cannot be read: {e}")
            size = None
        with contextlib.suppress(_Stop):
            _run_checks(store, found, progress, trusted_checkpoint, checker, size, record, on_entry)
    return AuditReport(
        entries_checked=found.checked,
        problems=tuple(found.problems),
        problems_total=found.total,
        anchored=min(found.anchored, found.checked),
        findings=tuple(found.findings),
    )


def _run_checks(
    store: Store,
    found: _Collector,
    progress: Progress | None,
    trusted_checkpoint: str | None,
    checker: SignatureChecker | None,
    size: int | None,
    record: LogRecord | None,
    on_entry: Callable[[int, bytes], None] | None,
) -> None:
    if trusted_checkpoint is not None:
        found.anchored = check_trusted_checkpoint(store, trusted_checkpoint, found.add)
    witness = None
    if record is not None:
        bound = _checked_record(store, record, found)
        if bound is not None:
            found.anchored = max(found.anchored, bound)
            witness = _RecordWitness(record, found)
    hooks = [h for h in (witness.see if witness else None, on_entry) if h is not None]
    try:
        finish = witness.finish if witness is not None else None
        _check_log(store, found, progress, checker, size, hooks, finish)
    except _failures(store) as e:
        # A damaged page can fail any read; report it and still run the store's checks.
        found.add("unreadable", f"the file cannot be read: {e}")
    try:
        check_stored_checkpoints(store, found.add)
    except _failures(store) as e:
        found.add("unreadable", f"the checkpoints cannot be read: {e}")
    _add_all(found, store.storage_problems())


def _failures(store: Store, *more: type[Exception]) -> tuple[type[Exception], ...]:
    """What a read of a damaged store may raise: ours, the store's own, and ``more``."""
    return (LedgerError, *store.read_errors, *more)


def _add_all(found: _Collector, problems: Iterable[Problem]) -> None:
    for problem in problems:
        found.add(problem.code, problem.message, problem.seq)


def _check_log(
    store: Store,
    found: _Collector,
    progress: Progress | None,
    checker: SignatureChecker | None,
    size: int | None,
    hooks: Sequence[Callable[[int, bytes], None]] = (),
    after_replay: Callable[[int], None] | None = None,
) -> int:
    if size is not None:
        total = size
    else:
        try:
            total = store.entry_count()
        except LedgerError as e:
            found.add("unreadable", f"the entries table cannot be read: {e}")
            total = 0
    scratch = ReplayState(store.scratch_state())
    view = ConfiguredState(scratch)
    try:
        checked = _replay(store, scratch, view, found, progress, total, checker, hooks, size)
        if after_replay is not None:
            after_replay(checked)  # entries missing at the end explain what follows
        _note_policy(store, view, found)
        _compare_state(store, scratch, found)
    finally:
        scratch.close()
    _add_all(found, store.log_problems(checked))
    return checked


def _note_policy(store: Store, view: ConfiguredState, found: _Collector) -> None:
    """Findings about the signing policy the replayed genesis entry chose."""
    try:
        config = view.config()
    except _failures(store, KeyError, TypeError, ValueError):
        return  # a damaged genesis is reported by the replay itself
    if config is not None and config.policy.admin_threshold == 1:
        found.findings.append(
            Problem(
                "single_admin",
                "one admin may act alone on this ledger (admin threshold 1): that admin can "
                "open accounts, register first keys, seat the first committee and reverse "
                "entries without anyone else signing",
                0,
            )
        )


@dataclass(frozen=True)
class _Unreadable:
    """Stands in the stream of rows where reading the file failed."""

    error: Exception


def _rows(store: Store, stop: int | None) -> Iterator[EntryRow | _Unreadable]:
    try:
        yield from store.entry_rows(0, stop)
    except _failures(store, ValueError, TypeError) as e:
        yield _Unreadable(e)


class _Prechecks:
    """What to check ahead for each row: its signatures, with the keys the file lists.

    The origin is the genesis entry's; the public keys are the file's cached ones. Both
    only decide what is checked early: the replay uses a result only when the key it
    derived itself has that public key and its own origin is this one.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.origin: str | None = None
        self.ledger_id = b""
        self.public_keys: dict[str, bytes] = {}

    def items(self, row: EntryRow | _Unreadable) -> list[Item]:
        if isinstance(row, _Unreadable):
            return []
        try:
            if row.seq == 0:
                genesis = event_from_bytes(row.event)
                if isinstance(genesis, Genesis):
                    self.origin = genesis.origin
                    self.ledger_id = ledger_id_of(row.event)
                return []  # genesis keys come from the event itself; checked in line
            if self.origin is None or not _sendable(row):
                return []
            message = signing_input(self.origin, self.ledger_id, row.event)
            return [(self._public_key(s.key_id), message, s.signature) for s in row.signatures]
        except _failures(self.store, ValueError, TypeError, AttributeError):
            return []

    def _public_key(self, key_id: str) -> bytes:
        if key_id not in self.public_keys:
            record = self.store.state.key(key_id)
            self.public_keys[key_id] = b"" if record is None else record.public_key
        return self.public_keys[key_id]


def _sendable(row: EntryRow) -> bool:
    # Rows the rules refuse before any arithmetic are not worth sending (and a damaged
    # row with thousands of signatures over a huge event would make a huge request).
    return len(row.signatures) <= SIGNATURES_MAX and len(row.event) <= EVENT_BYTES_MAX


def _preverified(
    row: EntryRow, flags: list[bool], prechecks: _Prechecks, view: ConfiguredState
) -> Preverified | None:
    if not any(flags):
        return None
    try:
        config = view.config()
    except _failures(prechecks.store, KeyError, TypeError):
        return None
    if config is None or (config.origin, config.ledger_id) != (
        prechecks.origin,
        prechecks.ledger_id,
    ):
        return None
    return keys_checked_ahead(row.signatures, flags, prechecks.public_keys)


def _replay(
    store: Store,
    scratch: StateStore,
    view: ConfiguredState,
    found: _Collector,
    progress: Progress | None,
    total: int,
    checker: SignatureChecker | None,
    hooks: Sequence[Callable[[int, bytes], None]] = (),
    stop: int | None = None,
) -> int:
    prev_hash = GENESIS_PREV_HASH
    last_time = 0
    frontier: list[bytes] = []  # hashes of the complete subtrees on the right edge
    nodes = _MerklePages(store)
    checked = 0
    prechecks = _Prechecks(store)
    if checker is None or total < HELPER_MIN_ENTRIES:
        checker = _IN_LINE
    stream = checker.check_each(_rows(store, stop), prechecks.items)
    with contextlib.closing(stream):
        for expected_seq, (row, flags) in zip(itertools.count(), stream, strict=False):
            if isinstance(row, _Unreadable):
                found.add("unreadable", f"entries cannot be read past this point: {row.error}")
                break
            seq = row.seq
            if seq != expected_seq:
                found.add("missing_entry", f"entry {expected_seq} is missing", expected_seq)
                return checked
            for hook in hooks:
                hook(seq, row.hash if isinstance(row.hash, bytes) else b"")
            preverified = _preverified(row, flags, prechecks, view) if flags else None
            # The rules see only what was there when the entry was appended: the state
            # replayed so far and the log entries before this one.
            scratch.log_end = seq
            _check_entry(row, prev_hash, last_time, scratch, view, found, preverified)
            _check_merkle(nodes, seq, row.hash, frontier, found)
            prev_hash = row.hash if isinstance(row.hash, bytes) else b""
            last_time = row.recorded_at_us if isinstance(row.recorded_at_us, int) else last_time
            checked += 1
            found.checked = checked
            if checked % 1000 == 0 and scratch.batched > SCRATCH_BATCH_MAX:
                scratch.flush()  # bounded memory: the scratch database spills to disk
            if progress is not None and (checked % 1000 == 0 or checked == total):
                progress(checked, total)
    if checked == 0:
        found.add("empty", "the ledger has no genesis entry")
    return checked


class _InLine(SignatureChecker):
    """Checks nothing ahead: every signature is checked by the replay itself."""

    def check_each(
        self, objects: Iterable[_T], items_of: Callable[[_T], Sequence[Item]]
    ) -> Generator[tuple[_T, list[bool]], None, None]:
        return ((obj, []) for obj in objects)


_IN_LINE: Final = _InLine()


def _check_entry(
    row: EntryRow,
    prev_hash: bytes,
    last_time: int,
    scratch: StateStore,
    view: ConfiguredState,
    found: _Collector,
    preverified: Preverified | None = None,
) -> None:
    seq = row.seq
    if row.prev_hash != prev_hash:
        found.add("chain_broken", "prev_hash does not match the previous entry's hash", seq)
    # A damaged row may hold any type here; the entry hash reports that below.
    if isinstance(row.recorded_at_us, int) and row.recorded_at_us < last_time:
        if seq == 0:  # no previous entry: the time lies before 1970, where none is recorded
            found.add("time_decreased", "recorded_at lies before 1970", seq)
        else:
            found.add("time_decreased", "recorded_at is earlier than the previous entry's", seq)
    try:
        expected = entry_hash(
            seq=seq,
            recorded_at_us=row.recorded_at_us,
            prev_hash=row.prev_hash,
            event_bytes=row.event,
            signatures=row.signatures,
            postings=row.postings,
        )
    except (LedgerError, TypeError, ValueError, AttributeError) as e:
        found.add("hash_mismatch", f"the entry header cannot be hashed: {e}", seq)
        expected = b""
    if expected and expected != row.hash:
        found.add("hash_mismatch", "the stored hash does not match the entry's contents", seq)
    try:
        event = event_from_bytes(row.event)
    except LedgerError as e:
        found.add("bad_event", str(e), seq)
        return
    if (row.event_id, row.kind, row.effective_at) != (
        event.id,
        event.type,
        event.effective_at.isoformat(),
    ):
        found.add("index_mismatch", "indexed id, kind or date differ from the event bytes", seq)
    try:
        plan = authorize_and_plan(
            event,
            row.event,
            row.signatures,
            view,
            DeriveContext(seq, row.recorded_at_us),
            preverified,
        )
    except LedgerError as e:
        _check_stored_sums(row.postings, seq, found)
        found.add("rule_broken", f"the entry breaks a ledger rule: [{e.code}] {e}", seq)
        return
    if not _same_postings(plan.postings, row.postings):
        _check_stored_sums(row.postings, seq, found)
        found.add("postings_mismatch", "stored postings differ from the re-derived ones", seq)
    scratch.apply(plan.changes, plan.postings)


def _same_postings(derived: Sequence[Posting], stored: Sequence[Posting]) -> bool:
    """Whether the stored postings are the derived ones, amounts whole numbers as there.

    Derived postings sum to zero (``authorize_and_plan`` checks it), so stored postings
    equal to them need no sum of their own. ``==`` alone would let a stored amount of
    another type that compares equal (``1.0`` for ``1``) pass unreported.
    """
    return derived == stored and all(type(p.amount) is int for p in stored)


def _check_stored_sums(postings: Sequence[Posting], seq: int, found: _Collector) -> None:
    try:
        check_zero_sum(postings, seq)
    except LedgerError as e:
        found.add("unbalanced", str(e), seq)


class _MerklePages:
    """The stored Merkle nodes, read one page of a level at a time as the replay asks.

    The replay asks for the nodes of each level in increasing index order, so one read
    of :data:`MERKLE_PAGE` nodes serves that many questions. Every node is still compared
    with the one recomputed from the entries; a page that cannot be read counts as
    missing nodes, each of which is reported.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pages: dict[int, tuple[int, dict[int, bytes]]] = {}  # level -> (start, nodes)

    def get(self, level: int, index: int) -> bytes:
        page = self.pages.get(level)
        if page is not None and page[0] <= index < page[0] + MERKLE_PAGE:
            nodes = page[1]
        else:
            start = index
            try:
                nodes = self.store.merkle_nodes(level, start, start + MERKLE_PAGE)
            except LedgerError:
                nodes = {}
            self.pages[level] = (start, nodes)
        return nodes.get(index, b"")


def _check_merkle(
    nodes: _MerklePages, seq: int, entry_digest: bytes, frontier: list[bytes], found: _Collector
) -> None:
    node = leaf_hash(entry_digest if isinstance(entry_digest, bytes) else b"")
    level, index = 0, seq
    while True:
        stored = nodes.get(level, index)
        if stored != node:
            found.add("merkle_mismatch", f"Merkle node ({level}, {index}) is wrong or missing", seq)
        if index % 2 == 0:
            frontier.append(node)
            return
        node = node_hash(frontier.pop(), node)
        level += 1
        index //= 2


Row = tuple[Any, ...]
_KEY_WIDTH: Final = {"accounts": 1, "keys": 1, "balances": 2, "state": 2}


def _compare_state(store: Store, scratch: StateStore, found: _Collector) -> None:
    for table in STATE_TABLES:
        width = _KEY_WIDTH[table]
        try:
            # Close both row streams before the scratch database is closed, also when
            # verify() stops at the first problem.
            with (
                contextlib.closing(store.state.table_rows(table)) as live,
                contextlib.closing(scratch.table_rows(table)) as replayed,
            ):
                pairs = _merge_by_key(live, replayed, width)
                _report_state_differences(store, table, pairs, found)
        except _failures(store) as e:
            found.add("state_mismatch", f"the {table} table cannot be read: {e}")


def _report_state_differences(
    store: Store,
    table: str,
    pairs: Iterator[tuple[Row, Row | None, Row | None]],
    found: _Collector,
) -> None:
    for key, stored, expected in pairs:
        if stored == expected:
            continue
        found.add(
            "state_mismatch",
            f"cached {table} row {_describe(key)} is {_describe(stored)}; "
            f"replaying the log gives {_describe(expected)}",
            # Take the seq from the replayed row when there is one: the cached row is
            # the damaged one, and its seq columns may be what changed.
            _last_seq_for(store, table, expected or stored or key),
        )


def _merge_by_key(
    live: Iterator[Row], replayed: Iterator[Row], width: int
) -> Iterator[tuple[Row, Row | None, Row | None]]:
    """Pair rows of two primary-key-ordered streams by key, holding one row of each.

    Both streams come from a store ordered by their keys; keys are compared here in the
    order the store protocol sets (see :func:`_key_order`), so that a damaged key of
    another type (bytes where text belongs) pairs up instead of breaking the merge.
    Memory stays constant however large the state is.
    """

    def keyed(rows: Iterator[Row]) -> tuple[Row | None, Any]:
        row = next(rows, None)
        return row, None if row is None else _key_order(row[:width])

    (a, ka), (b, kb) = keyed(live), keyed(replayed)
    while a is not None or b is not None:
        if a is not None and (b is None or ka < kb):
            yield a[:width], a, None
            a, ka = keyed(live)
        elif b is not None and (a is None or kb < ka):
            yield b[:width], None, b
            b, kb = keyed(replayed)
        elif a is not None and b is not None:
            yield a[:width], a, b
            (a, ka), (b, kb) = keyed(live), keyed(replayed)


def _key_order(key: Row) -> tuple[tuple[int, Any], ...]:
    """The order of state rows every store keeps: None, numbers, text, then bytes.

    It is SQLite's order (the first store); text compares by code point, which is the byte
    order of its UTF-8 (SQLite's BINARY collation); bytes compare bytewise.
    """
    return tuple(
        (0, 0)
        if value is None
        else (1, value)
        if isinstance(value, int | float)
        else (2, value)
        if isinstance(value, str)
        else (3, bytes(value))
        for value in key
    )


def _describe(row: tuple[Any, ...] | None) -> str:
    if row is None:
        return "missing"
    return "(" + ", ".join(v.hex()[:16] if isinstance(v, bytes) else repr(v) for v in row) + ")"


def _last_seq_for(store: Store, table: str, row: tuple[Any, ...]) -> int | None:
    try:
        if table == "balances":
            return store.last_posting_seq(row[0], row[1])
        if table == "accounts" and isinstance(row[3], int):
            return row[3]
        if table == "keys" and isinstance(row[4], int):
            return row[5] if isinstance(row[5], int) else row[4]
    except _failures(store, IndexError, TypeError, ValueError):
        return None
    return None
