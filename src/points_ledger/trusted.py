"""A resident's memory of the last checkpoint they trusted, per ledger, in a folder.

A receipt checked once proves its entry is in the tree the log signed. A log that shows
one resident one history and another resident a second one (a *split view*) passes that
check each time; what catches it is remembering. :class:`TrustedCheckpoints` keeps the
last checkpoint a resident accepted for each ledger, and checks every later receipt
against it: the same tree, or a tree proven (by a consistency proof) to extend it or to
be a prefix of it. A receipt from a tree that cannot extend it is refused, and the error
carries both checkpoints as evidence.

Each ledger's checkpoint is a small text file (the signed note, as the receipt carried
it) named after a hash of the ledger's origin. The file is checked against the log key
every time it is read, so editing it cannot make a resident trust a tree the log did not
sign; deleting it only makes the next receipt the first one again (trust on first use).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from points_ledger.errors import NoteError, StorageError
from points_ledger.notes import NoteVerifier
from points_ledger.receipts import Receipt, VerifiedReceipt, verify_receipt

__all__ = ["TrustedCheckpoints"]

_NOTE_MAX_BYTES: Final = 1 << 16


class TrustedCheckpoints:
    """The last checkpoint trusted for each ledger, kept in a folder.

    Args:
        folder: The folder (created with mode 0700 if missing).

    Raises:
        StorageError: if the folder cannot be created.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._folder = Path(folder)
        try:
            self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot create the folder {self._folder}: {e.strerror}") from e

    @property
    def folder(self) -> Path:
        """The folder holding the trusted checkpoints."""
        return self._folder

    def latest(self, origin: str) -> str | None:
        """The signed note of the checkpoint last trusted for ``origin``, or None.

        Raises:
            StorageError: if the file exists but cannot be read.
        """
        path = self._path(origin)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_NOTE_MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(f"cannot read the trusted checkpoint {path}: {e.strerror}") from e
        try:
            return raw[:_NOTE_MAX_BYTES].decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError(f"the trusted checkpoint {path} is not a checkpoint note") from e

    def check_receipt(
        self,
        receipt: Receipt | str | bytes,
        log_vkey: str,
        *,
        witnesses: Sequence[str] = (),
        quorum: int | None = None,
        consistency_proof: Sequence[bytes] = (),
    ) -> VerifiedReceipt:
        """Verify a receipt against the checkpoint trusted last, then remember the newer one.

        Runs :func:`~points_ledger.receipts.verify_receipt` with ``trusted=`` the
        checkpoint kept for the log (none the first time). Once it passes, a larger
        checkpoint replaces the kept one; nothing is written if it fails.

        Args:
            receipt: The receipt or its JSON.
            log_vkey: The ledger's verifier key.
            witnesses: Witness verifier keys (see ``verify_receipt``).
            quorum: Witnesses required (default all given).
            consistency_proof: Proof between the kept checkpoint and the receipt's.

        Returns:
            The verified receipt; ``trusted_size`` is the size it was checked against.

        Raises:
            LedgerError: whatever ``verify_receipt`` raises; an ``EquivocationError`` or
                ``ProofError`` with both notes in ``details`` is evidence of a split view.
            StorageError: if the newer checkpoint cannot be written.
        """
        origin = NoteVerifier.from_vkey(log_vkey).name
        verified = verify_receipt(
            receipt,
            log_vkey,
            witnesses=witnesses,
            quorum=quorum,
            trusted=self.latest(origin),
            consistency_proof=consistency_proof,
        )
        if verified.trusted_size is None or verified.checkpoint_body.size > verified.trusted_size:
            self._write(origin, verified.checkpoint_note)
        return verified

    def _path(self, origin: str) -> Path:
        name = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]
        return self._folder / f"{name}.checkpoint"

    def _write(self, origin: str, note: str) -> None:
        target = self._path(origin)
        try:
            fd, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                    handle.write(note)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as e:
            raise StorageError(
                f"cannot keep the trusted checkpoint in {self._folder}: {e.strerror}"
            ) from e
