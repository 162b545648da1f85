"""Opening log-signed checkpoint notes. Pure: no I/O.

A points ledger signs its checkpoints with its **log key** under the key name = origin,
so one verifier key string (``origin+hex8+base64(0x01||pubkey)``) is all an outside
party needs to check a checkpoint, a receipt or a witness request.
"""

from __future__ import annotations

import base64

from points_ledger.errors import NoteError
from points_ledger.notes import ALG_ED25519, Checkpoint, NoteVerifier, key_id, open_note

__all__ = ["log_verifier", "log_vkey", "open_checkpoint"]


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
    vkey = f"{origin}+{kid}+{base64.b64encode(material).decode('ascii')}"
    NoteVerifier.from_vkey(vkey)  # validates the name and the key
    return vkey


def open_checkpoint(note: object, verifier: NoteVerifier) -> Checkpoint:
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
    checkpoint = Checkpoint.from_text(opened.text)
    if checkpoint.origin != verifier.name:
        raise NoteError(
            f"checkpoint origin {checkpoint.origin!r} is not the log {verifier.name!r}",
            hint="The checkpoint belongs to another ledger.",
        )
    return checkpoint
