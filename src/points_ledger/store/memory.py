"""A store in plain Python: the reference implementation of the store protocol.

:class:`MemoryStore` keeps a whole ledger in dictionaries and lists. It holds every
guarantee the ledger relies on that does not need a disk: a write is all or nothing (a
journal of what it replaced is undone on any exception), the log and the checkpoints are
append-only, a checkpoint size is stored once, state records are stored as JSON text (so
a record read back is a fresh copy), and the named report queries give the rows the
SQLite store gives.

Use it in an application's tests, or wherever a ledger need not outlive the process::

    from points_ledger import Ledger
    from points_ledger.store.memory import MemoryStore

    ledger = Ledger.create(MemoryStore(), origin=..., log_key=..., admins=[...])

It is safe to share between threads: one re-entrant lock per store serialises writes
and reads, so a write waits for the one before it (as SQLite's ``BEGIN IMMEDIATE``
waits), a read never sees half a write, and a read snapshot holds writers off until it
ends. Iterators (``entry_rows``, ``checkpoint_rows``, ``table_rows``) copy what they
return under the lock. Nothing is ever saved; :meth:`MemoryStore.backup_to` refuses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, Final, ParamSpec, Protocol, TypeVar

from points_ledger.errors import IntegrityError, StorageError
from points_ledger.merkle import leaf_hash, node_hash
from points_ledger.models.audit import Problem
from points_ledger.models.common import Asset
from points_ledger.models.entries import AccountRecord, Balance, KeyRecord
from points_ledger.models.events import Posting
from points_ledger.models.state import (
    AccountOpened,
    Change,
    KeyAdded,
    KeyRevoked,
    PendingDelta,
    StatePut,
)
from points_ledger.store import (
    REPORT_QUERIES,
    CheckpointRow,
    EntryRow,
    Head,
    StatementRow,
)

__all__ = ["MemoryState", "MemoryStore"]

_MISSING: Final = object()


def _json(value: Any) -> str:
    # The same text the SQLite store writes, so that two stores holding the same state
    # give equal state rows.
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as e:
        raise IntegrityError(f"a state record cannot be stored as JSON: {e}") from e


class _Locked(Protocol):
    @property
    def lock(self) -> threading.RLock: ...


_S = TypeVar("_S", bound=_Locked)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Run ``method`` holding the store's lock (re-entrant: a write's own reads pass)."""

    def run(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run


@dataclass
class _Journal:
    """What the current write replaced, to put back if it does not finish."""

    log_size: int
    slots: dict[tuple[str, object], object] = field(default_factory=dict)
    nodes: list[tuple[int, int]] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)


class _EntrySource(Protocol):
    """Where a state's log reads go: anything that finds an entry by its seq."""

    def entry_at(self, seq: int) -> EntryRow | None:
        """Entry ``seq``, or None."""

    @property
    def lock(self) -> threading.RLock:
        """The lock the state holds while it reads or changes itself."""


