"""Receipts: one entry, its inclusion proof and a signed checkpoint, checkable offline.

A :class:`Receipt` is a self-contained JSON document. :func:`verify_receipt` checks it
with nothing but the ledger's verifier key string (``ledger.log_vkey()``): no database,
no network. Pure: no I/O.

What a verified receipt proves: the log key signed a checkpoint saying "my first ``size``
entries have root R", and an entry with exactly these event bytes, signatures, postings,
seq, time and previous hash is leaf ``seq`` of that tree. It does not prove that the
signers were authorised (the ledger checked that when it appended the entry; ``verify()``
re-checks it on the file).

On its own it does not prove either that the log shows everyone the same tree. Two
defences do, and a resident can use both: *witnesses* (``witnesses=`` and ``quorum=``:
at least ``quorum`` of the named witnesses cosigned this checkpoint, C2SP
tlog-cosignature, and an honest witness cosigns only append-only growth), and a
*trusted checkpoint* (``trusted=``: the last checkpoint the resident accepted; the
receipt's checkpoint must be the same tree or be proven, with ``consistency_proof=``, to
extend it or be a prefix of it). :class:`~points_ledger.trusted.TrustedCheckpoints` keeps
that checkpoint in a folder between checks.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Literal

import pydantic
from pydantic import Field

from points_ledger._base64 import Base64Error, decode_b64, encode_b64
from points_ledger.canonical import entry_hash, event_from_bytes
from points_ledger.errors import IntegrityError, LedgerError, NoteError, ProofError
from points_ledger.log_notes import verify_checkpoint_consistency, verify_checkpoint_note
from points_ledger.merkle import leaf_hash, verify_inclusion
from points_ledger.models.common import FrozenModel, describe_validation_error, from_microseconds
from points_ledger.models.entries import Signature
from points_ledger.models.events import Event, Posting
from points_ledger.notes import ALG_COSIGNATURE_V1, CheckpointBody, NoteVerifier, open_note

__all__ = [
    "RECEIPT_FORMAT",
    "RECEIPT_FORMATS_READ",
    "RECEIPT_FORMAT_V1",
    "RECEIPT_JSON_MAX",
    "Receipt",
    "ReceiptPosting",
    "ReceiptSignature",
    "VerifiedReceipt",
    "verify_receipt",
]

RECEIPT_FORMAT: Final = "points-ledger-receipt/v2"
"""Value of the ``format`` field of every receipt this version writes.

