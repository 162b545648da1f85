"""The state caches of an SQL store, written once for SQLite and PostgreSQL alike.

:class:`RelationalState` keeps accounts, keys, balances and domain records in the four
state tables (``STATE_TABLES``) and reads and writes them with the same statements on
every SQL database. A store's subclass supplies only its dialect and its connection:

* the placeholder style (``?`` for ``sqlite3``, ``%s`` for psycopg) and the collation
  that sorts text by bytes (SQLite's default, ``COLLATE "C"`` on PostgreSQL), both in an
  :class:`SqlDialect`;
* the error wrapper (:meth:`RelationalState.errors`) that turns the driver's exceptions
  into :class:`~points_ledger.errors.StorageError`;
* how to run a statement (``execute``, ``execute_many``) and whether a transaction is
  open.

Accounts never change once opened, so a found account is cached for the life of the
state. Keys can be revoked by another process, so they are cached only while the write
lock is held (:meth:`RelationalState.cache_keys`), and kept for the next write only when
the store can tell that nobody else wrote in between. Inside a write, domain records and
balances are read once and written once, just before the commit
(:meth:`RelationalState.begin_batch`, :meth:`RelationalState.flush`); they too may be
kept for the next write on the same condition.

This module imports no database driver: the layer test keeps ``sqlite3`` in
``store/sqlite/`` and ``psycopg`` in ``store/postgres/``.
"""

# Every statement below is a constant: only the dialect's placeholder and collation are
# formatted into the text, never a value (values are always bound parameters).
# ruff: noqa: S608

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Protocol, cast

from points_ledger.errors import IntegrityError
from points_ledger.models.common import AccountKind, Asset, Role
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
from points_ledger.store import EntryRow

__all__ = [
    "ACCOUNT_CACHE_MAX",
    "RelationalState",
    "Rows",
    "SqlDialect",
    "StateStatements",
    "asset_of",
    "json_text",
    "key_record",
]

ACCOUNT_CACHE_MAX: Final = 200_000
"""At most this many accounts (and, in a write, keys) are cached per state."""

_KEPT_BATCH_MAX: Final = 20_000
"""A write's records and balances are kept for the next one only up to this many."""


@dataclass(frozen=True)
class SqlDialect:
    """What differs between SQL databases in the state statements.

    Attributes:
        placeholder: How a bound parameter is written (``?`` or ``%s``).
        byte_order: Appended to a text column in ``ORDER BY`` so that text sorts by its
            UTF-8 bytes, as every store sorts (empty where that is the default).
    """

    placeholder: str
    byte_order: str = ""