class MemoryState:
    """The state caches of a :class:`MemoryStore` (or a scratch state for a replay).

    Implements the read-only ``StateRecords`` handlers see, and applies their changes.
    Log reads (``entry_kind``, ``entry_postings``) go to the store's log, bounded by
    ``log_end`` during a replay.
    """

    def __init__(self, log: MemoryStore | _EntrySource) -> None:
        self._log = log
        self.log_end: int | None = None
        self._accounts: dict[str, AccountRecord] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._balances: dict[tuple[str, str], tuple[int, int]] = {}
        self._records: dict[tuple[str, str], str] = {}
        self.journal: _Journal | None = None

    @property
    def lock(self) -> threading.RLock:
        """The lock of the store this state belongs to (scratch states share it)."""
        return self._log.lock

    # -- reads --------------------------------------------------------------------------

    @_locked
    def account(self, account: str) -> AccountRecord | None:
        """An opened account, or None."""
        return self._accounts.get(account)

    @_locked
    def key(self, key_id: str) -> KeyRecord | None:
        """A registered key (revoked or not), or None."""
        return self._keys.get(key_id)

    @_locked
    def count_active_keys(self, role: str) -> int:
        """How many unrevoked keys hold ``role``."""
        return len(self.active_keys(role))

    @_locked
    def active_keys(self, role: str) -> tuple[KeyRecord, ...]:
        """The unrevoked keys that hold ``role``, ordered by key id."""
        return tuple(
            record
            for _, record in sorted(self._keys.items())
            if record.revoked_at_seq is None and any(r.value == role for r in record.roles)
        )

    @_locked
    def balance(self, account: str, asset: Asset) -> Balance:
        """Current posted and pending balance (zero for an account that never moved)."""
        posted, pending = self._balances.get((account, asset.value), (0, 0))
        return Balance(account=account, asset=asset, posted=posted, pending=pending)

    @_locked
    def entry_kind(self, seq: int) -> str | None:
        """The event type of entry ``seq``, or None (also for seq at or past ``log_end``)."""
        row = self._entry(seq)
        return None if row is None else row.kind

    @_locked
    def entry_postings(self, seq: int) -> tuple[Posting, ...]:
        """The postings of entry ``seq`` in stored order (none at or past ``log_end``)."""
        row = self._entry(seq)
        return () if row is None else row.postings

    def _entry(self, seq: int) -> EntryRow | None:
        if self.log_end is not None and not 0 <= seq < self.log_end:
            return None
        return self._log.entry_at(seq)

    @_locked
    def get(self, namespace: str, key: str) -> Any:
        """A domain state record (JSON value, a fresh copy), or None."""
        text = self._records.get((namespace, key))
        return None if text is None else json.loads(text)

    # -- changes ------------------------------------------------------------------------

    @_locked
    def apply(self, changes: Sequence[Change], postings: Sequence[Posting]) -> None:
        """Apply a plan's state changes and postings."""
        for change in changes:
            self._apply_change(change)
        for posting in postings:
            self._add_balance(posting.account, posting.asset, posting.amount, 0)

    def _remember(self, table: str, key: object, current: object) -> None:
        journal = self.journal
        if journal is not None and (table, key) not in journal.slots:
            journal.slots[table, key] = current

    def _apply_change(self, change: Change) -> None:
        if isinstance(change, AccountOpened):
            account = change.record.account
            if account in self._accounts:
                raise StorageError(f"account {account} is already stored")
            self._remember("accounts", account, _MISSING)
            self._accounts[account] = change.record
        elif isinstance(change, KeyAdded):
            key_id = change.record.key_id
            if key_id in self._keys:
                raise StorageError(f"key {key_id} is already stored")
            self._remember("keys", key_id, _MISSING)
            self._keys[key_id] = change.record
        elif isinstance(change, KeyRevoked):
            found = self._keys.get(change.key_id)
            if found is not None:
                self._remember("keys", change.key_id, found)
                self._keys[change.key_id] = found.model_copy(update={"revoked_at_seq": change.seq})
        elif isinstance(change, PendingDelta):
            self._add_balance(change.account, change.asset, 0, change.delta)
        elif isinstance(change, StatePut):
            slot = (change.namespace, change.key)
            text = _json(change.value)
            self._remember("records", slot, self._records.get(slot, _MISSING))
            self._records[slot] = text
        else:  # pragma: no cover - the Change union is closed
            raise TypeError(f"unknown state change {change!r}")

    def _add_balance(self, account: str, asset: Asset, posted: int, pending: int) -> None:
        slot = (account, asset.value)
        current = self._balances.get(slot)
        self._remember("balances", slot, _MISSING if current is None else current)
        before = current or (0, 0)
        self._balances[slot] = (before[0] + posted, before[1] + pending)

    def undo(self, journal: _Journal) -> None:
        """Put back every slot the journal remembers (the write did not finish)."""
        tables: dict[str, dict[Any, Any]] = {
            "accounts": self._accounts,
            "keys": self._keys,
            "balances": self._balances,
            "records": self._records,
        }
        for (table, key), before in journal.slots.items():
            if before is _MISSING:
                tables[table].pop(key, None)
            else:
                tables[table][key] = before

    def flush(self) -> None:
        """Nothing to write: every change is applied where it is read."""

    @property
    def batched(self) -> int:
        """Always 0: nothing is held back."""
        return 0

    def table_rows(self, table: str) -> Generator[tuple[Any, ...], None, None]:
        """Every row of a state table in key order, shaped as the SQLite store's rows."""
        yield from self._table_rows(table)

    @_locked
    def _table_rows(self, table: str) -> list[tuple[Any, ...]]:
        if table == "accounts":
            return [
                (a.account, a.kind.value, _json(list(a.grid)), a.opened_seq)
                for _, a in sorted(self._accounts.items())
            ]
        if table == "keys":
            return [
                (
                    k.key_id,
                    k.public_key,
                    _json([r.value for r in k.roles]),
                    k.owner,
                    k.valid_from_seq,
                    k.revoked_at_seq,
                )
                for _, k in sorted(self._keys.items())
            ]
        if table == "balances":
            return [
                (account, asset, posted, pending)
                for (account, asset), (posted, pending) in sorted(self._balances.items())
            ]
        if table == "state":
            return [
                (namespace, key, text) for (namespace, key), text in sorted(self._records.items())
            ]
        raise StorageError(f"there is no state table named {table!r}")

    @_locked
    def opened_accounts(self) -> list[AccountRecord]:
        """Every account, in the order they were opened."""
        return list(self._accounts.values())

    @_locked
    def records(self, namespace: str) -> list[tuple[str, Any]]:
        """Every record of ``namespace`` as ``(key, value)``, in key order."""
        return [
            (key, json.loads(text))
            for (ns, key), text in sorted(self._records.items())
            if ns == namespace
        ]

    def close(self) -> None:
        """Drop the state (a scratch state is simply forgotten)."""


