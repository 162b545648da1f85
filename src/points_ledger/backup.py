"""A verified copy of a ledger file, taken while programs may be using it.

Copying the file with ``cp`` while a program has it open can give a copy that misses
entries still in the WAL file, or a torn one that is "not a points ledger file". A
backup instead copies one read snapshot with SQLite's online backup API, then opens the
copy, verifies it entry by entry, and checks that it holds exactly the entries and the
Merkle root the ledger held at that moment. A copy that fails is removed, so every file
this writes is a verified backup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from points_ledger import transparency as _tlog
from points_ledger._base64 import encode_b64
from points_ledger.errors import IntegrityError, LedgerError, StorageError
from points_ledger.store import Store

__all__ = ["Backup", "back_up"]


@dataclass(frozen=True)
class Backup:
    """A verified backup: where it is and what it holds.

    Attributes:
        path: The copy.
        size: How many entries it holds (the ledger's size when the backup began).
        root: The RFC 9162 Merkle root of those entries, equal in the copy and the
            ledger at that moment.
    """

    path: Path
    size: int
    root: bytes

    def to_text(self) -> str:
        """One line saying what was copied and checked."""
        root = encode_b64(self.root)
        return f"backup verified: {self.path} holds {self.size:,} entries, root {root}"


CopyCheck = Callable[[Path], tuple[int, bytes]]
"""Opens a copy read-only, verifies it, and returns its size and root."""


def back_up(store: Store, dest: str | Path, check_copy: CopyCheck) -> Backup:
    """Copy ``store``'s file to ``dest`` from one snapshot, then verify the copy.

    Raises:
        StorageError: if ``dest`` (or a WAL file beside it) already exists, or the copy
            cannot be written.
        IntegrityError: if the copy does not verify or differs from the ledger at the
            moment of the backup; the copy is removed.
    """
    target = Path(dest)
    for suffix in ("", "-wal", "-shm", "-journal"):
        if Path(f"{target}{suffix}").exists():
            raise StorageError(
                f"{target}{suffix} already exists; a file is never overwritten",
                hint="Choose a new file name for the backup (e.g. with today's date).",
            )
    with store.read_snapshot() as size:
        root = _tlog.tree_root(store, size)
        store.backup_to(target)
    try:
        copy_size, copy_root = check_copy(target)
        if (copy_size, copy_root) != (size, root):
            raise IntegrityError(
                f"the copy holds {copy_size:,} entries with another root than the "
                f"{size:,} entries the ledger held when the backup began",
            )
    except LedgerError as e:
        _remove(target)
        raise IntegrityError(
            f"the backup at {target} did not verify and was removed: {e}",
            hint="Run verify on the ledger itself; if it fails, restore from an earlier "
            "verified backup.",
            seq=e.seq,
        ) from e
    except BaseException:
        _remove(target)
        raise
    return Backup(path=target, size=size, root=root)


def _remove(target: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{target}{suffix}")
        except FileNotFoundError:
            pass
        except OSError:
            # A copy that cannot be removed is still reported by the error raised.
            continue
