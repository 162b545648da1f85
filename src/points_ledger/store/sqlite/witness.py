"""SQLite storage of a witness: its identity and every checkpoint it accepted.

``witnessed`` is append-only (triggers refuse UPDATE and DELETE), keyed by
``(origin, size)``; the latest accepted checkpoint of an origin is its largest size, so
the witness keeps its whole history as evidence. ``identity`` holds the witness's name
and public key (never its private key), so a file cannot be reused with another key.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from points_ledger.errors import StorageError
from points_ledger.store.sqlite import storage_errors
from points_ledger.store.sqlite.schema import protect_log_table

__all__ = ["WITNESS_MIGRATIONS", "WitnessRow", "WitnessStore"]

WITNESS_MIGRATIONS = Migrations("points_ledger_witness")
_BUSY_TIMEOUT_S: Final = 120.0


@WITNESS_MIGRATIONS()
def w001_initial(db: Database) -> None:
    """Create the identity and witnessed-checkpoints tables."""
    db["identity"].create(  # type: ignore[union-attr]
        {"id": int, "name": str, "public_key": bytes},
        pk="id",
        not_null={"name", "public_key"},
        strict=True,
    )
    db["witnessed"].create(  # type: ignore[union-attr]
        {"origin": str, "size": int, "root": bytes, "note": str, "accepted_at": int},
        pk=("origin", "size"),
        not_null={"root", "note", "accepted_at"},
        strict=True,
    )
    protect_log_table(db, "identity")
    protect_log_table(db, "witnessed")


@dataclass(frozen=True)
class WitnessRow:
    """The latest checkpoint a witness accepted for one origin.

    Attributes:
        origin: The log's origin.
        size: Tree size.
        root: Root hash.
        note: The signed note as received.
        accepted_at: POSIX seconds when the witness accepted it.
    """

    origin: str
    size: int
    root: bytes
    note: str
    accepted_at: int


def _check_identity(
    target: Path, stored_name: str, stored_key: bytes, name: str, public_key: bytes
) -> None:
    """Refuse a witness file recorded for another name or key, saying which differs."""
    if stored_key != public_key:
        other_name = "" if stored_name == name else f" (you gave the name {name!r})"
        raise StorageError(
            f"{target} belongs to witness {stored_name!r} with another key{other_name}",
            hint="Open it with the witness's own key file, or use a new witness file.",
        )
    if stored_name != name:
        raise StorageError(
            f"{target} belongs to witness {stored_name!r}; you gave the name {name!r}",
            hint=f"Give --name {stored_name} (Witness(name=...) in Python), or use a new "
            "witness file for another name.",
        )


class WitnessStore:
    """One witness file."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, name: str, public_key: bytes) -> WitnessStore:
        """Open a witness file, creating it (and recording the identity) if missing.

        Raises:
            StorageError: if the file cannot be opened or belongs to another identity.
        """
        target = Path(path)
        with storage_errors(f"open witness file {target}"):
            conn = sqlite3.connect(str(target), timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                db = Database(conn)
                WITNESS_MIGRATIONS.apply(db)
                row = conn.execute("SELECT name, public_key FROM identity").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO identity (id, name, public_key) VALUES (1, ?, ?)",
                        (name, public_key),
                    )
                else:
                    _check_identity(target, row[0], row[1], name, public_key)
            except BaseException:
                conn.close()
                raise
        return cls(conn, target)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A ``BEGIN IMMEDIATE`` transaction: commits on success, else rolls back."""
        with storage_errors("start a witness write"):
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            with storage_errors("write to the witness file"):
                yield
                self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise

    def latest(self, origin: str) -> WitnessRow | None:
        """The latest accepted checkpoint for ``origin``, or None."""
        with storage_errors("read the witness file"):
            row = self.conn.execute(
                "SELECT origin, size, root, note, accepted_at FROM witnessed "
                "WHERE origin = ? ORDER BY size DESC LIMIT 1",
                (origin,),
            ).fetchone()
        return None if row is None else WitnessRow(*row)

    def add(self, row: WitnessRow) -> None:
        """Record an accepted checkpoint (call inside :meth:`write`)."""
        with storage_errors("record a witnessed checkpoint"):
            self.conn.execute(
                "INSERT INTO witnessed (origin, size, root, note, accepted_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (row.origin, row.size, row.root, row.note, row.accepted_at),
            )