Version 2 writes ``prev_hash`` and ``entry_hash`` in standard base64, like every other
binary value; the receipt is otherwise the same as version 1.
"""

RECEIPT_FORMAT_V1: Final = "points-ledger-receipt/v1"
"""The first receipt format, with ``prev_hash`` and ``entry_hash`` as lower-case hex."""

RECEIPT_FORMATS_READ: Final = (RECEIPT_FORMAT_V1, RECEIPT_FORMAT)
"""Every receipt format :meth:`Receipt.from_json` and :func:`verify_receipt` accept."""

RECEIPT_JSON_MAX: Final = 1 << 20
"""Largest receipt document accepted by :meth:`Receipt.from_json` (1 MiB)."""

# Said to whoever holds the receipt: there is no ledger file of theirs to protect.
_ALTERED_HINT: Final = (
    "The receipt (or its checkpoint) was changed after it was made, or it comes from "
    "another ledger. Check that you used the public key (verifier key) the office "
    "published, and ask the office for a fresh receipt."
)
_B64 = Annotated[str, Field(max_length=200_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")]
# A 32-byte hash: 64 hex digits (format v1) or 44 characters of base64 (format v2).
_HASH32 = Annotated[str, Field(pattern=r"^([0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$")]


class ReceiptSignature(FrozenModel):
    """One signature of the entry, as the receipt carries it.

    Attributes:
        key_id: The signing key's id (16 hex digits).
        signature: The 64-byte Ed25519 signature, standard base64.
    """

    key_id: Annotated[str, Field(max_length=64)]
    signature: _B64


class ReceiptPosting(FrozenModel):
    """One posting of the entry, as the receipt carries it.

    Attributes:
        account: Account id.
        asset: Asset code (``PTS`` or ``CNY``).
        amount: Integer amount in the asset's smallest unit.
    """

    account: Annotated[str, Field(max_length=64)]
    asset: Annotated[str, Field(max_length=16)]
    amount: int


class Receipt(FrozenModel):
    """A self-contained proof that one entry is in a ledger, checkable offline.

    Make one with ``ledger.receipt(seq)``; check it with :func:`verify_receipt`.
    All binary values are standard base64 (in the version 1 format, which is still read,
    ``prev_hash`` and ``entry_hash`` were lower-case hex).

    Attributes:
        format: :data:`RECEIPT_FORMAT` (or :data:`RECEIPT_FORMAT_V1` for an older receipt).
        origin: The ledger's origin.
        seq: The entry's position in the log.
        recorded_at_us: When the ledger recorded the entry (UTC microseconds).
        event: The exact canonical event bytes that were signed, base64.
        signatures: The entry's signatures, in stored order.
        postings: The entry's postings, in stored order.
        prev_hash: Hash of the previous entry, base64 (hex in format v1).
        entry_hash: The entry hash (the Merkle leaf data), base64 (hex in format v1).
        leaf_index: The leaf's index in the tree (equals ``seq``).
        inclusion_proof: RFC 9162 inclusion path to the checkpoint's root, base64 each.
        checkpoint: The signed checkpoint note (may also carry witness cosignatures).
    """

    format: Literal["points-ledger-receipt/v1", "points-ledger-receipt/v2"] = RECEIPT_FORMAT
    origin: Annotated[str, Field(max_length=1024)]
    seq: Annotated[int, Field(ge=0)]
    recorded_at_us: int
    event: _B64
    signatures: Annotated[tuple[ReceiptSignature, ...], Field(max_length=64)]
    postings: Annotated[tuple[ReceiptPosting, ...], Field(max_length=1024)]
    prev_hash: _HASH32
    entry_hash: _HASH32
    leaf_index: Annotated[int, Field(ge=0)]
    inclusion_proof: Annotated[tuple[_B64, ...], Field(max_length=64)]
    checkpoint: Annotated[str, Field(max_length=1 << 16)]

    @pydantic.model_validator(mode="after")
    def check_hash_encoding(self) -> Receipt:
        """Refuse hashes not in the format's encoding (hex in v1, base64 from v2)."""
        hex_form = self.format == RECEIPT_FORMAT_V1
        for name in ("prev_hash", "entry_hash"):
            value: str = getattr(self, name)
            if (len(value) == 64) != hex_form:
                wanted = "64 hex digits" if hex_form else "base64 (44 characters)"
                raise ValueError(f"{name} must be {wanted} in a {self.format} receipt")
        return self

    def hash_bytes(self, name: Literal["prev_hash", "entry_hash"]) -> bytes:
        """The 32 bytes of ``prev_hash`` or ``entry_hash``, whichever the format's encoding.

        Raises:
            ProofError: if the value is not in the format's encoding.
        """
        value: str = getattr(self, name)
        if self.format == RECEIPT_FORMAT_V1:
            return bytes.fromhex(value)
        return _b64(value, name)

    def to_json(self) -> str:
        """Return the receipt as a JSON document (UTF-8 text)."""
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, data: str | bytes) -> Receipt:
        """Parse a receipt document, checking its shape (not yet its proofs).

        Args:
            data: JSON text as written by :meth:`to_json`.

        Raises:
            ProofError: If the document is too large, not JSON, or not a receipt of a
                format this version reads.
        """
        if not isinstance(data, str | bytes):
            raise ProofError(f"a receipt is JSON text, got {type(data).__name__}")
        if len(data) > RECEIPT_JSON_MAX:
            raise ProofError(f"receipt is larger than {RECEIPT_JSON_MAX:,} bytes")
        _require_known_format(data)
        try:
            return cls.model_validate_json(data)
        except pydantic.ValidationError as e:
            raise ProofError(f"not a valid receipt: {describe_validation_error(e)}") from e
        except (ValueError, UnicodeError) as e:
            raise ProofError(f"receipt is not valid JSON: {e}") from e


