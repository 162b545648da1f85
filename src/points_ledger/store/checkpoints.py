"""SQL for the ``checkpoints`` table of a ledger file (signed tree heads).

Kept apart from :mod:`points_ledger.store.sqlite` so the checkpoint feature adds a module
instead of growing the store class. Rows are append-only (triggers refuse UPDATE and
DELETE); the primary key is the tree size, so a file holds at most one checkpoint per size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from points_ledger.store.sqlite import SqliteStore, storage_errors

__all__ = ["CheckpointRow", "checkpoint_rows", "insert_checkpoint", "latest_checkpoint_row"]


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


def insert_checkpoint(store: SqliteStore, row: CheckpointRow) -> None:
    """Insert a checkpoint; call inside ``store.write()``.

    Raises:
        StorageError: if SQLite refuses the row (e.g. a checkpoint of that size exists).
    """
    with storage_errors("store a checkpoint"):
        store.conn.execute(
            "INSERT INTO checkpoints (size, root, note, recorded_at_us) VALUES (?, ?, ?, ?)",
            (row.size, row.root, row.note, row.recorded_at_us),
        )


def latest_checkpoint_row(store: SqliteStore) -> CheckpointRow | None:
    """The stored checkpoint with the largest size, or None.

    Raises:
        StorageError: if the table cannot be read.
    """
    with storage_errors("read the latest checkpoint"):
        row = store.conn.execute(
            "SELECT size, root, note, recorded_at_us FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
    return None if row is None else CheckpointRow(*row)


def checkpoint_rows(store: SqliteStore) -> Iterator[CheckpointRow]:
    """Every stored checkpoint, smallest size first, streamed.

    Raises:
        StorageError: if the table cannot be read.
    """
    with storage_errors("read checkpoints"):
        cursor = store.conn.execute(
            "SELECT size, root, note, recorded_at_us FROM checkpoints ORDER BY size"
        )
        for row in cursor:
            yield CheckpointRow(*row)
