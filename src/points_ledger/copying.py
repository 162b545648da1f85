"""Copy a ledger from one store to another, keeping every signed byte.

:func:`copy_ledger` reads the source through the store protocol inside one read snapshot
and writes a new ledger in any other store: a SQLite file to PostgreSQL when an office
joins the district's server, PostgreSQL to a SQLite file for Datasette, sqlite-utils or
an auditor. Entries are copied as stored (event bytes, signatures, postings, seq,
``recorded_at``, hashes), never re-signed or re-encoded; the state caches of the copy
are derived again from the entries by the ledger's own rules, as a replay does; the
checkpoints are copied as signed. At the end the copy must have the source's Merkle
root and must pass ``verify()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from points_ledger.canonical import entry_hash, event_from_bytes
from points_ledger.domain.state import ConfiguredState, DeriveContext
from points_ledger.engine import authorize_and_plan
from points_ledger.errors import IntegrityError, LedgerError, StorageError
from points_ledger.ledger import Ledger
from points_ledger.store import Store

__all__ = ["CopyResult", "copy_ledger"]

_BATCH: Final = 1000


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_ledger` copied.

    Attributes:
        source: Where the ledger was read (a path, or a URL without its password).
        dest: Where the copy was made.
        entries: How many entries were copied (the source snapshot's size).
        checkpoints: How many signed checkpoints were copied.
        root: The Merkle root both ledgers have at that size.
    """

    source: str
    dest: str
    entries: int
    checkpoints: int
    root: bytes


def _is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(
        ("postgresql://", "postgres://")
    )


def _create_store(dest: str | Path) -> Store:
    """A new, empty store at ``dest``: a PostgreSQL schema for a URL, else a SQLite file."""
    if _is_url(dest):
        try:
            from points_ledger.store.postgres import PostgresStore
        except ImportError as e:
            raise StorageError(
                f"a ledger on PostgreSQL needs psycopg, which is not installed ({e})",
                hint="Install the postgres extra: pip install 'points_ledger[postgres]'.",
            ) from e
        return PostgresStore.create(str(dest))
    from points_ledger.store.sqlite import SqliteStore

    return SqliteStore.create(dest)


def _discard(store: Store, dest: str | Path) -> None:
    """Take away a copy that did not finish (nothing of it was committed)."""
    discard = getattr(store, "discard_if_empty", None)
    with contextlib.suppress(LedgerError, OSError):
        if callable(discard):
            discard()
        store.close()
        if not _is_url(dest):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{dest}{suffix}").unlink(missing_ok=True)


def copy_ledger(
    source: str | Path | Store,
    dest: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CopyResult:
    """Copy the ledger at ``source`` to a new ledger at ``dest``; check the copy.

    ``source`` and ``dest`` are each a SQLite file path or a ``postgresql://…?schema=…``
    URL (``source`` may also be a store object). ``dest`` must not exist yet. The whole
    copy is one write transaction on ``dest``: it is kept complete or not at all.

    Args:
        source: The ledger to copy; it is only read, in one snapshot, while others may
            go on appending to it (their entries are not copied).
        dest: Where to make the copy.
        progress: Called as ``progress(done, total)`` every 1,000 entries and at the end.

    Returns:
        What was copied, with the Merkle root both ledgers share.

    Raises:
        StorageError: if ``dest`` exists or either store cannot be used.
        IntegrityError: if an entry of the source does not hash, sign or derive as
            stored (copy from a healthy ledger: run ``audit`` on the source), or the copy
            does not verify with the source's root.
    """
    if isinstance(source, str | Path):
        with Ledger.open(source, read_only=True) as reader:
            return _copy(reader, dest, progress)
    return _copy(Ledger.open(source), dest, progress)


def _copy(
    reader: Ledger,
    dest: str | Path,
    progress: Callable[[int, int], None] | None,
) -> CopyResult:
    origin_store = reader._store
    with origin_store.guard("read the ledger to copy"), origin_store.read_snapshot() as size:
        root = reader.root(size) if size else b""
        checkpoints = [c for c in origin_store.checkpoint_rows() if _within(c.size, size)]
        target = _create_store(dest)
        try:
            with target.guard(f"write the copy at {target.location}"), target.write():
                _copy_entries(origin_store, target, size, progress)
                for row in checkpoints:
                    target.insert_checkpoint(row)
        except BaseException:
            _discard(target, dest)
            raise
    copy = Ledger(target)
    try:
        copied_root = copy.root(size) if size else b""
        if copied_root != root:
            raise IntegrityError(
                f"the copy at {target.location} has Merkle root {copied_root.hex()}, "
                f"the source {root.hex()}"
            )
        copy.verify()
    finally:
        copy.close()
    return CopyResult(
        source=origin_store.location,
        dest=target.location,
        entries=size,
        checkpoints=len(checkpoints),
        root=root,
    )


def _within(checkpoint_size: object, size: int) -> bool:
    return isinstance(checkpoint_size, int) and checkpoint_size <= size


def _copy_entries(
    source: Store, target: Store, size: int, progress: Callable[[int, int], None] | None
) -> None:
    view = ConfiguredState(target.state)
    prev_hash: bytes | None = None
    for row in source.entry_rows(0, size):
        seq = row.seq
        if prev_hash is not None and row.prev_hash != prev_hash:
            raise IntegrityError(f"entry {seq} of the source does not follow the one before")
        expected = entry_hash(
            seq=seq,
            recorded_at_us=row.recorded_at_us,
            prev_hash=row.prev_hash,
            event_bytes=row.event,
            signatures=row.signatures,
            postings=row.postings,
        )
        if expected != row.hash:
            raise IntegrityError(f"entry {seq} of the source does not match its hash")
        event = event_from_bytes(row.event)
        plan = authorize_and_plan(
            event, row.event, row.signatures, view, DeriveContext(seq, row.recorded_at_us)
        )
        if tuple(plan.postings) != tuple(row.postings):
            raise IntegrityError(
                f"entry {seq} of the source holds postings its rules do not derive"
            )
        target.insert_entry(row)
        target.state.apply(plan.changes, plan.postings)
        prev_hash = row.hash
        done = seq + 1
        if progress is not None and (done % _BATCH == 0 or done == size):
            progress(done, size)