@dataclass(frozen=True, init=False)
class VerifiedReceipt:
    """What :func:`verify_receipt` returns: the checked facts, ready for display.

    Attributes:
        origin: The ledger's origin.
        seq: The entry's position in the log.
        recorded_at: When the ledger recorded the entry (UTC).
        event: The parsed event.
        signatures: The entry's signatures (key ids and bytes).
        postings: The entry's postings.
        entry_hash: The entry hash.
        checkpoint_body: The log-signed checkpoint the entry is proven to be in, parsed
            (origin, size, root). Its former name ``checkpoint`` still reads it (and
            may still be passed when making one by hand), with a ``DeprecationWarning``:
            on a :class:`Receipt`, ``checkpoint`` is the signed note text.
        checkpoint_note: That checkpoint as the signed note the receipt carries (with any
            cosignatures): what a resident keeps as the checkpoint they trust.
        witnessed_by: Names of the given witnesses whose cosignatures verified, in note
            order (empty when none was given or none cosigned).
        witness_quorum: How many of them were required.
        trusted_size: Size of the trusted checkpoint it was checked against, or None.
    """

    origin: str
    seq: int
    recorded_at: dt.datetime
    event: Event
    signatures: tuple[Signature, ...]
    postings: tuple[Posting, ...]
    entry_hash: bytes
    checkpoint_body: CheckpointBody
    checkpoint_note: str = ""
    witnessed_by: tuple[str, ...] = ()
    witness_quorum: int = 0
    trusted_size: int | None = None

    def __init__(
        self,
        origin: str,
        seq: int,
        recorded_at: dt.datetime,
        event: Event,
        signatures: tuple[Signature, ...],
        postings: tuple[Posting, ...],
        entry_hash: bytes,
        checkpoint_body: CheckpointBody | None = None,
        checkpoint_note: str = "",
        witnessed_by: tuple[str, ...] = (),
        witness_quorum: int = 0,
        trusted_size: int | None = None,
        **former: CheckpointBody,
    ) -> None:
        if set(former) - {"checkpoint"}:
            unknown = ", ".join(sorted(set(former) - {"checkpoint"}))
            raise TypeError(f"VerifiedReceipt() got unexpected keyword arguments: {unknown}")
        if "checkpoint" in former:
            _warn_checkpoint_renamed(stacklevel=3)
            if checkpoint_body is not None:
                raise TypeError("VerifiedReceipt() got both checkpoint_body and checkpoint")
            checkpoint_body = former["checkpoint"]
        if checkpoint_body is None:
            raise TypeError("VerifiedReceipt() needs checkpoint_body")
        given = {
            "origin": origin,
            "seq": seq,
            "recorded_at": recorded_at,
            "event": event,
            "signatures": signatures,
            "postings": postings,
            "entry_hash": entry_hash,
            "checkpoint_body": checkpoint_body,
            "checkpoint_note": checkpoint_note,
            "witnessed_by": witnessed_by,
            "witness_quorum": witness_quorum,
            "trusted_size": trusted_size,
        }
        for name, value in given.items():
            object.__setattr__(self, name, value)

    @property
    def checkpoint(self) -> CheckpointBody:
        """Deprecated name of :attr:`checkpoint_body` (it warns)."""
        _warn_checkpoint_renamed(stacklevel=3)
        return self.checkpoint_body


