"""The SQLite schema, built with sqlite-utils and evolved with ``sqlite_utils.Migrations``.

Log tables (``entries``, ``signatures``, ``postings``, ``merkle_nodes``, and
``checkpoints`` since ``m002``) are append-only:
``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers make the file itself refuse edits, even
from a plain ``sqlite3`` shell. State tables (``accounts``, ``keys``, ``balances``,
``state``) are caches that ``verify()`` rebuilds from the log and compares.

Every table is STRICT, with explicit primary keys and integer amounts, so ``sqlite-utils``
and Datasette can browse a ledger file directly.

The five tables keyed by two columns (``signatures``, ``postings``, ``merkle_nodes``,
``balances``, ``state``) are ``WITHOUT ROWID`` in files created by this version: their rows
live in the primary-key B-tree itself instead of a rowid B-tree plus a key index, so an
append writes fewer pages. Files created before keep ordinary rowid tables and open,
append and verify as they always did: the schema check accepts either layout, whole
(:func:`expected_schemas`), never a mix of the two.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from typing import Final

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from points_ledger.store.sqlite.reports import VIEWS

__all__ = [
    "APPEND_ONLY_TABLES",
    "CHECKPOINT_TABLE",
    "FORMAT_2_MARK",
    "FORMAT_MARK",
    "LOG_TABLES",
    "MIGRATIONS",
    "ROWID_FREE_TABLES",
    "SCHEMA_NAMES",
    "SCHEMA_QUERY",
    "STATE_TABLES",
    "create_state_tables",
    "expected_schema",
    "expected_schemas",
    "protect_log_table",
]

LOG_TABLES: Final = ("entries", "signatures", "postings", "merkle_nodes")
STATE_TABLES: Final = ("accounts", "keys", "balances", "state")
CHECKPOINT_TABLE: Final = "checkpoints"
"""Signed checkpoints (append-only, one per tree size), added by ``m003_checkpoints``."""

ROWID_FREE_TABLES: Final = ("signatures", "postings", "merkle_nodes", "balances", "state")
"""Tables created ``WITHOUT ROWID`` in new files (their primary key has two columns)."""

MIGRATIONS = Migrations("points_ledger")
_older_layout = threading.local()  # .rowid_tables: rebuilding older files' schema, this thread


def _create(db: Database, name: str, columns: dict[str, type], **options: object) -> None:
    """Create a STRICT table, ``WITHOUT ROWID`` when it is one of :data:`ROWID_FREE_TABLES`."""
    if name not in ROWID_FREE_TABLES or getattr(_older_layout, "rowid_tables", False):
        db[name].create(columns, strict=True, **options)  # type: ignore[union-attr,arg-type]
        return
    sql = db.create_table_sql(name, columns, strict=True, **options)  # type: ignore[arg-type]
    body = sql.strip().removesuffix(";")
    if not body.endswith(") STRICT"):
        raise AssertionError(f"unexpected CREATE TABLE text for {name}: {body!r}")
    db.execute(body + ", WITHOUT ROWID")


def protect_log_table(db: Database, table: str) -> None:
    """Add triggers that make UPDATE and DELETE on ``table`` fail."""
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
            f"BEFORE {action} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'points_ledger: {table} is append-only; "
            f"corrections are new entries'); END"
        )


def create_state_tables(db: Database) -> None:
    """Create the state cache tables (used by the ledger file and by verify's replay)."""
    db["accounts"].create(  # type: ignore[union-attr]
        {"account": str, "kind": str, "grid": str, "opened_seq": int},
        pk="account",
        not_null={"kind", "grid", "opened_seq"},
        strict=True,
    )
    db["keys"].create(  # type: ignore[union-attr]
        {
            "key_id": str,
            "public_key": bytes,
            "roles": str,
            "owner": str,
            "valid_from_seq": int,
            "revoked_at_seq": int,
        },
        pk="key_id",
        not_null={"public_key", "roles", "valid_from_seq"},
        strict=True,
    )
    _create(
        db,
        "balances",
        {"account": str, "asset": str, "posted": int, "pending": int},
        pk=("account", "asset"),
        not_null={"posted", "pending"},
    )
    _create(
        db,
        "state",
        {"namespace": str, "key": str, "value": str},
        pk=("namespace", "key"),
        not_null={"value"},
    )


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    """Create the log tables, their triggers and indexes, and the state tables."""
    db["entries"].create(  # type: ignore[union-attr]
        {
            "seq": int,
            "event_id": str,
            "kind": str,
            "effective_at": str,
            "recorded_at_us": int,
            "event": bytes,
            "prev_hash": bytes,
            "hash": bytes,
        },
        pk="seq",
        not_null={
            "event_id",
            "kind",
            "effective_at",
            "recorded_at_us",
            "event",
            "prev_hash",
            "hash",
        },
        strict=True,
    )
    db["entries"].create_index(["event_id"], unique=True)  # type: ignore[union-attr]
    db["entries"].create_index(["effective_at"])  # type: ignore[union-attr]
    _create(
        db,
        "signatures",
        {"seq": int, "idx": int, "key_id": str, "signature": bytes},
        pk=("seq", "idx"),
        not_null={"key_id", "signature"},
        foreign_keys=[("seq", "entries", "seq")],
    )
    _create(
        db,
        "postings",
        {"seq": int, "idx": int, "account": str, "asset": str, "amount": int},
        pk=("seq", "idx"),
        not_null={"account", "asset", "amount"},
        foreign_keys=[("seq", "entries", "seq")],
    )
    db["postings"].create_index(["account", "asset", "seq"])  # type: ignore[union-attr]
    _create(
        db,
        "merkle_nodes",
        {"level": int, "idx": int, "hash": bytes},
        pk=("level", "idx"),
        not_null={"hash"},
    )
    for table in LOG_TABLES:
        protect_log_table(db, table)
    create_state_tables(db)


@MIGRATIONS()
def m002_community_views(db: Database) -> None:
    """Create the read-only report views over the log and the state (see ``reports_sql``)."""
    for name, select in VIEWS.items():
        db.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {select}")  # constants only


@MIGRATIONS()
def m003_checkpoints(db: Database) -> None:
    """Create the append-only ``checkpoints`` table of signed tree heads."""
    db[CHECKPOINT_TABLE].create(  # type: ignore[union-attr]
        {"size": int, "root": bytes, "note": str, "recorded_at_us": int},
        pk="size",
        not_null={"root", "note", "recorded_at_us"},
        strict=True,
    )
    protect_log_table(db, CHECKPOINT_TABLE)


@MIGRATIONS()
def m004_format_2(db: Database) -> None:
    """Mark the file as format 2: event signatures bind the ledger id, not only the origin.

    Creates nothing. A file that already holds entries without this mark was signed under
    format 1 and cannot be read by this version (see ``SqliteStore.open``).
    """


@MIGRATIONS()
def m005_format_3(db: Database) -> None:
    """Mark the file as format 3: the committee agrees to what the admins alone once did.

    Creates nothing. From format 3 on, new points out of ``issuer`` and money in from
    ``external``, the service catalogue, the settlement rate, treasurer keys, new
    committee members and the first key of an account that holds value need the committee
    quorum too (see ``docs/explanation/signing.md``). A format 2 file holding entries was
    written under the older rules, so its history does not replay under these.
    """


FORMAT_2_MARK: Final = "m004_format_2"
"""The migration whose presence says a file was at least format 2 (signatures bind the id)."""

FORMAT_MARK: Final = "m005_format_3"
"""The migration whose presence says a file is in format 3, the format this version writes."""

APPEND_ONLY_TABLES: Final = (*LOG_TABLES, CHECKPOINT_TABLE)
"""Every table whose rows may never be updated or deleted (guarded by triggers)."""

SCHEMA_NAMES: Final = frozenset(
    {
        "m001_initial",
        "m002_community_views",
        "m003_checkpoints",
        "m004_format_2",
        "m005_format_3",
    }
)
"""Names of every migration this version of the library knows."""


SchemaRow = tuple[str, str, str, bytes | None]
"""One ``sqlite_master`` row: type, name, table name and the SQL text as bytes."""

SCHEMA_QUERY: Final = (
    "SELECT type, name, tbl_name, CAST(sql AS BLOB) FROM sqlite_master "
    "WHERE NOT (type = 'table' AND name = tbl_name AND name IN "
    "('sqlite_stat1', 'sqlite_stat2', 'sqlite_stat3', 'sqlite_stat4')) ORDER BY type, name"
)
"""Reads ``sqlite_master`` as bytes, so damaged (non-UTF-8) SQL text can still be compared.

Every object is compared except exactly the statistics tables ``sqlite_stat1`` to
``sqlite_stat4`` that ``ANALYZE`` may create. The names are matched with ``=`` (case and
every character count), not ``LIKE``, whose ``_`` and case folding would let a trigger
named ``sqliteXstat1`` pass unseen.
"""


@functools.cache
def expected_schema() -> frozenset[SchemaRow]:
    """The ``sqlite_master`` rows every migration of this version creates in a new file.

    Built once by applying :data:`MIGRATIONS` to an empty in-memory database; a ledger
    file whose tables, indexes, triggers or views differ has been altered (a dropped
    trigger no longer protects the log; an edited view misreports).
    """
    return _applied(rowid_tables=False)


@functools.cache
def expected_schemas() -> tuple[frozenset[SchemaRow], ...]:
    """Every schema a ledger file may have: a new file's, then an older file's.

    Files created before :data:`ROWID_FREE_TABLES` were ``WITHOUT ROWID`` have the same
    migrations with ordinary rowid tables. A file matches exactly one of them, whole;
    any other schema has been altered.
    """
    return (expected_schema(), _applied(rowid_tables=True))


def _applied(*, rowid_tables: bool) -> frozenset[SchemaRow]:
    conn = sqlite3.connect(":memory:")
    _older_layout.rowid_tables = rowid_tables
    try:
        MIGRATIONS.apply(Database(conn))
        return frozenset(conn.execute(SCHEMA_QUERY).fetchall())
    finally:
        _older_layout.rowid_tables = False
        conn.close()
