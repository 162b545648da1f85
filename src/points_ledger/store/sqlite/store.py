"""The SQLite store: one ledger in one file.

One ledger lives in one file, in WAL mode with ``synchronous=FULL``. Writes happen in a
transaction opened with ``BEGIN IMMEDIATE`` (sqlite-utils' ``atomic()`` issues a plain
``BEGIN``, which under contention fails with "database is locked" at the first write
instead of waiting), retried with back-off while another process holds the write lock.
Every ``sqlite3.Error`` is wrapped in a :class:`~points_ledger.errors.LedgerError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar, cast

from sqlite_utils import Database

from points_ledger.errors import (
    LedgerError,
    SchemaVersionError,
    StorageError,
    WrongThreadError,
)
from points_ledger.merkle import leaf_hash, node_hash
from points_ledger.models.audit import Problem
from points_ledger.models.common import Asset
from points_ledger.models.entries import Signature
from points_ledger.models.events import Posting
from points_ledger.store import (
    REPORT_QUERIES,
    CheckpointRow,
    EntryRow,
    Head,
    StatementRow,
)
from points_ledger.store.relational import RelationalState, SqlDialect, asset_of
from points_ledger.store.sqlite import reports as report_sql
from points_ledger.store.sqlite.schema import (
    FORMAT_2_MARK,
    FORMAT_MARK,
    MIGRATIONS,
    SCHEMA_NAMES,
    SCHEMA_QUERY,
    SchemaRow,
    create_state_tables,
    expected_schemas,
)

__all__ = ["SqliteState", "SqliteStore", "storage_errors"]

_BUSY_WAIT_S: Final = 120.0


def storage_errors(action: str) -> contextlib.AbstractContextManager[None]:
    """Turn ``sqlite3``, ``OSError`` and text-decoding errors into ``StorageError``.

    ``OSError`` covers failures of the file system itself (a full disk, a file size
    limit, an I/O error) that reach Python outside SQLite's own error reporting.
    ``MemoryError`` is left alone: it is the process, not the ledger file, that failed.
    """
    return _StorageErrors(action)


class _StorageErrors(contextlib.AbstractContextManager[None]):
    """:func:`storage_errors` as a plain object, cheaper than a generator's.

    Every state read enters one, so its cost counts in each balance and account read.
    """

    __slots__ = ("action",)

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, LedgerError):
            return
        action = self.action
        if isinstance(exc, sqlite3.ProgrammingError):
            if "same thread" in str(exc):
                raise WrongThreadError(
                    f"could not {action}: this Ledger was opened in another thread, and a "
                    "Ledger (its SQLite connection) may only be used in the thread that "
                    "opened it"
                ) from exc
            raise StorageError(f"could not {action}: {exc}") from exc
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"could not {action}: {exc}") from exc
        if isinstance(exc, OSError):
            if exc.errno == errno.ENAMETOOLONG:
                raise StorageError(
                    f"could not {action}: the file name is too long for the file system",
                    hint="Choose a shorter file name (most file systems allow 255 bytes per "
                    "name) or a folder nearer the root.",
                ) from exc
            raise StorageError(f"could not {action}: {exc}") from exc
        if isinstance(exc, UnicodeDecodeError):
            # sqlite3 decodes TEXT values, and error messages quoting a damaged schema, as
            # UTF-8: bytes that are not UTF-8 mean the file is damaged.
            raise StorageError(
                f"could not {action}: the file holds text that is not UTF-8"
            ) from exc


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` for reading only, also where nothing may be written beside it.

    ``mode=ro`` still needs the WAL index (``-shm``) of a WAL file, which SQLite cannot
    create in a read-only folder; there the file is opened ``immutable``, which is what
    read-only media are: nobody can change the file while it is read.
    """
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    conn.execute("PRAGMA cache_size = -65536")
    return conn


def _check_schema(db: Database, target: Path) -> None:
    """Refuse a file that is not a ledger, or that a newer version of the library wrote."""
    applied = {m.name for m in MIGRATIONS.applied(db)}
    if not applied:
        raise StorageError(f"{target} is not a points ledger file")
    unknown = applied - SCHEMA_NAMES
    if unknown:
        raise SchemaVersionError(
            f"{target} was written by a newer points_ledger "
            f"(unknown schema steps: {', '.join(sorted(unknown))})"
        )
    if FORMAT_MARK in applied or not db.execute("SELECT 1 FROM entries LIMIT 1").fetchone():
        return
    if FORMAT_2_MARK in applied:
        raise SchemaVersionError(
            f"{target} is a format 2 ledger: it was written before the committee had to agree "
            "to new points, money from outside, the service catalogue, the settlement rate "
            "and treasurer keys, so its history does not replay under this version's rules; "
            "this version reads format 3 only",
            hint="Keep the file as it is (the earlier version still verifies it) and start a "
            "new ledger with this version; carry balances over as opening entries signed "
            "by the admins and the committee.",
        )
    raise SchemaVersionError(
        f"{target} is a format 1 ledger: its signatures bind only the origin name, so a "
        "signature made for another ledger of that name could be replayed on it; this "
        "version reads format 3 only",
        hint="Keep the file as it is (points_ledger 0.1 still verifies it) and start a "
        "new ledger with this version; carry balances over as opening entries signed "
        "by the admins and the committee.",
    )


