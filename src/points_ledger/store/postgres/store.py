"""The PostgreSQL store: one ledger in one schema of a database many offices share.

Writes run in a ``READ COMMITTED`` transaction that first takes a transaction-level
advisory lock on the ledger (``pg_advisory_xact_lock``): one writer per ledger at a time,
on any number of hosts, and every statement after the lock sees everything the writer
before committed. So the next seq, the idempotency check and the balance checks read the
latest state, and the primary and unique keys stay a second line of defence against gaps
and forks. Checks read one ``REPEATABLE READ, READ ONLY`` snapshot. Every
``psycopg.Error`` is wrapped in a :class:`~points_ledger.errors.StorageError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import psycopg
from psycopg import sql

from points_ledger.errors import (
    LedgerError,
    SchemaVersionError,
    StorageError,
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
from points_ledger.store.memory import MemoryState
from points_ledger.store.postgres import reports as report_sql
from points_ledger.store.postgres.schema import (
    APPEND_ONLY_TABLES,
    SCHEMA_STEPS,
    TRIGGER_FUNCTION,
    create_statements,
    expected_triggers,
    refuse_body,
)
from points_ledger.store.relational import RelationalState, SqlDialect, asset_of

__all__ = [
    "DEFAULT_SCHEMA",
    "LedgerUrl",
    "PostgresState",
    "PostgresStore",
    "storage_errors",
]

DEFAULT_SCHEMA: Final = "points_ledger"
"""The schema a URL without ``?schema=`` names."""

_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_LOCK_CLASS: Final = 0x504C  # "PL": the high half of every ledger's advisory lock key
_LOCK_WAIT_S: Final = 120
_URL_SCHEMES: Final = ("postgresql", "postgres")


@dataclass(frozen=True)
class LedgerUrl:
    """A ledger's place on a PostgreSQL server: connection URL and schema.

    Attributes:
        conninfo: The libpq connection URL, without the ``schema`` parameter.
        schema: The schema holding the ledger (``[a-z_][a-z0-9_]*``, at most 63 bytes).
    """

    conninfo: str = field(repr=False)
    schema: str

    @classmethod
    def parse(cls, url: str, schema: str | None = None) -> LedgerUrl:
        """Split ``postgresql://…/db?schema=office1`` into connection URL and schema.

        ``schema`` (an argument) wins over the URL's; without either the schema is
        :data:`DEFAULT_SCHEMA`. Every other URL parameter goes to libpq unchanged.

        Raises:
            StorageError: if the URL is not a PostgreSQL URL or the schema name is not a
                plain lower-case identifier.
        """
        if not isinstance(url, str) or url.split("://", 1)[0].lower() not in _URL_SCHEMES:
            raise StorageError(f"{url!r} is not a postgresql:// URL")
        base, _, query_text = url.partition("?")
        query = parse_qsl(query_text, keep_blank_values=True)
        named = [value for key, value in query if key == "schema"]
        rest = [(key, value) for key, value in query if key != "schema"]
        chosen = schema if schema is not None else (named[-1] if named else DEFAULT_SCHEMA)
        if not _SCHEMA_NAME.fullmatch(chosen):
            raise StorageError(
                f"{chosen!r} cannot name a ledger's schema",
                hint="Use lower-case letters, digits and _ (not first a digit), at most 63, "
                "e.g. ?schema=office_zhiqiang.",
            )
        conninfo = f"{base}?{urlencode(rest, safe='/')}" if rest else base
        return cls(conninfo=conninfo, schema=chosen)

    def display(self) -> str:
        """The URL as it may be shown or logged: any password replaced by ``***``."""
        base, _, query_text = self.conninfo.partition("?")
        scheme, _, rest = base.partition("://")
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            user, _, host = authority.rpartition("@")
            if ":" in user:
                user = user.split(":", 1)[0] + ":***"
            authority = f"{user}@{host}"
        query = [
            (k, "***" if k == "password" else v)
            for k, v in parse_qsl(query_text, keep_blank_values=True)
        ]
        query.append(("schema", self.schema))
        # "*" left as it is, so a hidden password reads "***", not "%2A%2A%2A".
        return f"{scheme}://{authority}{slash}{path}?{urlencode(query, safe='/*')}"


@contextlib.contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn ``psycopg`` errors and undecodable text into ``StorageError``."""
    try:
        yield
    except LedgerError:
        raise
    except psycopg.errors.RestrictViolation as e:
        # The append-only triggers: someone tried to edit or delete a log row.
        raise StorageError(
            f"could not {action}: {e.diag.message_primary or e}",
            hint="Entries are never edited or deleted; append a reversal entry instead.",
        ) from e
    except psycopg.Error as e:
        message = (e.diag.message_primary if e.diag else None) or str(e) or type(e).__name__
        raise StorageError(
            f"could not {action}: {message}",
            hint="Check that the database server is running and reachable, and that this "
            "role may use the ledger's schema.",
        ) from e
    except UnicodeDecodeError as e:
        raise StorageError(f"could not {action}: the database holds text that is not UTF-8") from e