class MemoryStore:
    """A whole ledger in memory: log, Merkle nodes, checkpoints, state and reports.

    Args:
        read_only: Refuse every write (for handing a finished ledger to code that must
            only read it).
    """

    read_errors: tuple[type[Exception], ...] = ()
    """Nothing foreign: every failure is a ``LedgerError`` already."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.path = Path(":memory:")
        self.location = ":memory:"
        self.read_only = read_only
        self._entries: list[EntryRow] = []
        self._seqs: dict[str, int] = {}
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._checkpoints: dict[int, CheckpointRow] = {}
        self._writing = False
        self._snapshot: int | None = None
        self._lock = threading.RLock()
        self.state = MemoryState(self)

    @property
    def lock(self) -> threading.RLock:
        """The store's one re-entrant lock: held by every read and for a whole write."""
        return self._lock

    def __repr__(self) -> str:
        return f"MemoryStore(entries={len(self._entries)})"

    def close(self) -> None:
        """Nothing to release; the store stays readable until it is dropped."""

    def guard(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Nothing to translate: this store raises only ``LedgerError`` itself."""
        return contextlib.nullcontext()

    # -- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write: kept whole when the block ends normally, else undone entirely.

        Raises:
            StorageError: if the store is read-only, or a write or snapshot is open.
        """
        if self.read_only:
            raise StorageError(
                "this memory store is read-only: nothing can be appended",
                hint="Write on a store made without read_only=True.",
            )
        with self._lock:  # another thread's write or snapshot ends first
            if self._writing or self._snapshot is not None:
                raise StorageError("a memory store takes one write at a time, never inside a read")
            journal = _Journal(log_size=len(self._entries))
            self._writing = True
            self.state.journal = journal
            try:
                yield
            except BaseException:
                self._undo(journal)
                raise
            finally:
                self._writing = False
                self.state.journal = None

    def _undo(self, journal: _Journal) -> None:
        for row in self._entries[journal.log_size :]:
            self._seqs.pop(row.event_id, None)
        del self._entries[journal.log_size :]
        for node in journal.nodes:
            self._nodes.pop(node, None)
        for size in journal.checkpoints:
            self._checkpoints.pop(size, None)
        self.state.undo(journal)

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[int]:
        """One consistent read; yields the number of entries. Nests.

        Raises:
            StorageError: inside a write.
        """
        with self._lock:  # writers in other threads wait until the snapshot ends
            if self._snapshot is not None:
                yield self._snapshot
                return
            if self._writing:
                raise StorageError("a read snapshot cannot be taken inside a write")
            self._snapshot = len(self._entries)
            try:
                yield self._snapshot
            finally:
                self._snapshot = None

    def scratch_state(self) -> MemoryState:
        """A fresh, empty state whose log reads go to this store."""
        return MemoryState(self)

    def backup_to(self, dest: Path) -> None:
        """Refused: a memory store has no file to copy.

        Raises:
            StorageError: always.
        """
        raise StorageError(
            f"a memory store cannot be backed up to {dest}",
            hint="Copy the entries into a ledger file instead (Ledger.create on a path, "
            "then append each entry's event with its signatures).",
        )

    # -- the log ------------------------------------------------------------------------

    @_locked
    def entry_at(self, seq: int) -> EntryRow | None:
        """Entry ``seq``, or None."""
        if 0 <= seq < len(self._entries):
            return self._entries[seq]
        return None

    @_locked
    def head(self) -> Head | None:
        """The last entry, or None for an empty log."""
        if not self._entries:
            return None
        last = self._entries[-1]
        return Head(size=last.seq + 1, hash=last.hash, recorded_at_us=last.recorded_at_us)

    @_locked
    def find_event(self, event_id: str) -> tuple[int, bytes] | None:
        """The seq and stored bytes of the entry with ``event_id``, or None."""
        seq = self._seqs.get(event_id)
        return None if seq is None else (seq, self._entries[seq].event)

    @_locked
    def insert_entry(self, row: EntryRow) -> None:
        """Append an entry and the Merkle nodes it completes.

        Raises:
            StorageError: if the seq is not the next one or the event id is taken.
        """
        if not self._writing:
            with self.write():
                self.insert_entry(row)
            return
        journal = self.state.journal
        assert journal is not None  # set by write()
        if row.seq != len(self._entries):
            raise StorageError(f"entry {row.seq} is not the next entry ({len(self._entries)})")
        if row.event_id in self._seqs:
            raise StorageError(f"event id {row.event_id!r} is already stored")
        self._entries.append(row)
        self._seqs[row.event_id] = row.seq
        index, level = row.seq, 0
        node = leaf_hash(row.hash)
        self._nodes[level, index] = node
        journal.nodes.append((level, index))
        while index % 2 == 1:
            node = node_hash(self._nodes[level, index - 1], node)
            level += 1
            index //= 2
            self._nodes[level, index] = node
            journal.nodes.append((level, index))

    def entry_rows(self, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        """Stored entries with ``start <= seq < stop`` in seq order (copied under the lock)."""
        with self._lock:
            end = len(self._entries) if self._snapshot is None else self._snapshot
            if stop is not None:
                end = min(end, stop)
            rows = self._entries[max(start, 0) : end]
        return iter(rows)

    @_locked
    def entry_count(self) -> int:
        """How many entries are stored."""
        return len(self._entries)

    def _postings(self) -> Iterator[tuple[EntryRow, int, Posting]]:
        for row in self._entries:
            for idx, posting in enumerate(row.postings):
                yield row, idx, posting

    @_locked
    def balance_at(
        self, account: str, asset: Asset, *, at_seq: int | None, at_date: dt.date | None
    ) -> int:
        """The posted balance summed from postings up to a seq and/or business date."""
        day = None if at_date is None else at_date.isoformat()
        return sum(
            p.amount
            for row, _, p in self._postings()
            if p.account == account
            and p.asset == asset
            and (at_seq is None or row.seq <= at_seq)
            and (day is None or row.effective_at <= day)
        )

    @_locked
    def statement_rows(
        self, account: str, asset: Asset, *, start_seq: int, limit: int
    ) -> list[StatementRow]:
        """Postings of an account from ``start_seq`` on, with their entries."""
        found: list[StatementRow] = []
        for row in self._entries[max(start_seq, 0) :]:
            for p in row.postings:
                if p.account == account and p.asset == asset:
                    found.append(
                        (
                            row.seq,
                            row.event_id,
                            row.kind,
                            row.effective_at,
                            row.recorded_at_us,
                            p.amount,
                            row.event,
                        )
                    )
                    if len(found) >= limit:
                        return found
        return found

    @_locked
    def last_posting_seq(self, account: str, asset: str) -> int | None:
        """The last seq that posted to ``account`` in ``asset``, or None."""
        for row in reversed(self._entries):
            if any(p.account == account and p.asset == asset for p in row.postings):
                return row.seq
        return None

    # -- Merkle nodes and checkpoints ---------------------------------------------------

    @_locked
    def merkle_node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree (level, index).

        Raises:
            StorageError: if there is no such node.
        """
        node = self._nodes.get((level, index))
        if node is None:
            raise StorageError(f"Merkle node ({level}, {index}) is missing")
        return node

    def merkle_nodes(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The hashes of level ``level`` with ``start <= index < stop``, by index."""
        nodes = self._nodes
        return {i: nodes[level, i] for i in range(start, stop) if (level, i) in nodes}

    @_locked
    def insert_checkpoint(self, row: CheckpointRow) -> None:
        """Add a checkpoint (inside :meth:`write`).

        Raises:
            StorageError: if a checkpoint of that size is stored, or outside a write.
        """
        journal = self.state.journal
        if journal is None:
            raise StorageError("a checkpoint is stored inside a write")
        if not isinstance(row.size, int) or row.size in self._checkpoints:
            raise StorageError(f"a checkpoint of size {row.size} is already stored")
        self._checkpoints[row.size] = row
        journal.checkpoints.append(row.size)

    @_locked
    def latest_checkpoint_row(self) -> CheckpointRow | None:
        """The stored checkpoint with the largest size, or None."""
        return self._checkpoints[max(self._checkpoints)] if self._checkpoints else None

    def checkpoint_rows(self) -> Iterator[CheckpointRow]:
        """Every stored checkpoint, smallest size first (copied under the lock)."""
        with self._lock:
            rows = [self._checkpoints[size] for size in sorted(self._checkpoints)]
        return iter(rows)

    # -- integrity ----------------------------------------------------------------------

    @_locked
    def log_problems(self, checked: int) -> list[Problem]:
        """Merkle nodes beyond the log or missing; postings are kept inside entries."""
        problems = []
        beyond = [index for level, index in self._nodes if level == 0 and index >= checked]
        if beyond:
            problems.append(
                Problem(
                    "missing_entry",
                    f"a Merkle leaf exists for entry {min(beyond)}, but the log ends before it",
                    min(beyond),
                )
            )
        expected = 2 * checked - bin(checked).count("1")
        if len(self._nodes) != expected:
            problems.append(
                Problem(
                    "merkle_mismatch",
                    f"{len(self._nodes)} Merkle nodes stored, {expected} expected",
                )
            )
        return problems

    def storage_problems(self) -> list[Problem]:
        """None: there is no storage below the dictionaries to check."""
        return []

    # -- named report queries -----------------------------------------------------------

    @_locked
    def report(self, name: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of a named report query, as the SQLite store gives them.

        Raises:
            StorageError: for an unknown name or the wrong number of parameters.
        """
        if name not in REPORT_QUERIES:
            raise StorageError(f"there is no report query named {name!r}")
        query = getattr(_Reports(self), name)
        try:
            rows: list[tuple[Any, ...]] = query(*params)
        except TypeError as e:
            raise StorageError(f"could not run the report query {name!r}: {e}") from e
        return rows


def _sql(value: Any) -> Any:
    """A JSON value as SQLite's ``json_extract`` returns it (true is 1, arrays are text)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _order(value: Any) -> tuple[int, Any]:
    # NULL first, then numbers, then text: SQLite's ORDER BY.
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, value)


class _Reports:
    """The report queries of ``store.sqlite.reports``, over a memory store's lists."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.entries = store._entries
        self.state = store.state

    def _events(self, kind: str) -> Iterator[tuple[EntryRow, dict[str, Any]]]:
        for row in self.entries:
            if row.kind == kind:
                yield row, json.loads(row.event)

    def _field(self, row: EntryRow, name: str) -> Any:
        return _sql(json.loads(row.event).get(name))

    def award_lines(self) -> list[tuple[Any, ...]]:
        reversed_by: dict[int, int] = {}
        for row, event in self._events("reverse"):
            target = event.get("target_seq")
            if isinstance(target, int) and target not in reversed_by:
                reversed_by[target] = row.seq
        lines = []
        for row, event in self._events("award_points"):
            for p in row.postings:
                if p.asset == Asset.PTS and p.account == event.get("volunteer"):
                    lines.append(
                        (
                            row.seq,
                            row.event_id,
                            row.effective_at,
                            _sql(event.get("volunteer")),
                            _sql(event.get("service")),
                            _sql(event.get("quantity")),
                            _sql(event.get("grid_cell")),
                            _sql(event.get("task_ref")),
                            p.amount,
                            reversed_by.get(row.seq),
                        )
                    )
        return lines

    def points_by_service_month(self) -> list[tuple[Any, ...]]:
        groups: dict[tuple[Any, str], list[int]] = {}
        for line in self.award_lines():
            if line[9] is not None:
                continue
            totals = groups.setdefault((line[4], line[2][:7]), [0, 0, 0])
            totals[0] += 1
            totals[1] += line[5]
            totals[2] += line[8]
        return [
            (service, month, awards, quantity, points)
            for (service, month), (awards, quantity, points) in sorted(
                groups.items(), key=lambda item: (item[0][1], _order(item[0][0]))
            )
        ]

    def points_by_grid_month(self) -> list[tuple[Any, ...]]:
        groups: dict[tuple[Any, str], tuple[list[int], set[Any]]] = {}
        for line in self.award_lines():
            if line[9] is not None:
                continue
            totals, volunteers = groups.setdefault((line[6], line[2][:7]), ([0, 0], set()))
            totals[0] += 1
            totals[1] += line[8]
            volunteers.add(line[3])
        return [
            ("" if cell is None else cell, month, awards, len(volunteers), points)
            for (cell, month), ([awards, points], volunteers) in sorted(
                groups.items(), key=lambda item: (item[0][1], _order(item[0][0]))
            )
        ]

    def top_volunteers(self, period_from: str, period_to: str, limit: int) -> list[tuple[Any, ...]]:
        groups: dict[tuple[Any, Any], list[int]] = {}
        for line in self.award_lines():
            if line[9] is None and period_from <= line[2] <= period_to:
                totals = groups.setdefault((line[6], line[3]), [0, 0])
                totals[0] += line[8]
                totals[1] += 1
        cells: dict[Any, list[tuple[Any, int, int]]] = {}
        for (cell, volunteer), (points, awards) in groups.items():
            cells.setdefault(cell, []).append((volunteer, points, awards))
        rows = []
        for cell in sorted(cells, key=_order):
            ranked = sorted(cells[cell], key=lambda v: (-v[1], _order(v[0])))
            for rank, (volunteer, points, awards) in enumerate(ranked[:limit], start=1):
                rows.append((cell, rank, volunteer, points, awards))
        return rows

    def pool_flows(self, pool: str) -> list[tuple[Any, ...]]:
        account = self.state.account(pool)
        if account is None or account.kind.value != "pool":
            return []
        rows = []
        for row in self.entries:
            for p in row.postings:
                if p.account != pool or p.asset != Asset.PTS:
                    continue
                counterparty = next(
                    (q.account for q in row.postings if q.asset == p.asset and q.account != pool),
                    None,
                )
                purpose = self._field(row, "purpose")
                rows.append(
                    (
                        row.seq,
                        row.event_id,
                        row.effective_at,
                        row.kind,
                        p.amount,
                        counterparty,
                        "" if purpose is None else purpose,
                    )
                )
        return rows

    def _holds(self) -> list[tuple[str, dict[str, Any]]]:
        holds = self.state.records("hold")
        return sorted(holds, key=lambda h: _order(h[1].get("hold_seq")))

    def redemptions(self, partner: str | None) -> list[tuple[Any, ...]]:
        names = (
            "partner",
            "member",
            "offer",
            "quantity",
            "points",
            "status",
            "hold_seq",
            "closed_seq",
            "confirmed_on",
            "settled_seq",
        )
        return [
            (voucher, *(_sql(hold.get(n)) for n in names))
            for voucher, hold in self._holds()
            if partner is None or hold.get("partner") == partner
        ]

    def outstanding_holds(self) -> list[tuple[Any, ...]]:
        names = ("member", "offer", "partner", "quantity", "points", "hold_seq", "expires_at_us")
        return [
            (voucher, *(_sql(hold.get(n)) for n in names))
            for voucher, hold in self._holds()
            if hold.get("status") == "pending"
        ]

    def offers(self, partner: str | None) -> list[tuple[Any, ...]]:
        names = ("partner", "item", "price_points", "stock", "active", "listed_seq")
        offers = [
            (key, *(_sql(offer.get(n)) for n in names))
            for key, offer in self.state.records("offer")
            if partner is None or offer.get("partner") == partner
        ]
        return sorted(offers, key=lambda o: _order(o[6]))

    def settlements(self, partner: str | None) -> list[tuple[Any, ...]]:
        rows = []
        for row, event in self._events("settle_partner"):
            if partner is not None and event.get("partner") != partner:
                continue
            record = self.state.get("settlement", str(row.seq))
            vouchers = None if record is None else record.get("vouchers")
            points = [p.amount for p in row.postings if p.asset == Asset.PTS and p.amount > 0]
            fen = [p.amount for p in row.postings if p.asset == Asset.CNY and p.amount > 0]
            rows.append(
                (
                    row.seq,
                    row.effective_at,
                    *(_sql(event.get(n)) for n in ("partner", "fund", "period_from", "period_to")),
                    len(vouchers) if isinstance(vouchers, list) else None,
                    sum(points) if points else None,
                    sum(fen) if fen else None,
                )
            )
        return rows

    def entry_event(self, seq: int) -> list[tuple[Any, ...]]:
        row = self.store.entry_at(seq)
        if row is None:
            return []
        return [(row.kind, row.effective_at, row.event.decode("utf-8"))]

    def hold_entry(self, seq: int) -> list[tuple[Any, ...]]:
        row = self.store.entry_at(seq)
        if row is None or row.kind != "hold_redemption":
            return []
        event = json.loads(row.event)
        item = next(
            (
                _sql(offer.get("item"))
                for _, offer in self._events("list_offer")
                if offer.get("offer") == event.get("offer")
            ),
            None,
        )
        return [(*(_sql(event.get(n)) for n in ("member", "offer", "quantity")), item)]

    def confirms_for_partner(self, partner: str, before_seq: int) -> list[tuple[Any, ...]]:
        rows = []
        for row, event in self._events("confirm_redemption"):
            if row.seq >= before_seq:
                break
            for p in row.postings:
                if p.asset == Asset.PTS and p.amount > 0 and p.account == partner:
                    rows.append((row.seq, row.effective_at, _sql(event.get("voucher")), p.amount))
        return rows

    def settles_for_partner(self, partner: str, before_seq: int) -> list[tuple[Any, ...]]:
        return [
            (row.seq, _sql(event.get("period_from")), _sql(event.get("period_to")))
            for row, event in self._events("settle_partner")
            if event.get("partner") == partner and row.seq < before_seq
        ]

    def rate_before(self, before_seq: int) -> list[tuple[Any, ...]]:
        rates = [
            (_sql(event.get("fen_per_point")),)
            for row, event in self._events("set_settlement_rate")
            if row.seq < before_seq
        ]
        return rates[-1:]

    def entry_span(self, first: str, last: str) -> list[tuple[Any, ...]]:
        seqs = [row.seq for row in self.entries if first <= row.effective_at <= last]
        return [(min(seqs, default=None), max(seqs, default=None), len(seqs))]

    def services(self) -> list[tuple[Any, ...]]:
        names = (
            "name",
            "points_per_unit",
            "unit",
            "points_per_day_max",
            "points_per_month_max",
            "active_from",
            "active_to",
            "defined_seq",
        )
        return [
            (key, *(_sql(service.get(n)) for n in names))
            for key, service in self.state.records("service")
        ]

    def accounts(self, kind: str | None) -> list[tuple[Any, ...]]:
        # Accounts opened by one entry keep the order they were opened in (SQLite's
        # table order), hence the stable sort of the accounts in insertion order.
        rows = [
            (a.account, a.kind.value, _json(list(a.grid)), a.opened_seq)
            for a in self.state.opened_accounts()
            if kind is None or a.kind.value == kind
        ]
        return sorted(rows, key=lambda r: r[3])

    def keys(self) -> list[tuple[Any, ...]]:
        rows = [
            (k, roles, owner, valid, revoked)
            for k, _, roles, owner, valid, revoked in self.state.table_rows("keys")
        ]
        return sorted(rows, key=lambda r: (r[3], r[0]))