def _writable_here(path: Path) -> bool:
    """Whether the file and its folder (for the WAL files) can be written."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _create_exclusively(target: Path) -> None:
    """Make the new, empty ledger file, never through a symbolic link or over a file.

    SQLite would follow a (dangling) link and create the file wherever it points; a file
    made here with ``O_CREAT | O_EXCL | O_NOFOLLOW`` is the one SQLite then opens.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o666)
    except FileExistsError as e:
        what = "a symbolic link" if os.path.islink(target) else "a file"
        raise StorageError(
            f"{target} already exists (as {what}); a new ledger never replaces or follows one",
            hint="Open the existing ledger instead (--ledger PATH, or Ledger.open in "
            "Python), or choose a new path.",
        ) from e
    except OSError as e:
        raise StorageError(f"cannot create ledger file {target}: {e.strerror}") from e
    os.close(fd)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=_BUSY_WAIT_S, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 120000")
    # synchronous is a per-connection setting: every connection must ask for FULL.
    conn.execute("PRAGMA synchronous = FULL")
    # A 64 MiB page cache keeps the upper levels of every index in memory on large files.
    conn.execute("PRAGMA cache_size = -65536")
    return conn


class SqliteState(RelationalState):
    """The state caches (accounts, keys, balances, domain records) on a connection.

    The shared :class:`~points_ledger.store.relational.RelationalState` with ``?``
    placeholders and :func:`storage_errors`. Log reads (``entry_kind``,
    ``entry_postings``) go to ``log_conn``, which is the same connection for a ledger
    file and the file under audit for a scratch replay, and see first the rows the
    current write holds in memory (``pending_log``).
    """

    dialect = SqlDialect(placeholder="?")

    def __init__(self, conn: sqlite3.Connection, log_conn: sqlite3.Connection) -> None:
        super().__init__()
        self.conn = conn
        self.log_conn = log_conn
        # The log rows of the current write transaction, not yet written (set by
        # ``SqliteStore.write``); None outside one and in a scratch replay.
        self.pending_log: _LogBatch | None = None

    @classmethod
    def scratch(cls, log_conn: sqlite3.Connection) -> SqliteState:
        """A fresh, empty state in a temporary database (spills to disk when large)."""
        conn = sqlite3.connect("", isolation_level=None)
        create_state_tables(Database(conn))
        conn.execute("BEGIN")
        state = cls(conn, log_conn)
        state.cache_keys(True)
        state.begin_batch()
        return state

    def errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        """:func:`storage_errors`: ``sqlite3`` and file errors become ``StorageError``."""
        return storage_errors(action)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement on the state's connection."""
        return self.conn.execute(sql, params)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row on the state's connection."""
        self.conn.executemany(sql, rows)

    def execute_on_log(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        """Run one read of the log tables on ``log_conn``."""
        return self.log_conn.execute(sql, params)

    def in_transaction(self) -> bool:
        """Whether the state's connection is inside a transaction."""
        return self.conn.in_transaction

    def pending_entry(self, seq: int) -> EntryRow | None:
        """Entry ``seq`` if the current write holds it in memory, else None."""
        pending = self.pending_log
        return None if pending is None else pending.rows.get(seq)

    def close(self) -> None:
        """Discard a scratch state (rolls back and closes its connection)."""
        if self.conn is not self.log_conn:
            self.conn.close()


@dataclass
class _LogBatch:
    """Log rows appended in the current write transaction, written together at its end.

    Reads inside the transaction (an event id, a Merkle node, the kind or postings of an
    entry) look here first; any other read of the log tables writes the rows out first.
    """

    rows: dict[int, EntryRow] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # event id -> seq
    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def write(self, conn: sqlite3.Connection) -> None:
        """Insert the held rows on ``conn`` (entries first, for the foreign keys)."""
        rows = self.rows.values()
        conn.executemany(
            "INSERT INTO entries (seq, event_id, kind, effective_at, recorded_at_us, "
            "event, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.seq,
                    r.event_id,
                    r.kind,
                    r.effective_at,
                    r.recorded_at_us,
                    r.event,
                    r.prev_hash,
                    r.hash,
                )
                for r in rows
            ],
        )
        conn.executemany(
            "INSERT INTO signatures (seq, idx, key_id, signature) VALUES (?, ?, ?, ?)",
            [(r.seq, i, s.key_id, s.signature) for r in rows for i, s in enumerate(r.signatures)],
        )
        conn.executemany(
            "INSERT INTO postings (seq, idx, account, asset, amount) VALUES (?, ?, ?, ?, ?)",
            [
                (r.seq, i, p.account, p.asset.value, p.amount)
                for r in rows
                for i, p in enumerate(r.postings)
            ],
        )
        conn.executemany(
            "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(level, index, node) for (level, index), node in self.nodes.items()],
        )