_MISNUMBERED: Final = {
    table: f"SELECT seq FROM {table} GROUP BY seq HAVING min(idx) <> 0 "  # noqa: S608
    "OR max(idx) <> count(*) - 1 ORDER BY seq LIMIT 1"
    for table in ("postings", "signatures")
}
_ORPHANS: Final = {
    table: f"SELECT min(seq) FROM {table} WHERE seq >= %s OR seq < 0"  # noqa: S608
    for table in ("postings", "signatures")
}


class PostgresState(RelationalState):
    """The state caches (accounts, keys, balances, domain records) of a ledger schema.

    The shared :class:`~points_ledger.store.relational.RelationalState` with ``%s``
    placeholders, byte-order sorting (``COLLATE "C"``, as SQLite sorts) and
    :func:`storage_errors`. Reads and writes go through the store's connection, so
    inside a write they see the transaction's own changes.
    """

    dialect = SqlDialect(placeholder="%s", byte_order=' COLLATE "C"')

    def __init__(self, store: PostgresStore) -> None:
        super().__init__()
        self._store = store

    def errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        """:func:`storage_errors`: ``psycopg`` errors become ``StorageError``."""
        return storage_errors(action)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement on the store's connection."""
        return self._store.conn.execute(sql, params)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row on the store's connection."""
        with self._store.conn.cursor() as cur:
            cur.executemany(sql, rows)

    def in_transaction(self) -> bool:
        """Whether the store's connection is inside a transaction."""
        return self._store._in_transaction()

    def close(self) -> None:
        """Nothing to release: the live state is closed with its store."""