@dataclass(frozen=True)
class StateStatements:
    """Every statement :class:`RelationalState` runs, written for one dialect."""

    select_account: str
    select_key: str
    select_keys_with_role: str
    select_balance: str
    select_record: str
    select_entry_kind: str
    select_entry_postings: str
    insert_account: str
    insert_key: str
    revoke_key: str
    upsert_record: str
    add_balance: str
    set_balance: str
    table_rows: dict[str, str]

    @classmethod
    def for_dialect(cls, dialect: SqlDialect) -> StateStatements:
        """The statements with ``dialect``'s placeholders and byte-order collation."""
        p, c = dialect.placeholder, dialect.byte_order

        def params(n: int) -> str:
            return ", ".join([p] * n)

        key_columns = "key_id, public_key, roles, owner, valid_from_seq, revoked_at_seq"
        return cls(
            select_account=(
                f"SELECT account, kind, grid, opened_seq FROM accounts WHERE account = {p}"
            ),
            select_key=f"SELECT {key_columns} FROM keys WHERE key_id = {p}",
            # Roles are a JSON array of plain names: the LIKE narrows the rows down and
            # ``_keys_with_role`` keeps those whose decoded roles hold the name.
            select_keys_with_role=(
                f"SELECT {key_columns} FROM keys "
                f"WHERE revoked_at_seq IS NULL AND roles LIKE {p} ESCAPE '!'"
            ),
            select_balance=(
                f"SELECT posted, pending FROM balances WHERE account = {p} AND asset = {p}"
            ),
            select_record=(f'SELECT value FROM state WHERE namespace = {p} AND "key" = {p}'),
            select_entry_kind=f"SELECT kind FROM entries WHERE seq = {p}",
            select_entry_postings=(
                f"SELECT account, asset, amount FROM postings WHERE seq = {p} ORDER BY idx"
            ),
            insert_account=(
                f"INSERT INTO accounts (account, kind, grid, opened_seq) VALUES ({params(4)})"
            ),
            insert_key=f"INSERT INTO keys ({key_columns}) VALUES ({params(5)}, NULL)",
            revoke_key=f"UPDATE keys SET revoked_at_seq = {p} WHERE key_id = {p}",
            upsert_record=(
                f'INSERT INTO state (namespace, "key", value) VALUES ({params(3)}) '
                'ON CONFLICT (namespace, "key") DO UPDATE SET value = excluded.value'
            ),
            add_balance=(
                f"INSERT INTO balances (account, asset, posted, pending) VALUES ({params(4)}) "
                "ON CONFLICT (account, asset) DO UPDATE SET "
                "posted = balances.posted + excluded.posted, "
                "pending = balances.pending + excluded.pending"
            ),
            set_balance=(
                f"INSERT INTO balances (account, asset, posted, pending) VALUES ({params(4)}) "
                "ON CONFLICT (account, asset) DO UPDATE SET "
                "posted = excluded.posted, pending = excluded.pending"
            ),
            table_rows={
                "accounts": "SELECT account, kind, grid, opened_seq FROM accounts "
                f"ORDER BY account{c}",
                "keys": f"SELECT {key_columns} FROM keys ORDER BY key_id{c}",
                "balances": "SELECT account, asset, posted, pending FROM balances "
                f"ORDER BY account{c}, asset{c}",
                "state": 'SELECT namespace, "key", value FROM state '
                f'ORDER BY namespace{c}, "key"{c}',
            },
        )


class Rows(Protocol):
    """What running a statement gives back (a DB-API cursor of either driver)."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """Every remaining row."""


def json_text(value: Any) -> str:
    """``value`` as the compact, key-sorted JSON every store writes for state rows.

    State rows only need to be deterministic (the audit compares the live rows with the
    replayed ones, and the conformance suite compares stores); they are never signed.

    Raises:
        IntegrityError: if ``value`` cannot be written as JSON.
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as e:
        raise IntegrityError(f"a state record cannot be stored as JSON: {e}") from e


def asset_of(value: str) -> Asset:
    """The asset a stored name stands for; an unknown name is kept as it is.

    A damaged row may hold an unknown asset name; keeping it lets the entry hash check
    report the entry instead of failing while reading it.
    """
    return _ASSETS.get(value) or cast(Asset, value)


_ASSETS: Final[dict[object, Asset]] = {asset.value: asset for asset in Asset}


def key_record(row: Sequence[Any]) -> KeyRecord:
    """A row of the ``keys`` table, columns in table order, as a :class:`KeyRecord`."""
    return KeyRecord(
        key_id=row[0],
        public_key=bytes(row[1]),
        roles=tuple(Role(r) for r in json.loads(row[2])),
        owner=row[3],
        valid_from_seq=row[4],
        revoked_at_seq=row[5],
    )


def _like_element(name: str) -> str:
    """A LIKE pattern matching JSON text that holds the string ``name``."""
    escaped = name.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f'%"{escaped}"%'