def _warn_checkpoint_renamed(stacklevel: int) -> None:
    warnings.warn(
        "VerifiedReceipt.checkpoint is now VerifiedReceipt.checkpoint_body (the parsed "
        "checkpoint; a Receipt's checkpoint is the signed note text); the old name will "
        "be removed",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def verify_receipt(
    receipt: Receipt | str | bytes,
    log_vkey: str,
    *,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
    trusted: str | None = None,
    consistency_proof: Sequence[bytes] = (),
) -> VerifiedReceipt:
    r"""Check a receipt offline with the ledger's verifier key, and witnesses if given.

    Checks, in order: the checkpoint note carries a valid signature by ``log_vkey``; the
    checkpoint's origin is the key's name and the receipt's origin; at least ``quorum``
    of ``witnesses`` cosigned it (C2SP tlog-cosignature: type 0x04, signed message
    ``cosignature/v1\ntime T\n`` + checkpoint, 8-byte big-endian time first); it is the
    ``trusted`` checkpoint's tree or proven consistent with it; the entry hash
    recomputed from the receipt's fields (seq, time, previous hash, event bytes,
    signatures, postings) equals the one stated; the event bytes are a canonical event;
    the inclusion proof leads from that entry to the checkpoint's root.

    Args:
        receipt: A :class:`Receipt` or its JSON text.
        log_vkey: The ledger's verifier key, ``origin+hex8+base64(0x01||pubkey)``, obtained
            from the ledger operator out of band (``ledger.log_vkey()``).
        witnesses: Verifier keys of witnesses the resident trusts
            (``name+hex8+base64(0x04||pubkey)``, as ``witness.vkey()`` gives). Two keys
            with the same public key count once.
        quorum: How many of them must have cosigned; default all of them. 0 only reports
            which did.
        trusted: The signed checkpoint note the resident trusted last (same log), or None.
        consistency_proof: The proof between the trusted checkpoint's size and the
            receipt's (from the smaller to the larger); needed when the sizes differ.

    Returns:
        The verified facts, with the witnesses that cosigned.

    Raises:
        NoteError: If a verifier key or the checkpoint note is invalid, the note is not
            signed by the log key, the origins differ, a witness key is not a
            cosignature key (or is the log key), the quorum is impossible, a given
            witness's cosignature does not verify, or fewer than ``quorum`` cosigned.
        EquivocationError: If the checkpoint and the trusted one are different trees of
            the same size (a split view); ``details`` holds both.
        IntegrityError: If a field of the entry was changed (the entry hash does not match)
            or the event bytes are not a canonical event.
        ProofError: If the document is malformed, the inclusion proof does not verify, or
            the sizes differ from the trusted checkpoint's and the consistency proof is
            missing (the message names the sizes) or does not verify.
    """
    try:
        return _verify(receipt, log_vkey, witnesses, quorum, trusted, consistency_proof)
    except LedgerError:
        raise
    except (ValueError, TypeError, OverflowError, UnicodeError) as e:
        # Defence in depth: no foreign exception escapes for garbage input.
        raise ProofError(f"receipt cannot be checked: {e}") from e


def _witness_verifiers(
    witnesses: object, quorum: object, log: NoteVerifier
) -> tuple[list[NoteVerifier], int]:
    if isinstance(witnesses, str | bytes) or not isinstance(witnesses, Sequence):
        raise NoteError("witnesses is a sequence of witness verifier keys")
    verifiers: list[NoteVerifier] = []
    for vkey in witnesses:
        if not isinstance(vkey, str):
            raise NoteError("a witness verifier key must be a string")
        verifier = NoteVerifier.from_vkey(vkey)
        if verifier.algorithm != ALG_COSIGNATURE_V1:
            raise NoteError(
                f"witness key {verifier.name} is not a cosignature key (type 0x04)",
                hint="Use the witness's verifier key as it publishes it ('witness cosign' "
                "prints it), not a plain note key.",
            )
        if verifier.public_key_bytes == log.public_key_bytes:
            raise NoteError(
                f"witness key {verifier.name} is the log's own key: a log cannot witness itself"
            )
        verifiers.append(verifier)
    distinct = len({v.public_key_bytes for v in verifiers})
    if quorum is None:
        quorum = distinct
    if isinstance(quorum, bool) or not isinstance(quorum, int) or not 0 <= quorum <= distinct:
        raise NoteError(
            f"a witness quorum of {quorum!r} is impossible with {distinct} different witness keys",
            hint="Give a quorum from 0 to the number of different witnesses.",
        )
    return verifiers, quorum


def _witnessed_by(note: str, log: NoteVerifier, witnesses: list[NoteVerifier]) -> list[str]:
    if not witnesses:
        return []
    opened = open_note(note, [log, *witnesses])
    by_id = {(w.name, w.key_id): w for w in witnesses}
    names: list[str] = []
    seen: set[bytes] = set()
    for signature in opened.signatures:
        witness = by_id.get((signature.name, signature.key_id))
        if witness is not None and witness.public_key_bytes not in seen:
            seen.add(witness.public_key_bytes)
            names.append(witness.name)
    return names


def _verify(
    receipt: object,
    vkey: object,
    witnesses: object,
    quorum: object,
    trusted: object,
    consistency_proof: Sequence[bytes],
) -> VerifiedReceipt:
    if isinstance(receipt, str | bytes):
        receipt = Receipt.from_json(receipt)
    if not isinstance(receipt, Receipt):
        raise ProofError(f"expected a Receipt or its JSON, got {type(receipt).__name__}")
    if not isinstance(vkey, str):
        raise NoteError("the log verifier key must be a string")
    verifier = NoteVerifier.from_vkey(vkey)
    witness_verifiers, needed = _witness_verifiers(witnesses, quorum, verifier)
    checkpoint = verify_checkpoint_note(receipt.checkpoint, verifier)
    if receipt.origin != checkpoint.origin:
        raise NoteError(
            f"receipt is for {receipt.origin!r} but its checkpoint is for {checkpoint.origin!r}"
        )
    witnessed_by = _witnessed_by(receipt.checkpoint, verifier, witness_verifiers)
    if len(witnessed_by) < needed:
        raise NoteError(
            f"the checkpoint is cosigned by {len(witnessed_by)} of the witnesses given "
            f"({', '.join(witnessed_by) or 'none'}), but {needed} are required",
            hint="Ask the office for a receipt whose checkpoint the witnesses have "
            "cosigned ('points-ledger receipt SEQ --checkpoint COSIGNED_NOTE'); a log that "
            "no witness will cosign may be showing you a history others do not see.",
            details={"witnessed_by": witnessed_by, "quorum": needed},
        )
    trusted_size = None
    if trusted is not None:
        if not isinstance(trusted, str):
            raise NoteError("the trusted checkpoint is a signed note (text)")
        old, _new = verify_checkpoint_consistency(
            trusted, receipt.checkpoint, verifier, consistency_proof
        )
        trusted_size = old.size

    event_bytes = _b64(receipt.event, "event")
    signatures = tuple(_signature(s, i) for i, s in enumerate(receipt.signatures))
    postings = tuple(_posting(p, i) for i, p in enumerate(receipt.postings))
    stated_hash = receipt.hash_bytes("entry_hash")
    try:
        recomputed = entry_hash(
            seq=receipt.seq,
            recorded_at_us=receipt.recorded_at_us,
            prev_hash=receipt.hash_bytes("prev_hash"),
            event_bytes=event_bytes,
            signatures=signatures,
            postings=postings,
        )
    except LedgerError as e:
        raise IntegrityError(f"the entry's fields cannot be hashed: {e}", hint=_ALTERED_HINT) from e
    if recomputed != stated_hash:
        raise IntegrityError(
            "the entry's fields do not match its hash: the receipt was altered",
            hint=_ALTERED_HINT,
            seq=receipt.seq,
        )
    try:
        event = event_from_bytes(event_bytes)
    except LedgerError as e:
        raise IntegrityError(
            f"receipt event bytes are not a valid event: {e}", hint=_ALTERED_HINT
        ) from e

    if receipt.leaf_index != receipt.seq:
        raise ProofError(f"leaf index {receipt.leaf_index} is not the entry's seq {receipt.seq}")
    if receipt.seq >= checkpoint.size:
        raise ProofError(
            f"entry {receipt.seq} is not covered by a checkpoint of size {checkpoint.size}"
        )
    proof = [_b64(p, "inclusion proof") for p in receipt.inclusion_proof]
    verify_inclusion(
        leaf_hash(stated_hash), receipt.leaf_index, checkpoint.size, proof, checkpoint.root_hash
    )
    return VerifiedReceipt(
        origin=checkpoint.origin,
        seq=receipt.seq,
        recorded_at=_from_us(receipt.recorded_at_us),
        event=event,
        signatures=signatures,
        postings=postings,
        entry_hash=stated_hash,
        checkpoint_body=checkpoint,
        checkpoint_note=receipt.checkpoint,
        witnessed_by=tuple(witnessed_by),
        witness_quorum=needed,
        trusted_size=trusted_size,
    )


def _require_known_format(data: str | bytes) -> None:
    """Refuse a receipt of a format this version does not read, saying so plainly."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeError):
        return  # reported, with the position, by the full parse
    stated = document.get("format") if isinstance(document, dict) else None
    if isinstance(stated, str) and stated not in RECEIPT_FORMATS_READ:
        known = ", ".join(RECEIPT_FORMATS_READ)
        raise ProofError(
            f"the receipt's format {stated[:80]!r} is not one this version reads ({known})",
            hint="A newer version of points_ledger may have made it: update points_ledger, "
            "or ask the office for a receipt in a format you can check.",
        )


def _b64(value: str, what: str) -> bytes:
    try:
        return decode_b64(value)
    except Base64Error as e:
        raise ProofError(f"receipt {what} is {e}") from e


def _signature(item: ReceiptSignature, index: int) -> Signature:
    try:
        return Signature(key_id=item.key_id, signature=_b64(item.signature, "signature"))
    except LedgerError as e:
        raise IntegrityError(
            f"receipt signature {index} is malformed: {e}", hint=_ALTERED_HINT
        ) from e


def _posting(item: ReceiptPosting, index: int) -> Posting:
    try:
        return Posting.model_validate(
            {"account": item.account, "asset": item.asset, "amount": item.amount}, strict=False
        )
    except pydantic.ValidationError as e:
        raise IntegrityError(
            f"receipt posting {index} is malformed: {describe_validation_error(e)}",
            hint=_ALTERED_HINT,
        ) from e


def _from_us(value: int) -> dt.datetime:
    try:
        return from_microseconds(value)
    except OverflowError as e:
        raise IntegrityError("receipt time is out of range", hint=_ALTERED_HINT) from e


def receipt_signature(signature: Signature) -> ReceiptSignature:
    """Return the receipt form of an entry signature."""
    return ReceiptSignature(key_id=signature.key_id, signature=encode_b64(signature.signature))


def receipt_posting(posting: Posting) -> ReceiptPosting:
    """Return the receipt form of a posting."""
    return ReceiptPosting(account=posting.account, asset=str(posting.asset), amount=posting.amount)
