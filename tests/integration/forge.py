"""What a keyless file writer can do to a ledger file with ``sqlite3`` and public functions.

These helpers play the attacker: they drop the triggers, rewrite the log in another order
or with other bytes, renumber it, recompute every ``prev_hash``, entry hash and Merkle node
with the library's public hash functions, and rebuild the cached state tables from a
replay, so that nothing a plain consistency check looks at gives the edit away. They hold
no private key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

import points_ledger.audit as audit_module
from points_ledger.canonical import GENESIS_PREV_HASH, entry_hash, event_from_bytes
from points_ledger.domain.state import ConfiguredState
from points_ledger.merkle import leaf_hash, node_hash
from points_ledger.models.entries import Signature
from points_ledger.models.events import Posting
from points_ledger.store.sqlite import SqliteState, SqliteStore
from points_ledger.store.sqlite.schema import (
    APPEND_ONLY_TABLES,
    LOG_TABLES,
    STATE_TABLES,
    protect_log_table,
)


@dataclass(frozen=True)
class LogRow:
    """One entry as the attacker handles it: signed bytes, signatures, postings, time."""

    event: bytes
    signatures: tuple[Signature, ...]
    postings: tuple[Posting, ...]
    recorded_at_us: int


def read_log(path: Path) -> list[LogRow]:
    """Every entry of the file, in seq order."""
    store = SqliteStore.open(path)
    try:
        return [
            LogRow(r.event, r.signatures, r.postings, r.recorded_at_us) for r in store.entry_rows()
        ]
    finally:
        store.close()


def drop_triggers(conn: sqlite3.Connection) -> None:
    """Remove the append-only triggers (any writer of the file can)."""
    for table in APPEND_ONLY_TABLES:
        for action in ("update", "delete"):
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def write_log(path: Path, rows: Sequence[LogRow]) -> None:
    """Replace the whole log by ``rows``, renumbered, re-chained, re-hashed, caches rebuilt.

    Stored checkpoints are removed too (a keyless writer cannot sign new ones).
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        drop_triggers(conn)
        conn.execute("BEGIN")
        for table in (*reversed(LOG_TABLES), "checkpoints"):
            conn.execute(f"DELETE FROM {table}")
        prev_hash = GENESIS_PREV_HASH
        last_time = 0
        leaves: list[bytes] = []
        for seq, row in enumerate(rows):
            recorded = max(last_time, row.recorded_at_us)
            digest = entry_hash(
                seq=seq,
                recorded_at_us=recorded,
                prev_hash=prev_hash,
                event_bytes=row.event,
                signatures=row.signatures,
                postings=row.postings,
            )
            event = event_from_bytes(row.event)
            conn.execute(
                "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    event.id,
                    event.type,
                    event.effective_at.isoformat(),
                    recorded,
                    row.event,
                    prev_hash,
                    digest,
                ),
            )
            conn.executemany(
                "INSERT INTO signatures VALUES (?, ?, ?, ?)",
                [(seq, i, s.key_id, s.signature) for i, s in enumerate(row.signatures)],
            )
            conn.executemany(
                "INSERT INTO postings VALUES (?, ?, ?, ?, ?)",
                [(seq, i, p.account, p.asset.value, p.amount) for i, p in enumerate(row.postings)],
            )
            leaves.append(digest)
            prev_hash, last_time = digest, recorded
        conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?)", _merkle_nodes(leaves))
        for table in APPEND_ONLY_TABLES:
            protect_log_table(Database(conn), table)
        conn.execute("COMMIT")
    finally:
        conn.close()
    rebuild_caches(path)


def _merkle_nodes(leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
    level_nodes = [leaf_hash(h) for h in leaves]
    result = [(0, i, node) for i, node in enumerate(level_nodes)]
    level = 0
    while len(level_nodes) > 1:
        level += 1
        level_nodes = [
            node_hash(level_nodes[i], level_nodes[i + 1]) for i in range(0, len(level_nodes) - 1, 2)
        ]
        result += [(level, i, node) for i, node in enumerate(level_nodes)]
    return result


def rebuild_caches(path: Path) -> None:
    """Overwrite the cached state tables with what a replay of the file's log gives."""
    store = SqliteStore.open(path)
    scratch = SqliteState.scratch(store.conn)
    try:
        found = audit_module._Collector(stop_at_first=False)
        total = store.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        view = ConfiguredState(scratch)
        audit_module._replay(store, scratch, view, found, None, total, None)
        scratch.flush()
        store.conn.execute("BEGIN")
        for table in STATE_TABLES:
            rows = list(scratch.table_rows(table))
            store.conn.execute(f"DELETE FROM {table}")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                store.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        store.conn.execute("COMMIT")
    finally:
        scratch.close()
        store.close()
