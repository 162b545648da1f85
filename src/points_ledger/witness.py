"""A witness: cosigns a log's checkpoints only while the log grows append-only.

A :class:`Witness` keeps, in its own small SQLite file, the latest checkpoint it accepted
for each log it follows. Shown a newer checkpoint with a consistency proof, it checks the
log's signature and the proof, records the new checkpoint and returns a C2SP
``tlog-cosignature`` line. It refuses a smaller tree (:class:`RollbackError`), another
root for the same size (:class:`EquivocationError`) and a proof that does not verify
(:class:`ProofError`); the last two carry both checkpoints in ``details`` as evidence.

The first checkpoint of a log is accepted on trust (trust on first use) with an empty
proof: the witness cannot know what came before it started watching.

Typical use::

    witness = Witness("witness.db", name="street-office.example/witness", key=signer,
                      logs={ledger.origin: ledger.log_vkey()})
    line = witness.cosign(checkpoint.note, ledger.prove_consistency(old_size, new_size))
    cosigned_note = checkpoint.note + line
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from points_ledger.errors import (
    EquivocationError,
    LedgerError,
    NoteError,
    ProofError,
    RollbackError,
)
from points_ledger.keys import Signer
from points_ledger.merkle import verify_consistency
from points_ledger.notes import (
    ALG_COSIGNATURE_V1,
    CheckpointBody,
    NoteVerifier,
    cosign,
    open_note,
)
from points_ledger.store.sqlite.witness import WitnessRow, WitnessStore

__all__ = ["Witness", "WitnessClock"]

WitnessClock = Callable[[], dt.datetime]
"""Returns the current time as an aware ``datetime`` (injectable for tests)."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Witness:
    """A witness with its own name, Ed25519 key, trusted logs and state file.

    Args:
        path: The witness's SQLite file (created if missing).
        name: The witness's key name, e.g. ``street-office.example/witness``.
        key: The witness's signing key (never stored; its public key is recorded in
            the file, which then refuses another key).
        logs: For each log origin the witness follows, the log's verifier key string
            (``ledger.log_vkey()``).
        clock: Source of cosignature timestamps.

    Raises:
        NoteError: if a name or verifier key is invalid.
        StorageError: if the file cannot be opened or belongs to another witness key.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str,
        key: Signer,
        logs: Mapping[str, str],
        clock: WitnessClock = _utc_now,
    ) -> None:
        if not isinstance(key, Signer):
            raise NoteError("the witness key must be a Signer")
        self._verifier = NoteVerifier.from_public_key(
            name, key.private_key.public_key(), ALG_COSIGNATURE_V1
        )
        self._logs: dict[str, NoteVerifier] = {}
        for origin, vkey in logs.items():
            verifier = NoteVerifier.from_vkey(vkey)
            self._logs[origin] = verifier
        self._name = name
        self._key = key
        self._clock = clock
        self._store = WitnessStore.open(path, name=name, public_key=key.public_key)

    @property
    def name(self) -> str:
        """The witness's key name (the name on its cosignature lines)."""
        return self._name

    def vkey(self) -> str:
        """The verifier key string of the witness's cosignatures (type ``0x04``)."""
        return self._verifier.to_vkey()

    def close(self) -> None:
        """Close the witness file."""
        self._store.close()

    def __enter__(self) -> Witness:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def latest(self, origin: str) -> str | None:
        """The signed note of the latest checkpoint accepted for ``origin``, or None."""
        row = self._store.latest(origin)
        return None if row is None else row.note

    def cosign(self, checkpoint_note: str, consistency_proof: Sequence[bytes]) -> str:
        r"""Check a log's new checkpoint and, if it extends the last one, cosign it.

        Args:
            checkpoint_note: The checkpoint as a signed note (from the log, possibly with
                other witnesses' cosignatures).
            consistency_proof: The consistency proof from the last checkpoint this witness
                accepted for the log to the new one (``ledger.prove_consistency``); empty
                for the first checkpoint of a log and for the same checkpoint again.

        Returns:
            The cosignature line ``— <name> base64(...)\n``, to append to the note.

        Raises:
            NoteError: if the note is malformed, its origin is not a log this witness
                follows, or the log's signature does not verify.
            RollbackError: if the tree is smaller than the last one accepted.
            EquivocationError: if the size equals the last one's but the root differs.
            ProofError: if the consistency proof is missing for a larger tree (the
                message names the sizes to prove), malformed, or does not verify; when
                it does not verify, ``details`` holds both checkpoints.
        """
        checkpoint = self._open(checkpoint_note)
        if isinstance(consistency_proof, str | bytes) or not isinstance(
            consistency_proof, Sequence
        ):
            raise ProofError("a consistency proof is a sequence of 32-byte hashes")
        with self._store.write():
            last = self._store.latest(checkpoint.origin)
            if last is None:
                if len(consistency_proof) != 0:
                    raise ProofError(
                        f"the witness has no earlier checkpoint of {checkpoint.origin}; "
                        "the first checkpoint comes with an empty proof"
                    )
            else:
                self._check_growth(last, checkpoint, checkpoint_note, consistency_proof)
            now = self._timestamp()
            if last is None or checkpoint.size > last.size:
                self._store.add(
                    WitnessRow(
                        origin=checkpoint.origin,
                        size=checkpoint.size,
                        root=checkpoint.root_hash,
                        note=str(checkpoint_note),
                        accepted_at=now,
                    )
                )
        return cosign(checkpoint.to_text(), self._name, self._key.private_key, now)

    def _open(self, note: object) -> CheckpointBody:
        if not isinstance(note, str):
            raise NoteError(f"a checkpoint note is text, got {type(note).__name__}")
        opened = open_note(note, list(self._logs.values()))
        checkpoint = CheckpointBody.from_text(opened.text)
        verifier = self._logs.get(checkpoint.origin)
        if verifier is None:
            raise NoteError(
                f"this witness does not follow a log named {checkpoint.origin!r}",
                hint="Configure the witness with the log's origin and verifier key.",
            )
        if not any(
            s.name == verifier.name and s.key_id == verifier.key_id for s in opened.signatures
        ):
            raise NoteError(f"the checkpoint is not signed by the key of {checkpoint.origin}")
        return checkpoint

    def _check_growth(
        self, last: WitnessRow, new: CheckpointBody, note: str, proof: Sequence[bytes]
    ) -> None:
        evidence: dict[str, Any] = {"accepted": last.note, "offered": note}
        if new.size < last.size:
            raise RollbackError(
                f"{new.origin} offered a tree of {new.size} entries after this witness "
                f"accepted {last.size}",
                details=evidence,
            )
        if new.size == last.size and new.root_hash != last.root:
            raise EquivocationError(
                f"{new.origin} signed two different roots for {new.size} entries",
                details=evidence,
            )
        if not proof and 0 < last.size < new.size:
            # Nothing was offered, so nothing speaks against the log: ask for the proof.
            raise ProofError(
                f"no consistency proof was given, but this checkpoint of {new.origin} "
                f"(size {new.size}) is larger than the one this witness accepted "
                f"(size {last.size})",
                hint=f"Give the proof from size {last.size} to {new.size}: on the command "
                f"line, --proof with the output of 'points-ledger consistency-proof "
                f"{last.size} {new.size}'; in Python, "
                f"ledger.prove_consistency({last.size}, {new.size}).",
            )
        try:
            verify_consistency(last.size, new.size, proof, last.root, new.root_hash)
        except ProofError as e:
            raise ProofError(
                f"{new.origin}'s checkpoint of {new.size} entries is not proven to extend "
                f"the one of {last.size} this witness accepted: {e}",
                hint="Keep both checkpoints (in details): unless the proof was merely "
                "damaged in transit, the log has rewritten its history.",
                details=evidence,
            ) from e

    def _timestamp(self) -> int:
        # Read inside the write that records the accepted checkpoint: a time refused here
        # rolls that back, so nothing is accepted that was not cosigned.
        try:
            seconds = int(self._clock().timestamp())
        except (TypeError, ValueError, OverflowError, AttributeError) as e:
            raise LedgerError(f"the witness clock returned an unusable time: {e}") from e
        if seconds < 0:
            early = -seconds
            raise LedgerError(
                f"the witness clock reads {early} seconds before 1970: nothing is cosigned "
                "at such a time",
                hint="Set the computer's clock right, then try again.",
            )
        return seconds
