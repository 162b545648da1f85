"""Storage as a port: the protocols every store implements, and the rows they exchange.

The ledger, the audit, the transparency log and the reports see storage only through
:class:`Store`. A store keeps the signed log (entries, their signatures and postings), the
Merkle nodes, the checkpoints and the state caches, and answers named report queries; it
never interprets an event or a policy. Two stores ship with the library:

* ``points_ledger.store.sqlite`` — one ledger in one SQLite file (the only code that
  imports ``sqlite3`` or ``sqlite_utils``);
* :mod:`points_ledger.store.memory` — plain Python, the reference store for tests.

A new store is done when it passes ``tests/conformance/`` (see
``docs/explanation/architecture.md``, "How to add a store").

This package imports nothing above :mod:`points_ledger.models` and
:mod:`points_ledger.errors`; a test keeps it so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from points_ledger.models.audit import Problem
from points_ledger.models.common import Asset
from points_ledger.models.entries import Signature
from points_ledger.models.events import Posting
from points_ledger.models.state import Change, StateRecords

__all__ = [
    "REPORT_QUERIES",
    "STATE_TABLES",
    "CheckpointRow",
    "CheckpointStore",
    "EntryRow",
    "Head",
    "IntegrityChecks",
    "LogStore",
    "MerkleNodes",
    "ReportQueries",
    "SnapshotReads",
    "StateStore",
    "StatementRow",
    "Store",
]

STATE_TABLES: Final = ("accounts", "keys", "balances", "state")
"""The state tables every store keeps and :meth:`StateStore.table_rows` streams."""

REPORT_QUERIES: Final = frozenset(
    {
        "award_lines",
        "points_by_service_month",
        "points_by_grid_month",
        "top_volunteers",
        "pool_flows",
        "redemptions",
        "offers",
        "outstanding_holds",
        "settlements",
        "entry_event",
        "entry_span",
        "hold_entry",
        "confirms_for_partner",
        "settles_for_partner",
        "rate_before",
        "services",
        "accounts",
        "keys",
    }
)
"""The named report queries every store answers (see :class:`ReportQueries`)."""


@dataclass(frozen=True)
class Head:
    """The last entry's position, hash and time: what the next append builds on."""

    size: int
    hash: bytes
    recorded_at_us: int


@dataclass(frozen=True)
class EntryRow:
    """One entry as stored, before any parsing or checking.

    A damaged store may hand back values of the wrong type in any field; readers check.
    """

    seq: int
    event_id: str
    kind: str
    effective_at: str
    recorded_at_us: int
    event: bytes
    prev_hash: bytes
    hash: bytes
    signatures: tuple[Signature, ...]
    postings: tuple[Posting, ...]


@dataclass(frozen=True)
class CheckpointRow:
    """One stored checkpoint, before any parsing or checking.

    Attributes:
        size: Tree size the checkpoint commits to.
        root: Root hash stored next to the note (must equal the note's root).
        note: The whole signed note text.
        recorded_at_us: When the ledger signed it (UTC microseconds since the epoch).
    """

    size: object
    root: object
    note: object
    recorded_at_us: object


StatementRow = tuple[int, str, str, str, int, int, bytes]
"""``(seq, event_id, kind, effective_at, recorded_at_us, amount, event_bytes)``."""


class StateStore(StateRecords, Protocol):
    """A store's state caches: the read view handlers see, and the changes they make.

    ``log_end`` bounds the log reads of the view during a replay (entries at or past it
    are not seen); None means no bound.
    """

    log_end: int | None

    def apply(self, changes: Sequence[Change], postings: Sequence[Posting]) -> None:
        """Apply a plan's state changes and postings."""

    def flush(self) -> None:
        """Write anything held in memory (still inside the current transaction)."""

    @property
    def batched(self) -> int:
        """How many records and balances are held in memory now."""

    def table_rows(self, table: str) -> Generator[tuple[Any, ...], None, None]:
        """Every row of a state table (one of :data:`STATE_TABLES`) in key order.

        Rows are ``(account, kind, grid_json, opened_seq)``, ``(key_id, public_key,
        roles_json, owner, valid_from_seq, revoked_at_seq)``, ``(account, asset, posted,
        pending)`` and ``(namespace, key, value_json)``; JSON text is compact with sorted
        keys, so two stores holding the same state give equal rows.
        """

    def close(self) -> None:
        """Release a scratch state (a live store's state is closed with the store)."""


