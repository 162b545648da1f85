"""Notes the log key signs: its verifier key, and checking the checkpoints it signed.

Pure: no I/O. (Formerly ``points_ledger.checkpoints``, which still imports and warns.)

A points ledger signs its checkpoints with its **log key** under the key name = origin,
so one verifier key string (``origin+hex8+base64(0x01||pubkey)``) is all an outside
party needs to check a checkpoint, a receipt or a witness request.
"""

from __future__ import annotations

from collections.abc import Sequence

from points_ledger._base64 import encode_b64
from points_ledger.errors import EquivocationError, NoteError, ProofError
from points_ledger.merkle import verify_consistency
from points_ledger.notes import ALG_ED25519, CheckpointBody, NoteVerifier, key_id, open_note

__all__ = ["log_verifier", "log_vkey", "verify_checkpoint_consistency", "verify_checkpoint_note"]


def log_verifier(origin: str, public_key: bytes) -> NoteVerifier:
    """Return the note verifier of a ledger's log key (key name = origin).

    Args:
        origin: The ledger's origin.
        public_key: The raw 32-byte Ed25519 log public key from the genesis entry.

    Raises:
        NoteError: If the origin is not a valid key name or the key is not 32 bytes.
    """
    return NoteVerifier.from_vkey(log_vkey(origin, public_key))


def log_vkey(origin: str, public_key: bytes) -> str:
    """Return the verifier key string of a ledger's log key (key name = origin).

    Args:
        origin: The ledger's origin.
        public_key: The raw 32-byte Ed25519 log public key.

    Returns:
        ``origin+hex8+base64(0x01 || public_key)`` (c2sp.org/signed-note).

    Raises:
        NoteError: If the origin is not a valid key name or the key is not 32 bytes.
    """
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise NoteError("a log public key is 32 bytes")
    if not isinstance(origin, str):
        raise NoteError("an origin is a string")
    material = bytes([ALG_ED25519]) + public_key
    kid = key_id(origin, ALG_ED25519, public_key).hex()
    vkey = f"{origin}+{kid}+{encode_b64(material)}"
    NoteVerifier.from_vkey(vkey)  # validates the name and the key
    return vkey


def verify_checkpoint_note(note: object, verifier: NoteVerifier) -> CheckpointBody:
    """Verify a signed checkpoint note with a log's key and return its body.

    The note must carry a valid signature by ``verifier`` (other signatures, such as
    witness cosignatures, are ignored), be a well-formed c2sp.org/tlog-checkpoint and name
    the verifier's key name as its origin.

    Args:
        note: The signed note text (``str`` or UTF-8 ``bytes``).
        verifier: The log's verifier (see :func:`log_verifier`).

    Returns:
        The checkpoint (origin, size, root hash).

    Raises:
        NoteError: If the note is malformed, the log signature is missing or invalid, or
            the origin differs from the verifier's key name.
    """
    if not isinstance(note, str | bytes):
        raise NoteError(f"a checkpoint note must be text, got {type(note).__name__}")
    opened = open_note(note, [verifier])
    checkpoint = CheckpointBody.from_text(opened.text)
    if checkpoint.origin != verifier.name:
        raise NoteError(
            f"checkpoint origin {checkpoint.origin!r} is not the log {verifier.name!r}",
            hint="The checkpoint belongs to another ledger.",
        )
    return checkpoint


def verify_checkpoint_consistency(
    old_note: str, new_note: str, verifier: NoteVerifier, proof: Sequence[bytes]
) -> tuple[CheckpointBody, CheckpointBody]:
    """Check that two log-signed checkpoints show one history: the smaller is a prefix.

    Either note may be the larger; the proof runs from the smaller tree to the larger
    (``ledger.prove_consistency(small, large)``; ``points-ledger consistency-proof``). Two
    checkpoints of the same size need no proof: their roots must be equal.

    Args:
        old_note: A signed checkpoint note (e.g. the one last trusted).
        new_note: Another signed checkpoint note of the same log.
        verifier: The log's verifier.
        proof: The consistency proof between the two sizes (may be empty when a size is 0
            or both sizes are equal).

    Returns:
        The two checkpoints, ``(old, new)``.

    Raises:
        NoteError: If a note is malformed or not signed by the log key.
        EquivocationError: If both are of the same size with different roots: the log has
            signed two histories (a split view); ``details`` holds both notes.
        ProofError: If the sizes differ and no proof is given (the message names the
            sizes to prove), or the proof does not verify (``details`` holds both notes:
            unless the proof was damaged in transit, the log has shown a split view).
    """
    old = verify_checkpoint_note(old_note, verifier)
    new = verify_checkpoint_note(new_note, verifier)
    evidence = {"first": str(old_note), "second": str(new_note)}
    if old.size == new.size:
        if old.root_hash != new.root_hash:
            raise EquivocationError(
                f"{old.origin} signed two different trees of {old.size} entries: it shows "
                "different people different histories (a split view)",
                details=evidence,
            )
        return old, new
    small, large = (old, new) if old.size < new.size else (new, old)
    if not proof and small.size > 0:
        raise ProofError(
            f"a consistency proof from {small.size} to {large.size} entries is needed to "
            f"show that the checkpoints of {small.origin} tell one history",
            hint=f"Ask the office for the output of 'points-ledger consistency-proof "
            f"{small.size} {large.size}' (ledger.prove_consistency({small.size}, "
            f"{large.size}) in Python) and give it with --consistency-proof FILE.",
        )
    try:
        verify_consistency(small.size, large.size, proof, small.root_hash, large.root_hash)
    except ProofError as e:
        raise ProofError(
            f"the checkpoint of {small.size} entries of {small.origin} is not proven to be "
            f"a prefix of the one of {large.size}: {e}",
            hint="Keep both checkpoints (in details): unless the proof was damaged in "
            "transit, the log has shown two histories (a split view). Report it.",
            details=evidence,
        ) from e
    return old, new
