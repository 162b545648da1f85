"""Signing checkpoints only over checked history, and anchoring entries routinely.

The log key signs "my first N entries have root R". Whoever holds it must never sign a
file it has not checked, nor a history that contradicts what it signed before, even when
the file was written by someone else. :func:`checkpoint_checked` therefore

1. replays and checks every entry of the file (signatures and key validity, the rules,
   the hash chain, Merkle nodes) while comparing each entry hash with the holder's
   :class:`~points_ledger.LogRecord`: an entry that was removed, inserted, moved or changed
   since the last checkpoint the holder signed stops it, naming that entry;
2. computes the new root itself from the recorded hashes and the newly checked ones (not
   from the file's Merkle nodes), so the root it signs is one it derived;
3. writes the record first (the holder's truth), then stores the checkpoint in the file
   for publishing.

A record never signs two roots for one size: asking again at a size already signed
returns the recorded checkpoint.

:class:`AutoCheckpoint` is the routine anchoring a long-running application turns on:
after an append, a checkpoint is signed when ``every_entries`` entries or ``every`` time
have passed since the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from points_ledger._sigcheck import SignatureChecker
from points_ledger.audit import run_audit
from points_ledger.domain.state import LedgerConfig
from points_ledger.errors import (
    IntegrityError,
    InvalidEventError,
    LogRecordError,
    SignatureError,
    StorageError,
)
from points_ledger.keys import Signer
from points_ledger.log_notes import log_vkey
from points_ledger.logrecord import LogRecord, RecordedCheckpoint
from points_ledger.merkle import RootBuilder, root_from_nodes
from points_ledger.models.common import from_microseconds
from points_ledger.models.signed_checkpoint import SignedCheckpoint
from points_ledger.notes import CheckpointBody, sign_note
from points_ledger.store import CheckpointRow, Store

__all__ = ["AutoCheckpoint", "checkpoint_checked", "require_log_key"]


@dataclass(frozen=True)
class AutoCheckpoint:
    """Routine anchoring: sign a checkpoint after appends once enough has passed.

    Give it to :meth:`Ledger.open <points_ledger.Ledger.open>` (``auto_checkpoint=``); after
    each successful append the ledger signs a checkpoint into ``record`` when at least
    ``every_entries`` entries or ``every`` time (by the ledger's clock) have passed since
    the record's latest checkpoint. Each checkpoint re-checks the whole file first (see
    :func:`checkpoint_checked`), so choose intervals that leave time for it: a minute
    per few hundred thousand entries on a small machine.

    Attributes:
        log_key: The private log key (kept in memory by the application that runs this).
        record: The log key holder's record, outside the ledger file.
        every_entries: Sign when this many entries are not yet under a checkpoint.
        every: Sign when the latest checkpoint is older than this.
    """

    log_key: Signer
    record: LogRecord
    every_entries: int = 100
    every: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        if not isinstance(self.log_key, Signer) or not isinstance(self.record, LogRecord):
            raise InvalidEventError("AutoCheckpoint needs the log key Signer and a LogRecord")
        if type(self.every_entries) is not int or self.every_entries < 1:
            raise InvalidEventError("every_entries must be a whole number of at least 1")
        if not isinstance(self.every, dt.timedelta) or self.every <= dt.timedelta(0):
            raise InvalidEventError("every must be a positive timedelta")

    def due(self, size: int, now_us: int) -> bool:
        """Whether a checkpoint is due for a ledger of ``size`` entries at ``now_us``."""
        latest = self.record.latest()
        if latest is None:
            return size > 0
        if size - latest.size >= self.every_entries:
            return True
        age = dt.timedelta(microseconds=now_us - latest.recorded_at_us)
        return size > latest.size and age >= self.every


def require_log_key(signer: object, config: LedgerConfig) -> Signer:
    """Return ``signer`` if it is the ledger's log key (named by the genesis entry).

    Raises:
        SignatureError: if it is not a :class:`Signer`, or not the log key.
    """
    if not isinstance(signer, Signer):
        raise SignatureError(f"checkpoints are signed by a Signer, not {type(signer).__name__}")
    if signer.public_key != config.log_key:
        raise SignatureError(
            "this key is not the ledger's log key; checkpoints must be signed by the key "
            "the genesis entry names",
            hint="Use the log key the ledger was created with (init writes it as keys/log.key); "
            "its verifier key is what points-ledger vkey (Ledger.log_vkey in Python) prints.",
            details={"key_id": signer.key_id},
        )
    return signer


def checkpoint_checked(
    store: Store,
    config: LedgerConfig,
    signer: Signer,
    record: LogRecord,
    now_us: int,
    checker: SignatureChecker | None = None,
) -> SignedCheckpoint:
    """Check the whole file against ``record``, then sign, record and store a checkpoint.

    Raises:
        SignatureError: if ``signer`` is not the ledger's log key.
        IntegrityError: if the file has any problem, or differs from what ``record``
            says the log key signed before (nothing is signed then).
        StorageError: if the record or the file cannot be written.
    """
    require_log_key(signer, config)
    if store.read_only:
        raise StorageError(
            f"{store.location} is open read-only: no checkpoint can be stored in it",
            hint="Sign checkpoints on the office's own copy of the ledger, not on this one.",
        )
    with record.locked():
        # The record is reloaded under its lock and checked against its own roots, so
        # a checkpoint always extends what is on disk, recorded by whoever signed last.
        recorded_tree = record.check()
        return _checkpoint_locked(store, config, signer, record, recorded_tree, now_us, checker)


_NOT_ABOUT_ENTRIES: Final = frozenset({"checkpoint_invalid"})
"""Problems that do not stop a checkpoint: an unsigned row in the file's checkpoints table
says nothing about the entries (the record holds what the log key signed), and refusing
because of it would let anyone who can write the file stop all checkpoints."""


def _checkpoint_locked(
    store: Store,
    config: LedgerConfig,
    signer: Signer,
    record: LogRecord,
    builder: RootBuilder,
    now_us: int,
    checker: SignatureChecker | None,
) -> SignedCheckpoint:
    signed_size = record.size
    new_hashes: list[bytes] = []

    def collect(seq: int, digest: bytes) -> None:
        if seq >= signed_size:
            new_hashes.append(digest)

    report = run_audit(store, record=record, on_entry=collect, checker=checker)
    problems = [p for p in report.problems if p.code not in _NOT_ABOUT_ENTRIES]
    if problems:
        first = problems[0]
        if first.code == "unreadable":
            # A read that failed (a disk error, a locked or vanished file) is not evidence
            # of tampering: say what it is, and sign nothing.
            raise StorageError(
                f"could not read the ledger to check it before signing: {first}"
            ) from IntegrityError(str(first), seq=first.seq)
        if first.code in {"record_mismatch", "record_invalid"}:
            raise LogRecordError(f"refusing to sign a checkpoint: {first}", seq=first.seq)
        raise IntegrityError(
            f"refusing to sign a checkpoint: {first}",
            hint="The file is not what the log key may sign. Run points-ledger audit "
            "--record (Ledger.audit(record=...) in Python) for every problem, and restore "
            "the file from a verified backup.",
            seq=first.seq,
            details={"problem": first.code},
        )
    # Only now, with every entry (genesis included) checked against the cached state,
    # may an unused record be tied to this ledger.
    vkey = log_vkey(config.origin, config.log_key)
    record.bind(origin=config.origin, ledger_id=config.ledger_id.hex(), log_vkey=vkey)
    size = report.entries_checked
    new_hashes = new_hashes[: size - signed_size]
    latest = record.latest()
    if size <= signed_size and latest is not None:
        _store_in_file(store, latest)
        return _signed(config.origin, latest)
    # The recorded tree was rebuilt (and checked) once under the lock; extend it.
    for digest in new_hashes:
        builder.add(digest)
    root = builder.root()
    if latest is not None:
        now_us = max(now_us, latest.recorded_at_us)
    note = sign_note(
        CheckpointBody(config.origin, size, root).to_text(), config.origin, signer.private_key
    )
    made = RecordedCheckpoint(size=size, root=root, note=note, recorded_at_us=now_us)
    with store.write():
        # The file must still hold what was checked: the root of its first ``size``
        # entries is recomputed from its nodes and compared with the one derived above.
        if root_from_nodes(size, store.merkle_node) != root:
            raise IntegrityError(
                f"refusing to sign: the first {size} entries changed while they were being checked",
                hint="Someone or something wrote to the ledger's history during the check. "
                "Run points-ledger audit --record to see what changed.",
            )
        record.append(made, new_hashes)
        _insert_unless_present(store, made)
    return _signed(config.origin, made)


def _store_in_file(store: Store, checkpoint: RecordedCheckpoint) -> None:
    with store.write():
        _insert_unless_present(store, checkpoint)


def _insert_unless_present(store: Store, checkpoint: RecordedCheckpoint) -> None:
    # The file publishes what the record holds; a row of that size already there that is
    # not this note is evidence of tampering, not something to overwrite.
    for row in store.checkpoint_rows():
        if row.size == checkpoint.size:
            if row.note != checkpoint.note:
                raise IntegrityError(
                    f"the file already holds another checkpoint of size {checkpoint.size} "
                    "than the one the log key holder recorded",
                    details={"recorded_note": checkpoint.note},
                )
            return
    store.insert_checkpoint(
        CheckpointRow(checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.recorded_at_us),
    )


def _signed(origin: str, checkpoint: RecordedCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint(
        origin=origin,
        size=checkpoint.size,
        root_hash=checkpoint.root,
        note=checkpoint.note,
        recorded_at=from_microseconds(checkpoint.recorded_at_us),
    )