class RelationalState(ABC):
    """The state caches of one SQL connection; subclasses give the dialect and driver.

    Implements the read-only ``StateRecords`` that handlers see, applies their changes
    and streams the state tables for comparison (``StateStore``).
    """

    statements: ClassVar[StateStatements]
    """The statements in the subclass's dialect (set by :meth:`__init_subclass__`)."""

    dialect: ClassVar[SqlDialect]
    """The subclass's dialect; a concrete subclass must set it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "dialect" in cls.__dict__:
            cls.statements = StateStatements.for_dialect(cls.dialect)

    def __init__(self) -> None:
        # Found accounts only; missing ones are not cached (another process may open them).
        self._accounts: dict[str, AccountRecord] = {}
        # None when not caching keys (outside a write).
        self._keys: dict[str, KeyRecord | None] | None = None
        # The key records of the last write, put aside by ``cache_keys(False, keep=True)``.
        self._kept_keys: dict[str, KeyRecord | None] | None = None
        # Domain records and balances held in memory during a write; None outside one.
        self._batch: _Batch | None = None
        # The batch of the last write, put aside by ``end_batch(keep=True)``.
        self._kept_batch: _Batch | None = None
        # In a replay, the seq of the entry being checked: log reads see only the
        # entries before it, as ``append`` did when it wrote that entry. None: no bound.
        self.log_end: int | None = None

    # -- what a subclass supplies -------------------------------------------------------

    @abstractmethod
    def errors(self, action: str) -> AbstractContextManager[None]:
        """The store's error wrapper: its driver's errors become ``StorageError``."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement on the state's connection."""

    @abstractmethod
    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row on the state's connection."""

    def execute_on_log(self, sql: str, params: Sequence[Any]) -> Rows:
        """Run one read of the log tables (the state's own connection unless overridden)."""
        return self.execute(sql, params)

    def in_transaction(self) -> bool:
        """Whether the connection is inside a transaction (a batch lives only in one)."""
        return True

    def pending_entry(self, seq: int) -> EntryRow | None:
        """Entry ``seq`` if it is held in memory by the current write, else None."""
        del seq
        return None

    # -- caching and batching ------------------------------------------------------------

    def cache_keys(self, on: bool, *, keep: bool = False) -> None:
        """Start or stop caching key records; only while no one else can write.

        With ``keep``, stopping puts the records aside and starting takes them up again
        (else it starts empty). Only a store that has proved nobody else wrote to the
        database in between may start with ``keep``; anything else drops what was kept.
        """
        if on:
            kept, self._kept_keys = self._kept_keys, None
            self._keys = kept if keep and kept is not None else {}
        else:
            self._kept_keys = self._keys if keep else None
            self._keys = None

    def begin_batch(self, *, keep: bool = False) -> None:
        """Keep domain records and balances in memory until :meth:`flush` (or discard).

        Only inside a transaction that nobody else can write to: reads see this
        connection's own pending changes, and each record is written once per flush.
        With ``keep``, the records and balances put aside by the last
        ``end_batch(keep=True)`` are taken up again; as with :meth:`cache_keys`, only a
        store that has proved nobody else wrote to the database in between may ask so.
        """
        kept, self._kept_batch = self._kept_batch, None
        self._batch = kept if keep and kept is not None else _Batch()

    def end_batch(self, *, keep: bool = False) -> None:
        """Stop batching; anything not flushed is dropped (the transaction rolls back).

        With ``keep`` (after a commit), a batch whose every change was flushed, and which
        holds at most 20,000 records and balances, is put aside for the next
        ``begin_batch(keep=True)``.
        """
        batch = self._batch
        self._batch = None
        if (
            keep
            and batch is not None
            and not batch.dirty_records
            and not batch.dirty_balances
            and len(batch.records) + len(batch.balances) <= _KEPT_BATCH_MAX
        ):
            self._kept_batch = batch
        else:
            self._kept_batch = None

    def flush(self, *, keep: bool = False) -> None:
        """Write the batched domain records and balances (still inside the transaction).

        Afterwards the batch starts empty, or, with ``keep``, goes on holding what it
        read and wrote (now as written) for the rest of the transaction.
        """
        batch = self._batch
        if batch is None:
            return
        with self.errors("write the state"):
            if batch.dirty_records:
                self.execute_many(
                    self.statements.upsert_record,
                    [(ns, key, batch.records[ns, key]) for ns, key in batch.dirty_records],
                )
            if batch.dirty_balances:
                self.execute_many(
                    self.statements.set_balance,
                    [(a, s, *batch.balances[a, s]) for a, s in batch.dirty_balances],
                )
        if keep:
            batch.dirty_records.clear()
            batch.dirty_balances.clear()
        else:
            self._batch = _Batch()

    def _live_batch(self) -> _Batch | None:
        # A batch only describes the transaction it was made in: one left behind after
        # the transaction ended (an interrupt while it was being tidied up) is dropped.
        batch = self._batch
        if batch is not None and not self.in_transaction():
            self._batch = batch = None
        return batch

    @property
    def batched(self) -> int:
        """How many records and balances are held in memory now."""
        batch = self._batch
        return 0 if batch is None else len(batch.records) + len(batch.balances)

    def forget_cached(self) -> None:
        """Drop cached records (after a rollback, they may describe unwritten state)."""
        self._accounts.clear()
        if self._keys is not None:
            self._keys.clear()
        self._kept_keys = None
        self._kept_batch = None

    # -- StateRecords --------------------------------------------------------------------

    def account(self, account: str) -> AccountRecord | None:
        """An opened account, or None."""
        cached = self._accounts.get(account)
        if cached is not None:
            return cached
        with self.errors("read an account"):
            row = self.execute(self.statements.select_account, (account,)).fetchone()
        if row is None:
            return None
        record = AccountRecord(
            account=row[0],
            kind=AccountKind(row[1]),
            grid=tuple(json.loads(row[2])),
            opened_seq=row[3],
        )
        if len(self._accounts) < ACCOUNT_CACHE_MAX:
            self._accounts[account] = record
        return record

    def key(self, key_id: str) -> KeyRecord | None:
        """A registered key (revoked or not), or None."""
        cache = self._keys
        if cache is not None and key_id in cache:
            return cache[key_id]
        with self.errors("read a key"):
            row = self.execute(self.statements.select_key, (key_id,)).fetchone()
        record = None if row is None else key_record(row)
        if cache is not None and len(cache) < ACCOUNT_CACHE_MAX:
            cache[key_id] = record
        return record

    def count_active_keys(self, role: str) -> int:
        """How many unrevoked keys hold ``role``."""
        return len(self._keys_with_role(role))

    def active_keys(self, role: str) -> tuple[KeyRecord, ...]:
        """The unrevoked keys that hold ``role``, ordered by key id."""
        return tuple(key_record(row) for row in self._keys_with_role(role))

    def _keys_with_role(self, role: str) -> list[Any]:
        with self.errors("read the keys"):
            rows = self.execute(self.statements.select_keys_with_role, (_like_element(role),))
            found = [row for row in rows.fetchall() if role in json.loads(row[2])]
        # Python orders text by code point, which is the order of its UTF-8 bytes.
        found.sort(key=lambda row: str(row[0]))
        return found

    def balance(self, account: str, asset: Asset) -> Balance:
        """Current posted and pending balance (zero for an account that never moved)."""
        if self._live_batch() is not None:
            posted, pending = self._batched_balance(account, asset.value)
        else:
            posted, pending = self._stored_balance(account, asset.value)
        return Balance(account=account, asset=asset, posted=posted, pending=pending)

    def _stored_balance(self, account: str, asset: str) -> tuple[int, int]:
        with self.errors("read a balance"):
            row = self.execute(self.statements.select_balance, (account, asset)).fetchone()
        return (row[0], row[1]) if row is not None else (0, 0)

    def _batched_balance(self, account: str, asset: str) -> list[int]:
        assert self._batch is not None
        slot = (account, asset)
        found = self._batch.balances.get(slot)
        if found is None:
            found = self._batch.balances[slot] = list(self._stored_balance(account, asset))
        return found

    def entry_kind(self, seq: int) -> str | None:
        """The event type of entry ``seq``, or None (also for seq at or past ``log_end``)."""
        if self.log_end is not None and not 0 <= seq < self.log_end:
            return None
        pending = self.pending_entry(seq)
        if pending is not None:
            return pending.kind
        with self.errors("read an entry"):
            row = self.execute_on_log(self.statements.select_entry_kind, (seq,)).fetchone()
        return None if row is None else str(row[0])

    def entry_postings(self, seq: int) -> tuple[Posting, ...]:
        """The postings of entry ``seq`` in stored order (none at or past ``log_end``)."""
        if self.log_end is not None and not 0 <= seq < self.log_end:
            return ()
        pending = self.pending_entry(seq)
        if pending is not None:
            return pending.postings
        with self.errors("read postings"):
            rows = self.execute_on_log(self.statements.select_entry_postings, (seq,)).fetchall()
        return tuple(
            Posting.model_construct(account=a, asset=asset_of(s), amount=n) for a, s, n in rows
        )

    def get(self, namespace: str, key: str) -> Any:
        """A domain state record (JSON value, a fresh copy), or None."""
        batch = self._live_batch()
        if batch is not None and (namespace, key) in batch.records:
            text = batch.records[namespace, key]
        else:
            with self.errors("read a state record"):
                row = self.execute(self.statements.select_record, (namespace, key)).fetchone()
            text = None if row is None else str(row[0])
            if batch is not None:
                batch.records[namespace, key] = text
        return None if text is None else json.loads(text)

    # -- changes -------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], postings: Sequence[Posting]) -> None:
        """Apply a plan's state changes and postings to the caches."""
        with self.errors("update the state"):
            for change in changes:
                self._apply_change(change)
            for posting in postings:
                self._add_balance(posting.account, posting.asset, posting.amount, 0)

    def _apply_change(self, change: Change) -> None:
        sql = self.statements
        if isinstance(change, AccountOpened):
            record = change.record
            self.execute(
                sql.insert_account,
                (
                    record.account,
                    record.kind.value,
                    json_text(list(record.grid)),
                    record.opened_seq,
                ),
            )
        elif isinstance(change, KeyAdded):
            key = change.record
            self.execute(
                sql.insert_key,
                (
                    key.key_id,
                    key.public_key,
                    json_text([r.value for r in key.roles]),
                    key.owner,
                    key.valid_from_seq,
                ),
            )
            if self._keys is not None:
                self._keys.pop(key.key_id, None)
        elif isinstance(change, KeyRevoked):
            self.execute(sql.revoke_key, (change.seq, change.key_id))
            if self._keys is not None:
                self._keys.pop(change.key_id, None)
        elif isinstance(change, PendingDelta):
            self._add_balance(change.account, change.asset, 0, change.delta)
        elif isinstance(change, StatePut):
            if self._batch is not None:
                slot = (change.namespace, change.key)
                self._batch.records[slot] = json_text(change.value)
                self._batch.dirty_records[slot] = None
                return
            self.execute(sql.upsert_record, (change.namespace, change.key, json_text(change.value)))
        else:  # pragma: no cover - the Change union is closed
            raise TypeError(f"unknown state change {change!r}")

    def _add_balance(self, account: str, asset: Asset, posted: int, pending: int) -> None:
        if self._batch is not None:
            found = self._batched_balance(account, asset.value)
            found[0] += posted
            found[1] += pending
            self._batch.dirty_balances[account, asset.value] = None
            return
        self.execute(self.statements.add_balance, (account, asset.value, posted, pending))

    # -- comparing states ----------------------------------------------------------------

    def table_rows(self, table: str) -> Generator[tuple[Any, ...], None, None]:
        """Every row of a state table in key order (text sorted by its bytes)."""
        query = self.statements.table_rows[table]
        with self.errors(f"read the {table} table"):
            rows = cast(Iterable[Sequence[Any]], self.execute(query))
            for row in rows:
                yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


@dataclass
class _Batch:
    """What the current batch read or wrote: domain records and balances.

    Records are kept as their stored JSON text (None for absent); the dirty ones, and the
    dirty balances, are written by ``RelationalState.flush``.
    """

    records: dict[tuple[str, str], str | None] = field(default_factory=dict)
    dirty_records: dict[tuple[str, str], None] = field(default_factory=dict)
    balances: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    dirty_balances: dict[tuple[str, str], None] = field(default_factory=dict)