class LogStore(Protocol):
    """The signed log: entries with their signatures and postings."""

    def head(self) -> Head | None:
        """The last entry, or None for an empty log."""

    def find_event(self, event_id: str) -> tuple[int, bytes] | None:
        """The seq and stored bytes of the entry with ``event_id``, or None."""

    def insert_entry(self, row: EntryRow) -> None:
        """Add an entry and the Merkle nodes it completes (inside :meth:`Store.write`)."""

    def entry_rows(self, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        """Stored entries with ``start <= seq < stop`` in seq order, streamed."""

    def entry_count(self) -> int:
        """How many entry rows are stored (also when seqs are damaged)."""

    def balance_at(
        self, account: str, asset: Asset, *, at_seq: int | None, at_date: dt.date | None
    ) -> int:
        """The posted balance summed from postings up to a seq and/or business date."""

    def statement_rows(
        self, account: str, asset: Asset, *, start_seq: int, limit: int
    ) -> list[StatementRow]:
        """Postings of an account from ``start_seq`` on, with their entries."""

    def last_posting_seq(self, account: str, asset: str) -> int | None:
        """The last seq that posted to ``account`` in ``asset``, or None."""


class MerkleNodes(Protocol):
    """The hashes of the complete subtrees of the log's Merkle tree."""

    def merkle_node(self, level: int, index: int) -> bytes:
        """The stored hash of the complete subtree (level, index).

        Raises:
            StorageError: if the node is missing (the store is damaged).
        """

    def merkle_nodes(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored hashes of level ``level`` with ``start <= index < stop``, by index.

        One read for a run of nodes (``verify()`` reads them a page at a time). Nodes
        that are missing, or whose hash is not bytes, are left out.

        Raises:
            StorageError: if the nodes cannot be read.
        """


class CheckpointStore(Protocol):
    """Signed tree heads kept beside the log, append-only, at most one per size."""

    def insert_checkpoint(self, row: CheckpointRow) -> None:
        """Add a checkpoint (inside :meth:`Store.write`).

        Raises:
            StorageError: if a checkpoint of that size exists or it cannot be stored.
        """

    def latest_checkpoint_row(self) -> CheckpointRow | None:
        """The stored checkpoint with the largest size, or None."""

    def checkpoint_rows(self) -> Iterator[CheckpointRow]:
        """Every stored checkpoint, smallest size first."""


class SnapshotReads(Protocol):
    """One consistent read: every read inside sees the store at one moment."""

    def read_snapshot(self) -> AbstractContextManager[int]:
        """Hold one snapshot; yields the number of entries it holds. Nests.

        Raises:
            StorageError: inside a write, or if the store cannot be read.
        """


class IntegrityChecks(Protocol):
    """The store's own findings about its storage, for the audit."""

    def log_problems(self, checked: int) -> list[Problem]:
        """Rows that belong to no entry, misnumbered rows, a wrong Merkle node count.

        ``checked`` is how many entries the replay read.
        """

    def storage_problems(self) -> list[Problem]:
        """Problems of the storage itself: its schema, bookkeeping and page checks."""


class ReportQueries(Protocol):
    """Named, read-only report queries (see :data:`REPORT_QUERIES`)."""

    def report(self, name: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of the named report query; the row shapes are in ``reports``.

        Raises:
            StorageError: for an unknown name or bad parameters.
        """


class Store(
    LogStore, MerkleNodes, CheckpointStore, SnapshotReads, IntegrityChecks, ReportQueries, Protocol
):
    """Everything the ledger needs from a store.

    ``read_errors`` are the foreign exception types a damaged store's reads may still
    raise; the audit reports them as unreadable data instead of failing. Every other
    failure is a :class:`~points_ledger.errors.StorageError`.
    """

    @property
    def state(self) -> StateStore:
        """The live state caches."""

    @property
    def location(self) -> str:
        """Where the store lives, as messages and logs show it.

        A file store gives its path, a server store its URL (any password shown as
        ``***``), the memory store ``:memory:``.
        """

    @property
    def path(self) -> Path:
        """The file a file store keeps the ledger in.

        Kept for file stores and for code written before :attr:`location`; a store that
        is not a file gives ``Path(location)``, which is not a usable path (``Path``
        turns a URL's ``//`` into ``/``). Show :attr:`location` instead.
        """

    @property
    def read_only(self) -> bool:
        """True when every write is refused."""

    @property
    def read_errors(self) -> tuple[type[Exception], ...]:
        """Foreign exception types a damaged store's reads may raise."""

    def write(self) -> AbstractContextManager[None]:
        """One write transaction: all of it is kept, or (on any exception) none of it.

        Raises:
            StorageError: if the store is read-only or the write cannot start.
        """

    def guard(self, action: str) -> AbstractContextManager[None]:
        """Turn this store's own errors raised inside into ``StorageError``.

        ``action`` says what was being done, for the message.
        """

    def scratch_state(self) -> StateStore:
        """A fresh, empty state whose log reads go to this store (for a replay)."""

    def backup_to(self, dest: Path) -> None:
        """Copy the store (inside :meth:`read_snapshot`: that snapshot) to a new file.

        Raises:
            StorageError: if ``dest`` exists, or the store cannot be copied to a file.
        """

    def close(self) -> None:
        """Release the store."""
