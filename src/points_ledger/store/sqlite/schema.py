"""The SQLite schema, built with sqlite-utils and evolved with ``sqlite_utils.Migrations``.

Log tables (``entries``, ``signatures``, ``postings``, ``merkle_nodes``, and
``checkpoints`` since ``m002``) are append-only:
``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers make the file itself refuse edits, even
from a plain ``sqlite3`` shell. State tables (``accounts``, ``keys``, ``balances``,
``state``) are caches that ``verify()`` rebuilds from the log and compares.

Every table is STRICT, with explicit primary keys and integer amounts, so ``sqlite-utils``
and Datasette can browse a ledger file directly.
"""

from __future__ import annotations

import functools
import sqlite3
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
    "SCHEMA_NAMES",
    "SCHEMA_QUERY",
    "STATE_TABLES",
    "create_state_tables",
    "expected_schema",
    "protect_log_table",
]

LOG_TABLES: Final = ("entries", "signatures", "postings", "merkle_nodes")
STATE_TABLES: Final = ("accounts", "keys", "balances", "state")
CHECKPOINT_TABLE: Final = "checkpoints"
"""Signed checkpoints (append-only, one per tree size), added by ``m003_checkpoints``."""

MIGRATIONS = Migrations("points_ledger")


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
    db["balances"].create(  # type: ignore[union-attr]
        {"account": str, "asset": str, "posted": int, "pending": int},
        pk=("account", "asset"),
        not_null={"posted", "pending"},
        strict=True,
    )
    db["state"].create(  # type: ignore[union-attr]
        {"namespace": str, "key": str, "value": str},
        pk=("namespace", "key"),
        not_null={"value"},
        strict=True,
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
    db["signatures"].create(  # type: ignore[union-attr]
        {"seq": int, "idx": int, "key_id": str, "signature": bytes},
        pk=("seq", "idx"),
        not_null={"key_id", "signature"},
        foreign_keys=[("seq", "entries", "seq")],
        strict=True,
    )
    db["postings"].create(  # type: ignore[union-attr]
        {"seq": int, "idx": int, "account": str, "asset": str, "amount": int},
        pk=("seq", "idx"),
        not_null={"account", "asset", "amount"},
        foreign_keys=[("seq", "entries", "seq")],
        strict=True,
    )
    db["postings"].create_index(["account", "asset", "seq"])  # type: ignore[union-attr]
    db["merkle_nodes"].create(  # type: ignore[union-attr]
        {"level": int, "idx": int, "hash": bytes},
        pk=("level", "idx"),
        not_null={"hash"},
        strict=True,
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
    """The ``sqlite_master`` rows every migration of this version creates.

    Built once by applying :data:`MIGRATIONS` to an empty in-memory database; a ledger
    file whose tables, indexes, triggers or views differ has been altered (a dropped
    trigger no longer protects the log; an edited view misreports).
    """
    conn = sqlite3.connect(":memory:")
    try:
        MIGRATIONS.apply(Database(conn))
        return frozenset(conn.execute(SCHEMA_QUERY).fetchall())
    finally:
        conn.close()