_READ_ONLY_ACTIONS: Final = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _read_only_authorizer(action: int, *_args: str | None) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY


_NOT_CACHED: Final = object()
_OPTIONAL_FILTER: Final = frozenset({"redemptions", "offers", "settlements", "accounts"})


def _describe_rows(rows: Sequence[tuple[Any, Any]]) -> str:
    return ", ".join(f"{a!r}/{b!r}" for a, b in rows) or "nothing"


class SqliteStore:
    """A ledger file: log tables, Merkle nodes and state caches behind one connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.location = str(path)
        self.read_only = read_only
        self.db = Database(conn)
        self.state = SqliteState(conn, conn)
        self._writing = False
        self._head: Head | object | None = _NOT_CACHED
        # The head after this connection's last commit, and the (``data_version``,
        # ``schema_version``, ``total_changes``) it holds for; None: nothing kept.
        self._kept_head: Head | object | None = _NOT_CACHED
        self._kept_since: tuple[int, int, int] | None = None
        # The last Merkle node made on each level (level -> (index, hash)) in the current
        # write, and as the last committed write left it; kept like the head.
        self._frontier: dict[int, tuple[int, bytes]] = {}
        self._kept_frontier: dict[int, tuple[int, bytes]] = {}
        self._log: _LogBatch | None = None
        self._snapshot: int | None = None  # size seen by the open read snapshot, if any

    @classmethod
    def create(cls, path: str | Path) -> SqliteStore:
        """Create a new, empty ledger file.

        Raises:
            StorageError: if the file already exists or cannot be created.
        """
        target = Path(path)
        _create_exclusively(target)
        with storage_errors(f"create ledger file {target}"):
            conn = _connect(target)
            conn.execute("PRAGMA journal_mode = WAL")
            MIGRATIONS.apply(Database(conn))
        return cls(conn, target)

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> SqliteStore:
        """Open an existing ledger file, applying any pending migrations.

        A file that cannot be written where it lies (read-only media or folder, no write
        permission) is opened read-only, as it is with ``read_only=True``: everything can
        be read and checked, and every write is refused with a ``StorageError``.

        Raises:
            StorageError: if the file is missing or not a points ledger, or is opened
                read-only and needs a schema upgrade first.
            SchemaVersionError: if a newer version of the library wrote the file.
        """
        target = Path(path)
        with storage_errors(f"open ledger file {target}"):
            found = target.is_file()  # may itself fail, e.g. on a name that is too long
        if not found:
            raise StorageError(f"there is no ledger file at {target}")
        read_only = read_only or not _writable_here(target)
        with storage_errors(f"open ledger file {target}" + (" read-only" if read_only else "")):
            conn = _connect_read_only(target) if read_only else _connect(target)
            try:
                # Only read until the file is known to be a ledger: switching a stranger's
                # database (or an empty file) to WAL would change it.
                db = Database(conn)
                _check_schema(db, target)
                if read_only:
                    if MIGRATIONS.pending(db):
                        raise StorageError(
                            f"{target} was written by an older points_ledger and needs an "
                            "upgrade, which cannot be done read-only",
                            hint="Open a writable copy of the file once; it is upgraded then.",
                        )
                else:
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute("PRAGMA synchronous = FULL")
                    if MIGRATIONS.pending(db):
                        MIGRATIONS.apply(db)
            except BaseException:
                conn.close()
                raise
        return cls(conn, target, read_only=read_only)

    @staticmethod
    def is_ledger_file(path: str | Path) -> bool:
        """True if ``path`` is an SQLite file that a points ledger wrote (read-only check)."""
        target = Path(path)
        try:
            if not target.is_file():
                return False
        except OSError:
            return False
        try:
            conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
            try:
                return bool(MIGRATIONS.applied(Database(conn)))
            finally:
                conn.close()
        except sqlite3.Error:
            return False

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    read_errors: tuple[type[Exception], ...] = (sqlite3.Error, UnicodeDecodeError)
    """What a damaged file's reads may raise besides ``StorageError``."""

    def guard(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Turn ``sqlite3`` and file system errors inside into ``StorageError``."""
        return storage_errors(action)

    def scratch_state(self) -> SqliteState:
        """A fresh state in a temporary database; its log reads go to this file."""
        return SqliteState.scratch(self.conn)

    def entry_count(self) -> int:
        """How many entry rows the file holds."""
        self.flush_log()
        with storage_errors("read the entries table"):
            return int(self.conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    def last_posting_seq(self, account: str, asset: str) -> int | None:
        """The last seq that posted to ``account`` in ``asset``, or None."""
        self.flush_log()
        with storage_errors("read the postings table"):
            value = self.conn.execute(
                "SELECT max(seq) FROM postings WHERE account = ? AND asset = ?", (account, asset)
            ).fetchone()[0]
        return value if isinstance(value, int) else None

    # -- checkpoints (append-only; the primary key is the tree size) ----------------------

    def insert_checkpoint(self, row: CheckpointRow) -> None:
        """Insert a checkpoint; call inside :meth:`write`.

        Raises:
            StorageError: if SQLite refuses the row (e.g. a checkpoint of that size exists).
        """
        with storage_errors("store a checkpoint"):
            self.conn.execute(
                "INSERT INTO checkpoints (size, root, note, recorded_at_us) VALUES (?, ?, ?, ?)",
                (row.size, row.root, row.note, row.recorded_at_us),
            )

    def latest_checkpoint_row(self) -> CheckpointRow | None:
        """The stored checkpoint with the largest size, or None.

        Raises:
            StorageError: if the table cannot be read.
        """
        with storage_errors("read the latest checkpoint"):
            row = self.conn.execute(
                "SELECT size, root, note, recorded_at_us FROM checkpoints "
                "ORDER BY size DESC LIMIT 1"
            ).fetchone()
        return None if row is None else CheckpointRow(*row)

    def checkpoint_rows(self) -> Iterator[CheckpointRow]:
        """Every stored checkpoint, smallest size first, streamed.

        Raises:
            StorageError: if the table cannot be read.
        """
        with storage_errors("read checkpoints"):
            cursor = self.conn.execute(
                "SELECT size, root, note, recorded_at_us FROM checkpoints ORDER BY size"
            )
            for row in cursor:
                yield CheckpointRow(*row)

    # -- reports ----------------------------------------------------------------------

    def report(self, name: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of a named report query (its SQL is in ``store.sqlite.reports``).

        Raises:
            StorageError: for an unknown name, or if the query fails.
        """
        if name not in REPORT_QUERIES:
            raise StorageError(f"there is no report query named {name!r}")
        sql: str = getattr(report_sql, name.upper())
        if name in _OPTIONAL_FILTER:
            # ``(? IS NULL OR column = ?)``: the one filter value is bound twice.
            params = (*params, *params)
        return self.read_query(sql, params)

    # -- the file's own integrity -----------------------------------------------------

    def log_problems(self, checked: int) -> list[Problem]:
        """Misnumbered or orphan signature and posting rows, and extra Merkle nodes."""
        self.flush_log()
        problems: list[Problem] = []
        add = problems.append
        for table in ("postings", "signatures"):
            try:
                misnumbered = self.first_misnumbered(table)
            except LedgerError as e:
                add(Problem("unreadable", str(e)))
                misnumbered = None
            if misnumbered is not None:
                add(
                    Problem(
                        "index_mismatch",
                        f"the {table} of this entry are not numbered 0 to n-1",
                        misnumbered if isinstance(misnumbered, int) else None,
                    )
                )
            try:
                row = self.conn.execute(
                    f"SELECT min(seq) FROM {table} WHERE seq >= ? OR seq < 0",  # noqa: S608
                    (checked,),
                ).fetchone()
            except sqlite3.Error as e:
                add(Problem("unreadable", f"the {table} table cannot be read: {e}"))
                continue
            if row[0] is not None:
                # A damaged row may hold a seq of another storage class (STRICT only
                # holds on write): report it without a seq rather than fail converting it.
                seq = row[0] if isinstance(row[0], int) else None
                add(Problem("orphan_rows", f"{table} rows belong to no entry", seq))
        try:
            expected = 2 * checked - bin(checked).count("1")
            count = self.conn.execute("SELECT count(*) FROM merkle_nodes").fetchone()[0]
            # A leaf past the last entry is the trace of an entry removed from the end:
            # name that seq, so a deleted last entry is reported where it was.
            beyond = self.conn.execute(
                "SELECT min(idx) FROM merkle_nodes WHERE level = 0 AND idx >= ?", (checked,)
            ).fetchone()[0]
        except sqlite3.Error as e:
            add(Problem("unreadable", f"the merkle_nodes table cannot be read: {e}"))
            return problems
        if beyond is not None:
            add(
                Problem(
                    "missing_entry",
                    f"a Merkle leaf exists for entry {beyond}, but the log ends before it",
                    int(beyond),
                )
            )
        if count != expected:
            add(Problem("merkle_mismatch", f"{count} Merkle nodes stored, {expected} expected"))
        return problems

    def storage_problems(self) -> list[Problem]:
        """Schema and bookkeeping differences, then ``PRAGMA integrity_check`` findings."""
        problems = self._schema_problems()
        try:
            problems += [Problem("sqlite_integrity", m) for m in self.integrity_check()]
        except LedgerError as e:
            problems.append(Problem("sqlite_integrity", str(e)))
        return problems

    def _schema_problems(self) -> list[Problem]:
        try:
            actual = self.schema_rows()
        except LedgerError as e:
            return [Problem("schema_mismatch", f"the schema cannot be read: {e}")]
        # A file has one of the layouts, whole: compare with the nearer one.
        expected = min(expected_schemas(), key=lambda schema: len(actual ^ schema))
        problems = self._migration_problems()
        for kind, name, _table, _sql in sorted(actual - expected, key=repr):
            problems.append(
                Problem("schema_mismatch", f"{kind} {name!r} is not the one this version creates")
            )
        present = {(kind, name) for kind, name, _, _ in actual}
        for kind, name, _table, _sql in sorted(expected - actual, key=repr):
            if (kind, name) not in present:
                problems.append(Problem("schema_mismatch", f"{kind} {name!r} is missing"))
        return problems

    def _migration_problems(self) -> list[Problem]:
        # The bookkeeping of applied schema steps decides what ``open`` migrates: each
        # known step once, under this library's name, and nothing else.
        try:
            rows = self.migration_rows()
        except LedgerError as e:
            return [Problem("schema_mismatch", f"the schema bookkeeping cannot be read: {e}")]
        expected = sorted((MIGRATIONS.name, name) for name in SCHEMA_NAMES)
        if sorted(rows, key=repr) != sorted(expected, key=repr):
            return [
                Problem(
                    "schema_mismatch",
                    f"the schema bookkeeping lists {_describe_rows(rows)}; "
                    f"this version expects {_describe_rows(expected)}",
                )
            ]
        return []

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction (``BEGIN IMMEDIATE``); commits on success, else rolls back.

        Waits, with jittered back-off, while another process holds the write lock, so
        that "database is locked" does not reach the caller under normal contention.
        """
        if self.read_only:
            raise StorageError(
                f"{self.path} is open read-only (it, or its folder, cannot be written "
                "here): nothing can be appended",
                hint="Write on the office's own copy of the ledger, not on this one.",
            )
        deadline = time.monotonic() + _BUSY_WAIT_S
        delay = 0.001
        if self.conn.in_transaction and not self._writing:
            # Left open by a write that an interrupt stopped before its rollback.
            with storage_errors("roll back an interrupted write"):
                self.conn.execute("ROLLBACK")
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise StorageError(f"could not start a write: {e}") from e
                if time.monotonic() > deadline:
                    raise StorageError(
                        "the ledger file stayed locked by another writer for too long",
                        hint="Check for a stuck process holding the file, then try again.",
                    ) from e
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.1)
        committed, version = False, (-1, -1)
        try:
            # While the write lock is held nobody else changes the file: the head, the
            # keys, state records and balances may be kept in memory, and the log rows
            # held until the end. Those of the last write are taken up again when nothing
            # has changed the file since it committed.
            with storage_errors("write to the ledger"):
                version = self._data_version()
            unchanged = self._kept_since == (*version, self.conn.total_changes)
            self._kept_since = None  # taken up (or dropped) now; set again at the end
            self.state.cache_keys(True, keep=unchanged)
            self._head = self._kept_head if unchanged else _NOT_CACHED
            self._frontier = self._kept_frontier if unchanged else {}
            self._kept_frontier = {}
            self.state.begin_batch(keep=unchanged)
            self._log = self.state.pending_log = _LogBatch()
            self._writing = True
            with storage_errors("write to the ledger"):
                yield
                self.flush_log()
                self.state.flush(keep=True)
                self.conn.execute("COMMIT")
            committed = True
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            # Held rows and records, and accounts cached inside the failed transaction,
            # describe nothing that was written. (Should an interrupt stop this tidying
            # up, held rows and records are still never used outside a transaction.)
            self._log = self.state.pending_log = None
            self.state.end_batch()
            self.state.forget_cached()
            raise
        finally:
            self._log = self.state.pending_log = None
            self._writing = False
            # What this connection's own commit leaves: ``data_version`` moves only when
            # another connection commits, ``total_changes`` when this one changes rows
            # outside a write (by hand, say), and ``schema_version`` when anyone changes
            # the schema: on this connection a table replaced by ``ALTER TABLE … RENAME``
            # and ``CREATE TABLE … AS SELECT`` (or emptied by dropping and creating it
            # again) moves neither of the others. Any one moving drops what is kept.
            self._kept_since = (*version, self.conn.total_changes) if committed else None
            self._kept_head = self._head if committed else _NOT_CACHED
            self._kept_frontier = self._frontier if committed else {}
            self._head = _NOT_CACHED
            self._frontier = {}
            self.state.end_batch(keep=committed)
            self.state.cache_keys(False, keep=committed)

    def _data_version(self) -> tuple[int, int]:
        # ``data_version`` changes whenever another connection (in this process or any
        # other) has committed to the file since this connection last looked;
        # ``schema_version`` whenever any connection, this one included, changed the schema.
        # (Two PRAGMA statements cost less than one SELECT of both, about 4 µs against 7.)
        conn = self.conn
        data = conn.execute("PRAGMA data_version").fetchone()[0]
        schema = conn.execute("PRAGMA schema_version").fetchone()[0]
        return int(data), int(schema)

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[int]:
        """Hold one read transaction: every read inside sees the file at one moment.

        In WAL mode the snapshot is taken at the first read after ``BEGIN`` and kept until
        the end, while other processes go on appending (their entries are simply not
        seen). A check that runs many queries needs this: otherwise each query sees a
        different moment and a healthy file looks damaged. Yields the number of entries
        (``max(seq) + 1``) the snapshot holds. Nested use reuses the outer snapshot.

        Raises:
            StorageError: inside a write transaction, or if the file cannot be read.
        """
        if self._snapshot is not None:
            yield self._snapshot
            return
        if self._writing:
            raise StorageError("a read snapshot cannot be taken inside a write")
        with storage_errors("start reading the ledger"):
            if self.conn.in_transaction:
                # Left open by a write or a check that an interrupt stopped.
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN")
            try:
                row = self.conn.execute("SELECT max(seq), count(*) FROM entries").fetchone()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        # A damaged seq of another storage class is reported by the replay; the count
        # then bounds it instead.
        size = row[0] + 1 if isinstance(row[0], int) else int(row[1])
        self._snapshot = size
        try:
            yield size
        finally:
            self._snapshot = None
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")

    def backup_to(self, dest: Path) -> None:
        """Copy the file to ``dest`` with SQLite's online backup API, then sync it.

        Inside :meth:`read_snapshot` the copy is exactly that snapshot, whatever other
        processes append meanwhile. ``dest`` must not exist; it is created here, never
        overwritten, and removed again if the copy fails.

        Raises:
            StorageError: if ``dest`` exists or the copy cannot be written.
        """
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as e:
            raise StorageError(
                f"{dest} already exists; a file is never overwritten",
                hint="Choose a new file name for the backup (e.g. with today's date).",
            ) from e
        except OSError as e:
            raise StorageError(f"could not create the backup file {dest}: {e}") from e
        os.close(fd)
        try:
            with storage_errors(f"copy the ledger to {dest}"):
                target = sqlite3.connect(str(dest), isolation_level=None)
                try:
                    self.conn.backup(target)
                    # One self-contained file to hand over: no -wal or -shm beside it,
                    # also after the copy is opened read-only to verify it. Opening it
                    # to write switches it back to WAL.
                    target.execute("PRAGMA journal_mode = DELETE")
                finally:
                    target.close()
                fd = os.open(dest, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{dest}{suffix}")
            raise

    def flush_log(self) -> None:
        """Write the log rows held by the current write transaction (still inside it).

        Rows are only ever written inside that transaction: held rows found outside one
        (the transaction ended without clearing them, e.g. on an interrupt) are dropped.
        """
        pending = self._log
        if pending is None or not pending.rows:
            return
        if not (self._writing and self.conn.in_transaction):
            self._log = self.state.pending_log = None
            return
        pending.write(self.conn)
        self._log = self.state.pending_log = _LogBatch()

    def head(self) -> Head | None:
        """The last entry, or None for an empty file."""
        if self._head is not _NOT_CACHED:
            return cast("Head | None", self._head)
        self.flush_log()
        with storage_errors("read the ledger head"):
            row = self.conn.execute(
                "SELECT seq, hash, recorded_at_us FROM entries ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        head = None if row is None else Head(size=row[0] + 1, hash=row[1], recorded_at_us=row[2])
        if self._writing:
            self._head = head
        return head

    def find_event(self, event_id: str) -> tuple[int, bytes] | None:
        """The seq and stored bytes of the entry with ``event_id``, or None."""
        pending = self._log
        if pending is not None and event_id in pending.seqs:
            seq = pending.seqs[event_id]
            return seq, pending.rows[seq].event
        with storage_errors("look up an event id"):
            row = self.conn.execute(
                "SELECT seq, event FROM entries WHERE event_id = ?", (event_id,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def insert_entry(self, row: EntryRow) -> None:
        """Add an entry with its signatures, postings and the Merkle nodes it completes.

        Inside :meth:`write` the rows are held and inserted together when the transaction
        ends (one statement per table for a whole batch); reads made in the meantime see
        them.
        """
        pending = self._log
        if pending is None:
            with self.write():
                self.insert_entry(row)
            return
        pending.rows[row.seq] = row
        pending.seqs[row.event_id] = row.seq
        frontier = self._frontier
        index = row.seq
        node = leaf_hash(row.hash)
        level = 0
        while True:
            pending.nodes[level, index] = node
            # The left sibling is the last node made on its level, usually by an earlier
            # append of this connection; else it is read.
            made = frontier.get(level)
            frontier[level] = index, node
            if index % 2 == 0:
                break
            left = made[1] if made is not None and made[0] == index - 1 else None
            node = node_hash(self.merkle_node(level, index - 1) if left is None else left, node)
            level += 1
            index //= 2
        self._head = Head(size=row.seq + 1, hash=row.hash, recorded_at_us=row.recorded_at_us)

    def merkle_node(self, level: int, index: int) -> bytes:
        """The stored hash of the complete subtree (level, index).

        Raises:
            StorageError: if the node is missing (the file is damaged).
        """
        if self._log is not None and (level, index) in self._log.nodes:
            return self._log.nodes[level, index]
        with storage_errors("read a Merkle node"):
            row = self.conn.execute(
                "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, index)
            ).fetchone()
        if row is None or not isinstance(row[0], bytes):
            raise StorageError(f"Merkle node ({level}, {index}) is missing; the file is damaged")
        return row[0]

    def merkle_nodes(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored hashes of level ``level`` with ``start <= index < stop``, by index.

        Nodes held in the current write transaction are included; a missing node, or one
        whose hash is not bytes (a damaged file), is left out.

        Raises:
            StorageError: if the nodes cannot be read.
        """
        with storage_errors("read Merkle nodes"):
            rows = self.conn.execute(
                "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? AND idx < ?",
                (level, start, stop),
            ).fetchall()
        found = {i: h for i, h in rows if isinstance(i, int) and isinstance(h, bytes)}
        if self._log is not None:
            found.update(
                (i, h)
                for (lv, i), h in self._log.nodes.items()
                if lv == level and start <= i < stop
            )
        return found

    def entry_rows(self, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        """Stored entries with ``start <= seq < stop`` in seq order, streamed in pages."""
        self.flush_log()
        position = start
        page = 500
        while stop is None or position < stop:
            limit = page if stop is None else min(page, stop - position)
            with storage_errors("read entries"):
                rows = self.conn.execute(
                    "SELECT seq, event_id, kind, effective_at, recorded_at_us, event, "
                    "prev_hash, hash FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?",
                    (position, limit),
                ).fetchall()
                if not rows:
                    return
                first, last = rows[0][0], rows[-1][0]
                signatures = self._signatures_between(first, last)
                postings = self._postings_between(first, last)
            none: tuple[Any, ...] = ()
            for r in rows:
                yield EntryRow(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    tuple(signatures.get(r[0], none)),
                    tuple(postings.get(r[0], none)),
                )
            position = rows[-1][0] + 1

    def _signatures_between(self, first: int, last: int) -> dict[int, list[Signature]]:
        result: dict[int, list[Signature]] = {}
        for seq, key_id, signature in self.conn.execute(
            "SELECT seq, key_id, signature FROM signatures WHERE seq BETWEEN ? AND ? "
            "ORDER BY seq, idx",
            (first, last),
        ):
            # Unvalidated on purpose: damaged rows must reach the hash check, not fail here.
            result.setdefault(seq, []).append(
                _unvalidated(Signature, {"key_id": key_id, "signature": signature})
            )
        return result

    def _postings_between(self, first: int, last: int) -> dict[int, list[Posting]]:
        result: dict[int, list[Posting]] = {}
        for seq, account, asset, amount in self.conn.execute(
            "SELECT seq, account, asset, amount FROM postings WHERE seq BETWEEN ? AND ? "
            "ORDER BY seq, idx",
            (first, last),
        ):
            result.setdefault(seq, []).append(
                _unvalidated(
                    Posting, {"account": account, "asset": asset_of(asset), "amount": amount}
                )
            )
        return result

    def balance_at(
        self, account: str, asset: Asset, *, at_seq: int | None, at_date: dt.date | None
    ) -> int:
        """The posted balance summed from postings up to a seq and/or business date."""
        self.flush_log()
        sql = (
            "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN entries e ON e.seq = p.seq "
            "WHERE p.account = ? AND p.asset = ?"
        )
        params: list[Any] = [account, asset.value]
        if at_seq is not None:
            sql += " AND p.seq <= ?"
            params.append(at_seq)
        if at_date is not None:
            sql += " AND e.effective_at <= ?"
            params.append(at_date.isoformat())
        with storage_errors("read a balance"):
            return int(self.conn.execute(sql, params).fetchone()[0])

    def statement_rows(
        self, account: str, asset: Asset, *, start_seq: int, limit: int
    ) -> list[StatementRow]:
        """Postings of an account from ``start_seq`` on, joined with their entries."""
        self.flush_log()
        with storage_errors("read a statement"):
            return self.conn.execute(
                "SELECT p.seq, e.event_id, e.kind, e.effective_at, e.recorded_at_us, "
                "p.amount, e.event FROM postings p JOIN entries e ON e.seq = p.seq "
                "WHERE p.account = ? AND p.asset = ? AND p.seq >= ? ORDER BY p.seq, p.idx "
                "LIMIT ?",
                (account, asset.value, start_seq, limit),
            ).fetchall()

    def read_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only SQL query (a fixed query text with ``?`` parameters).

        Meant for reports: the query may read tables and views but an authorizer refuses
        anything that would write, attach or change settings, so a report can never alter
        the ledger. User input must go in ``params``, never into ``sql``.

        Raises:
            StorageError: if the query is refused or fails.
        """
        if not isinstance(sql, str) or isinstance(params, str | bytes):
            raise StorageError("a report query is SQL text with a sequence of parameters")
        self.flush_log()
        self.conn.set_authorizer(_read_only_authorizer)
        try:
            with storage_errors("run a report query"):
                try:
                    return self.conn.execute(sql, tuple(params)).fetchall()
                except (TypeError, ValueError, OverflowError) as e:
                    # Parameters sqlite3 cannot bind, NUL in the text, ints beyond 64 bits.
                    raise StorageError(f"could not run a report query: {e}") from e
        finally:
            self.conn.set_authorizer(None)

    def migration_rows(self) -> list[tuple[Any, Any]]:
        """The schema bookkeeping rows: ``(migration_set, name)`` for each applied step."""
        with storage_errors("read the schema bookkeeping"):
            return [
                (row[0], row[1])
                for row in self.conn.execute(
                    "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
                )
            ]

    def first_misnumbered(self, table: str) -> int | None:
        """The first seq whose ``signatures`` or ``postings`` rows are misnumbered, or None.

        Each entry's rows must be numbered ``0 … n-1`` by ``idx``: their order is part of
        the entry hash.
        """
        self.flush_log()
        query = {
            "signatures": "SELECT seq FROM signatures GROUP BY seq "
            "HAVING min(idx) IS NOT 0 OR max(idx) IS NOT count(*) - 1 ORDER BY seq LIMIT 1",
            "postings": "SELECT seq FROM postings GROUP BY seq "
            "HAVING min(idx) IS NOT 0 OR max(idx) IS NOT count(*) - 1 ORDER BY seq LIMIT 1",
        }[table]
        with storage_errors(f"read the {table} table"):
            row = self.conn.execute(query).fetchone()
        return None if row is None else row[0]

    def schema_rows(self) -> frozenset[SchemaRow]:
        """The file's ``sqlite_master`` rows (SQL text as bytes), to compare with the expected."""
        with storage_errors("read the schema"):
            return frozenset(self.conn.execute(SCHEMA_QUERY).fetchall())

    def integrity_check(self) -> list[str]:
        """Problems ``PRAGMA integrity_check`` reports (empty when the file is sound)."""
        with storage_errors("check the file's integrity"):
            rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        messages = [str(r[0]) for r in rows]
        return [] if messages == ["ok"] else messages


_ModelT = TypeVar("_ModelT", Signature, Posting)


def _unvalidated(cls: type[_ModelT], values: dict[str, Any]) -> _ModelT:
    """A row read from the log as ``cls``, unvalidated: what ``cls.model_construct`` builds.

    Every field is given (the columns of one row), so this sets the instance's state
    directly, at a third of ``model_construct``'s cost; a damaged value stays as it was
    read, for the checks that report it.
    """
    model = object.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model