class PostgresStore:
    """A ledger in one schema of a PostgreSQL database, behind one connection.

    Make one with :meth:`create` or :meth:`open` (or through ``Ledger.create`` and
    ``Ledger.open`` with a ``postgresql://…?schema=…`` URL). Like a SQLite ledger, one
    store object is used by one thread at a time; many processes and hosts may each
    open their own on the same ledger.
    """

    read_errors: tuple[type[Exception], ...] = (psycopg.Error, UnicodeDecodeError)
    """What a damaged database's reads may raise besides ``StorageError``."""

    def __init__(
        self, conn: psycopg.Connection[Any], url: LedgerUrl, *, read_only: bool = False
    ) -> None:
        self.conn = conn
        self.url = url
        self.location = url.display()
        # Not a usable path (Path turns the URL's "//" into "/"): show ``location``.
        self.path = Path(self.location)
        self.read_only = read_only
        self.state = PostgresState(self)
        self._writing = False
        self._head: Head | None = None
        self._head_known = False
        self._snapshot: int | None = None
        # Held by an audit's in-memory replay state (a MemoryState) while it reads or
        # changes itself; this store itself is used by one thread at a time.
        self._replay_lock = threading.RLock()
        # Merkle nodes written in the current write, read back by the next entries.
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._lock_key = self._ledger_lock_key()

    @property
    def lock(self) -> threading.RLock:
        """The lock an in-memory replay state of this ledger holds (see ``scratch_state``)."""
        return self._replay_lock

    def __repr__(self) -> str:
        return f"PostgresStore({self.url.display()!r})"

    # -- opening ------------------------------------------------------------------------

    @staticmethod
    def _connect(url: LedgerUrl) -> psycopg.Connection[Any]:
        with storage_errors(f"connect to {url.display()}"):
            conn = psycopg.connect(url.conninfo, autocommit=True)
            try:
                conn.execute(
                    "SELECT set_config('search_path', %s, false)", (url.schema,)
                ).fetchone()
            except BaseException:
                conn.close()
                raise
        return conn

    @classmethod
    def create(cls, url: str, *, schema: str | None = None) -> PostgresStore:
        """Make a new, empty ledger: its schema, tables, triggers and views.

        Raises:
            StorageError: if the server cannot be reached, or the schema exists already
                (a new ledger never takes over one).
        """
        where = LedgerUrl.parse(url, schema)
        conn = cls._connect(where)
        try:
            with storage_errors(f"create the ledger schema {where.schema}"):
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (where.schema,)
                ).fetchone()
                if exists:
                    raise StorageError(
                        f"the schema {where.schema} already exists in {where.display()}; "
                        "a new ledger never takes over a schema",
                        hint="Open the existing ledger instead, or choose a new ?schema= name.",
                    )
                with conn.transaction():
                    for statement in create_statements(where.schema):
                        conn.execute(sql.SQL(statement))
        except BaseException:
            conn.close()
            raise
        return cls(conn, where)

    @classmethod
    def open(cls, url: str, *, schema: str | None = None, read_only: bool = False) -> PostgresStore:
        """Open an existing ledger schema.

        Raises:
            StorageError: if the server cannot be reached or the schema holds no ledger.
            SchemaVersionError: if a newer version of the library made the schema.
        """
        where = LedgerUrl.parse(url, schema)
        conn = cls._connect(where)
        try:
            with storage_errors(f"open the ledger in {where.display()}"):
                found = conn.execute(
                    "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'schema_steps'",
                    (where.schema,),
                ).fetchone()
                if not found:
                    raise StorageError(f"there is no ledger in {where.display()}")
                steps = {r[0] for r in conn.execute("SELECT name FROM schema_steps")}
            unknown = steps - set(SCHEMA_STEPS)
            if unknown:
                raise SchemaVersionError(
                    f"the ledger in {where.display()} was made by a newer points_ledger "
                    f"(unknown schema steps: {', '.join(sorted(unknown))})"
                )
        except BaseException:
            conn.close()
            raise
        return cls(conn, where, read_only=read_only)

    def discard_if_empty(self) -> None:
        """Drop the ledger's schema if it holds no entry (a create whose genesis failed)."""
        with contextlib.suppress(LedgerError, psycopg.Error), storage_errors("drop"):
            if self._in_transaction():
                self.conn.execute("ROLLBACK")
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                if self.conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None:
                    self.conn.execute(
                        sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.url.schema))
                    )

    def _ledger_lock_key(self) -> int:
        with storage_errors("read the ledger's schema"):
            row = self.conn.execute(
                "SELECT oid::bigint FROM pg_namespace WHERE nspname = %s", (self.url.schema,)
            ).fetchone()
        if row is None:
            raise StorageError(f"there is no ledger in {self.url.display()}")
        return (_LOCK_CLASS << 32) | int(row[0])

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def guard(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Turn ``psycopg`` errors inside into ``StorageError``."""
        return storage_errors(action)

    def scratch_state(self) -> MemoryState:
        """A fresh state in memory whose log reads go to this ledger (for a replay)."""
        return MemoryState(self)

    # -- transactions -------------------------------------------------------------------

    def _in_transaction(self) -> bool:
        return self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction holding the ledger's advisory lock; all of it or none.

        Raises:
            StorageError: if the store is read-only, a write or snapshot is open, or the
                transaction cannot start or commit.
        """
        if self.read_only:
            raise StorageError(
                f"{self.url.display()} is open read-only: nothing can be appended",
                hint="Open the ledger without read_only to write to it.",
            )
        if self._writing or self._snapshot is not None:
            raise StorageError("a write cannot start inside another write or a read snapshot")
        with storage_errors("start a write"):
            if self._in_transaction():
                # Left open by a write that an interrupt stopped before its rollback.
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                # As on SQLite: wait up to two minutes for the writer before, then give up.
                self.conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)", (f"{_LOCK_WAIT_S}s",)
                )
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            except psycopg.errors.LockNotAvailable as e:
                self.conn.execute("ROLLBACK")
                raise StorageError(
                    "the ledger stayed locked by another writer for too long",
                    hint="Check for a stuck program holding a write on this ledger "
                    "(pg_stat_activity), then try again.",
                ) from e
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        try:
            self._writing = True
            self._nodes = {}
            self.state.cache_keys(True)
            self.state.begin_batch()
            with storage_errors("write to the ledger"):
                yield
                self.state.flush()
                self.conn.execute("COMMIT")
        except BaseException:
            if self._in_transaction():
                with contextlib.suppress(psycopg.Error):
                    self.conn.execute("ROLLBACK")
            self.state.forget_cached()
            raise
        finally:
            self._writing = False
            self._head_known = False
            self._nodes = {}
            self.state.end_batch()
            self.state.cache_keys(False)

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[int]:
        """Hold one ``REPEATABLE READ, READ ONLY`` transaction; yields its entry count.

        Every read inside sees the ledger at one moment while other processes go on
        appending. Nested use reuses the outer snapshot.

        Raises:
            StorageError: inside a write, or if the database cannot be read.
        """
        if self._snapshot is not None:
            yield self._snapshot
            return
        if self._writing:
            raise StorageError("a read snapshot cannot be taken inside a write")
        with storage_errors("start reading the ledger"):
            if self._in_transaction():
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                row = self.conn.execute("SELECT max(seq), count(*) FROM entries").fetchone()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        assert row is not None
        size = row[0] + 1 if row[0] is not None else int(row[1])
        self._snapshot = size
        try:
            yield size
        finally:
            self._snapshot = None
            if self._in_transaction():
                with contextlib.suppress(psycopg.Error):
                    self.conn.execute("ROLLBACK")

    def backup_to(self, dest: Path) -> None:
        """Refused: back a PostgreSQL ledger up with the server's own tools.

        Raises:
            StorageError: always; the hint names ``pg_dump`` and ``points-ledger copy``.
        """
        raise StorageError(
            f"a ledger on PostgreSQL is not copied to a file by backup ({dest})",
            hint="Use pg_dump or the server's continuous archiving (see "
            "docs/howto/run-on-postgresql.md), or 'points-ledger copy' to write a SQLite "
            "file of the ledger.",
        )

    # -- the log ------------------------------------------------------------------------

    def head(self) -> Head | None:
        """The last entry, or None for an empty log."""
        if self._head_known:
            return self._head
        with storage_errors("read the ledger head"):
            row = self.conn.execute(
                "SELECT seq, hash, recorded_at_us FROM entries ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        head = (
            None
            if row is None
            else Head(size=row[0] + 1, hash=bytes(row[1]), recorded_at_us=row[2])
        )
        if self._writing:
            self._head, self._head_known = head, True
        return head

    def find_event(self, event_id: str) -> tuple[int, bytes] | None:
        """The seq and stored bytes of the entry with ``event_id``, or None."""
        with storage_errors("look up an event id"):
            row = self.conn.execute(
                "SELECT seq, event FROM entries WHERE event_id = %s", (event_id,)
            ).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def insert_entry(self, row: EntryRow) -> None:
        """Add an entry with its signatures, postings and the Merkle nodes it completes."""
        if not self._writing:
            with self.write():
                self.insert_entry(row)
            return
        nodes = []
        index, level = row.seq, 0
        node = leaf_hash(row.hash)
        nodes.append((level, index, node))
        while index % 2 == 1:
            node = node_hash(self.merkle_node(level, index - 1), node)
            level += 1
            index //= 2
            nodes.append((level, index, node))
        with storage_errors(f"store entry {row.seq}"), self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO entries (seq, event_id, kind, effective_at, recorded_at_us, "
                "event, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    row.seq,
                    row.event_id,
                    row.kind,
                    row.effective_at,
                    row.recorded_at_us,
                    row.event,
                    row.prev_hash,
                    row.hash,
                ),
            )
            if row.signatures:
                cur.executemany(
                    "INSERT INTO signatures (seq, idx, key_id, signature) VALUES (%s, %s, %s, %s)",
                    [(row.seq, i, s.key_id, s.signature) for i, s in enumerate(row.signatures)],
                )
            if row.postings:
                cur.executemany(
                    "INSERT INTO postings (seq, idx, account, asset, amount) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [
                        (row.seq, i, p.account, p.asset.value, p.amount)
                        for i, p in enumerate(row.postings)
                    ],
                )
            cur.executemany(
                "INSERT INTO merkle_nodes (level, idx, hash) VALUES (%s, %s, %s)", nodes
            )
        self._nodes.update(((level, index), node) for level, index, node in nodes)
        self._head = Head(size=row.seq + 1, hash=row.hash, recorded_at_us=row.recorded_at_us)
        self._head_known = True

    def merkle_node(self, level: int, index: int) -> bytes:
        """The stored hash of the complete subtree (level, index).

        Raises:
            StorageError: if the node is missing (the ledger is damaged).
        """
        held = self._nodes.get((level, index))
        if held is not None:
            return held
        with storage_errors("read a Merkle node"):
            row = self.conn.execute(
                "SELECT hash FROM merkle_nodes WHERE level = %s AND idx = %s", (level, index)
            ).fetchone()
        if row is None:
            raise StorageError(f"Merkle node ({level}, {index}) is missing; the ledger is damaged")
        return bytes(row[0])

    def merkle_nodes(self, level: int, start: int, stop: int) -> dict[int, bytes]:
        """The stored hashes of level ``level`` with ``start <= index < stop``, by index.

        Nodes held in the current write transaction are included.

        Raises:
            StorageError: if the nodes cannot be read.
        """
        with storage_errors("read Merkle nodes"):
            rows = self.conn.execute(
                "SELECT idx, hash FROM merkle_nodes WHERE level = %s AND idx >= %s AND idx < %s",
                (level, start, stop),
            ).fetchall()
        found = {int(i): bytes(h) for i, h in rows if h is not None}
        found.update(
            (i, h) for (lv, i), h in self._nodes.items() if lv == level and start <= i < stop
        )
        return found

    def entry_at(self, seq: int) -> EntryRow | None:
        """Entry ``seq`` as stored, or None."""
        return next(iter(self.entry_rows(seq, seq + 1)), None) if seq >= 0 else None

    def postings_of(self, seq: int) -> tuple[Posting, ...]:
        """The postings of entry ``seq`` in stored order."""
        with storage_errors("read postings"):
            rows = self.conn.execute(
                "SELECT account, asset, amount FROM postings WHERE seq = %s ORDER BY idx", (seq,)
            ).fetchall()
        return tuple(
            Posting.model_construct(account=a, asset=asset_of(s), amount=n) for a, s, n in rows
        )

    def entry_rows(self, start: int = 0, stop: int | None = None) -> Iterator[EntryRow]:
        """Stored entries with ``start <= seq < stop`` in seq order, streamed in pages."""
        position = start
        page = 500
        while stop is None or position < stop:
            limit = page if stop is None else min(page, stop - position)
            with storage_errors("read entries"):
                rows = self.conn.execute(
                    "SELECT seq, event_id, kind, effective_at, recorded_at_us, event, "
                    "prev_hash, hash FROM entries WHERE seq >= %s ORDER BY seq LIMIT %s",
                    (position, limit),
                ).fetchall()
                if not rows:
                    return
                first, last = rows[0][0], rows[-1][0]
                signatures: dict[int, list[Signature]] = {}
                for seq, key_id, signature in self.conn.execute(
                    "SELECT seq, key_id, signature FROM signatures WHERE seq BETWEEN %s AND %s "
                    "ORDER BY seq, idx",
                    (first, last),
                ):
                    signatures.setdefault(seq, []).append(
                        Signature.model_construct(key_id=key_id, signature=bytes(signature))
                    )
                postings: dict[int, list[Posting]] = {}
                for seq, account, asset, amount in self.conn.execute(
                    "SELECT seq, account, asset, amount FROM postings "
                    "WHERE seq BETWEEN %s AND %s ORDER BY seq, idx",
                    (first, last),
                ):
                    postings.setdefault(seq, []).append(
                        Posting.model_construct(
                            account=account, asset=asset_of(asset), amount=amount
                        )
                    )
            for r in rows:
                yield EntryRow(
                    seq=r[0],
                    event_id=r[1],
                    kind=r[2],
                    effective_at=r[3],
                    recorded_at_us=r[4],
                    event=bytes(r[5]),
                    prev_hash=bytes(r[6]),
                    hash=bytes(r[7]),
                    signatures=tuple(signatures.get(r[0], ())),
                    postings=tuple(postings.get(r[0], ())),
                )
            position = rows[-1][0] + 1

    def entry_count(self) -> int:
        """How many entry rows are stored."""
        with storage_errors("read the entries table"):
            row = self.conn.execute("SELECT count(*) FROM entries").fetchone()
        return int(row[0]) if row else 0

    def balance_at(
        self, account: str, asset: Asset, *, at_seq: int | None, at_date: dt.date | None
    ) -> int:
        """The posted balance summed from postings up to a seq and/or business date."""
        query = (
            "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN entries e ON e.seq = p.seq "
            "WHERE p.account = %s AND p.asset = %s"
        )
        params: list[Any] = [account, asset.value]
        if at_seq is not None:
            query += " AND p.seq <= %s"
            params.append(at_seq)
        if at_date is not None:
            query += " AND e.effective_at <= %s"
            params.append(at_date.isoformat())
        with storage_errors("read a balance"):
            row = self.conn.execute(sql.SQL(query), params).fetchone()
        return int(row[0]) if row else 0

    def statement_rows(
        self, account: str, asset: Asset, *, start_seq: int, limit: int
    ) -> list[StatementRow]:
        """Postings of an account from ``start_seq`` on, joined with their entries."""
        with storage_errors("read a statement"):
            rows = self.conn.execute(
                "SELECT p.seq, e.event_id, e.kind, e.effective_at, e.recorded_at_us, "
                "p.amount, e.event FROM postings p JOIN entries e ON e.seq = p.seq "
                "WHERE p.account = %s AND p.asset = %s AND p.seq >= %s ORDER BY p.seq, p.idx "
                "LIMIT %s",
                (account, asset.value, start_seq, limit),
            ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6])) for r in rows]

    def last_posting_seq(self, account: str, asset: str) -> int | None:
        """The last seq that posted to ``account`` in ``asset``, or None."""
        with storage_errors("read the postings table"):
            row = self.conn.execute(
                "SELECT max(seq) FROM postings WHERE account = %s AND asset = %s",
                (account, asset),
            ).fetchone()
        return row[0] if row and isinstance(row[0], int) else None

    # -- checkpoints --------------------------------------------------------------------

    def insert_checkpoint(self, row: CheckpointRow) -> None:
        """Insert a checkpoint; call inside :meth:`write`.

        Raises:
            StorageError: if a checkpoint of that size exists or the row is refused.
        """
        with storage_errors("store a checkpoint"):
            self.conn.execute(
                "INSERT INTO checkpoints (size, root, note, recorded_at_us) "
                "VALUES (%s, %s, %s, %s)",
                (row.size, row.root, row.note, row.recorded_at_us),
            )

    def latest_checkpoint_row(self) -> CheckpointRow | None:
        """The stored checkpoint with the largest size, or None."""
        with storage_errors("read the latest checkpoint"):
            row = self.conn.execute(
                "SELECT size, root, note, recorded_at_us FROM checkpoints "
                "ORDER BY size DESC LIMIT 1"
            ).fetchone()
        return None if row is None else CheckpointRow(row[0], bytes(row[1]), row[2], row[3])

    def checkpoint_rows(self) -> Iterator[CheckpointRow]:
        """Every stored checkpoint, smallest size first."""
        with storage_errors("read checkpoints"):
            rows = self.conn.execute(
                "SELECT size, root, note, recorded_at_us FROM checkpoints ORDER BY size"
            ).fetchall()
        for row in rows:
            yield CheckpointRow(row[0], bytes(row[1]), row[2], row[3])

    # -- reports ------------------------------------------------------------------------

    def report(self, name: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of a named report query (its SQL is in ``store.postgres.reports``).

        Raises:
            StorageError: for an unknown name or bad parameters, or if the query fails.
        """
        if name not in REPORT_QUERIES:
            raise StorageError(f"there is no report query named {name!r}")
        if isinstance(params, str | bytes):
            raise StorageError("report parameters are a sequence of values")
        values = tuple(params)
        if name in report_sql.TWICE:
            values = (*values, *values)
        query = report_sql.QUERIES[name]
        with storage_errors(f"run the report query {name!r}"):
            try:
                rows = self.conn.execute(sql.SQL(query), values).fetchall()
            except (TypeError, ValueError, OverflowError, psycopg.ProgrammingError) as e:
                if self._in_transaction() and not (self._writing or self._snapshot):
                    self.conn.execute("ROLLBACK")
                raise StorageError(f"could not run the report query {name!r}: {e}") from e
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]

    # -- the ledger's own integrity -----------------------------------------------------

    def log_problems(self, checked: int) -> list[Problem]:
        """Misnumbered or orphan signature and posting rows, and extra Merkle nodes."""
        problems: list[Problem] = []
        add = problems.append
        try:
            with storage_errors("read the log tables"):
                for table in ("postings", "signatures"):
                    row = self.conn.execute(_MISNUMBERED[table]).fetchone()
                    if row is not None:
                        add(
                            Problem(
                                "index_mismatch",
                                f"the {table} of this entry are not numbered 0 to n-1",
                                row[0],
                            )
                        )
                    row = self.conn.execute(_ORPHANS[table], (checked,)).fetchone()
                    if row is not None and row[0] is not None:
                        add(Problem("orphan_rows", f"{table} rows belong to no entry", row[0]))
                count_row = self.conn.execute("SELECT count(*) FROM merkle_nodes").fetchone()
                beyond_row = self.conn.execute(
                    "SELECT min(idx) FROM merkle_nodes WHERE level = 0 AND idx >= %s", (checked,)
                ).fetchone()
        except LedgerError as e:
            add(Problem("unreadable", str(e)))
            return problems
        expected = 2 * checked - bin(checked).count("1")
        count = int(count_row[0]) if count_row else 0
        beyond = beyond_row[0] if beyond_row else None
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
        """Schema steps, and the append-only triggers: present, enabled and unchanged.

        A superuser can disable or replace a trigger; the change is reported here (rows
        edited meanwhile are found by the replay, which checks every hash).
        """
        problems: list[Problem] = []
        try:
            with storage_errors("read the schema"):
                steps = sorted(r[0] for r in self.conn.execute("SELECT name FROM schema_steps"))
                triggers = {
                    (str(t), str(n)): str(e)
                    for t, n, e in self.conn.execute(
                        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
                        "JOIN pg_class c ON c.oid = t.tgrelid "
                        "WHERE c.relnamespace = %s::regnamespace AND NOT t.tgisinternal",
                        (self.url.schema,),
                    )
                }
                body = self.conn.execute(
                    "SELECT prosrc FROM pg_proc WHERE proname = %s "
                    "AND pronamespace = %s::regnamespace",
                    (TRIGGER_FUNCTION, self.url.schema),
                ).fetchall()
        except LedgerError as e:
            return [Problem("schema_mismatch", f"the schema cannot be read: {e}")]
        if steps != sorted(SCHEMA_STEPS):
            problems.append(
                Problem(
                    "schema_mismatch",
                    f"the schema steps list {', '.join(steps) or 'nothing'}; this version "
                    f"expects {', '.join(SCHEMA_STEPS)}",
                )
            )
        for table, name in sorted(expected_triggers()):
            state = triggers.pop((table, name), None)
            if state is None:
                problems.append(
                    Problem("schema_mismatch", f"trigger {name!r} on {table} is missing")
                )
            elif state not in ("O", "A"):
                problems.append(
                    Problem(
                        "schema_mismatch",
                        f"trigger {name!r} on {table} is disabled: {table} can be edited",
                    )
                )
        for table, name in sorted(triggers):
            if table in APPEND_ONLY_TABLES:
                problems.append(
                    Problem(
                        "schema_mismatch",
                        f"trigger {name!r} on {table} is not one this version creates",
                    )
                )
        if [r[0] for r in body] != [refuse_body()]:
            problems.append(
                Problem(
                    "schema_mismatch",
                    f"the trigger function {TRIGGER_FUNCTION} is not the one this version creates",
                )
            )
        return problems
