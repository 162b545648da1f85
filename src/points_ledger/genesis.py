"""A ledger's identity, read from the signed bytes of its genesis entry.

The origin, the log key and the signing thresholds are fixed by entry 0. Anything that
reports or relies on them (``Ledger.config``, ``origin``, ``log_vkey()``, the signing
input of every later event) takes them from entry 0's stored canonical bytes, checked
here: the entry hash, that the event is a genesis, and that its admins' signatures
verify and meet its own admin threshold. The ``state`` table keeps a copy for reports
only; a keyless file writer can edit that copy, so nothing here reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from points_ledger.canonical import (
    GENESIS_PREV_HASH,
    entry_hash,
    event_from_bytes,
    genesis_signing_input,
    ledger_id_of,
)
from points_ledger.domain.admin import genesis_config_record, genesis_keys
from points_ledger.domain.state import LedgerConfig
from points_ledger.engine import SIGNATURES_MAX
from points_ledger.errors import IntegrityError, LedgerError
from points_ledger.keys import public_key_from_b64, verify_signature
from points_ledger.models.entries import KeyRecord, Signature
from points_ledger.models.events import Genesis, Posting
from points_ledger.policy import Policy

__all__ = ["genesis_config"]

_RESTORE_HINT = (
    "The file's first entry is not the genesis its admins signed: do not use this file. "
    "Restore it from a verified backup, and compare its log verifier key with the "
    "published one."
)


def genesis_config(
    *,
    event_bytes: bytes,
    signatures: Sequence[Signature],
    postings: Sequence[Posting],
    recorded_at_us: int,
    prev_hash: bytes,
    stored_hash: bytes,
) -> LedgerConfig:
    """The configuration entry 0 fixes, after checking entry 0 itself.

    Args:
        event_bytes: Entry 0's stored canonical event bytes.
        signatures: Its stored signatures.
        postings: Its stored postings (a genesis has none; they are part of the hash).
        recorded_at_us: Its stored ledger time.
        prev_hash: Its stored ``prev_hash`` (32 zero bytes for entry 0).
        stored_hash: Its stored entry hash.

    Returns:
        Origin, log public key and signing thresholds, as the genesis admins signed them,
        and the ledger id (the hash of those signed bytes).

    Raises:
        IntegrityError: if the stored hash does not match the entry, the event is not a
            valid genesis, or its signatures do not verify or fall short of its own admin
            threshold.
    """
    try:
        expected = entry_hash(
            seq=0,
            recorded_at_us=recorded_at_us,
            prev_hash=prev_hash,
            event_bytes=event_bytes,
            signatures=signatures,
            postings=postings,
        )
    except (LedgerError, TypeError, ValueError, AttributeError) as e:
        raise _broken(f"it cannot be hashed ({e})") from e
    if prev_hash != GENESIS_PREV_HASH or expected != stored_hash:
        raise _broken("its stored hash does not match its contents")
    try:
        event = event_from_bytes(event_bytes)
    except LedgerError as e:
        raise _broken(f"its event cannot be read ({e})") from e
    if not isinstance(event, Genesis):
        raise _broken(f"it is a {event.type!r} event, not a genesis")
    policy = Policy.from_config(genesis_config_record(event))
    if len(signatures) > SIGNATURES_MAX:
        raise _broken(f"it carries more than {SIGNATURES_MAX} signatures")
    known = {key.key_id: key for key in genesis_keys(event)}
    message = genesis_signing_input(event.origin, event_bytes)
    signers: list[KeyRecord] = []
    for signature in signatures:
        key = known.get(signature.key_id)
        if key is None or not verify_signature(key.public_key, message, signature.signature):
            raise _broken(f"the signature by key {signature.key_id} is not by one of its admins")
        signers.append(key)
    try:
        policy.admins().check(signers)
    except LedgerError as e:
        raise _broken(f"its admins' signatures fall short: {e}") from e
    return LedgerConfig(
        origin=event.origin,
        log_key=public_key_from_b64(event.log_key),
        policy=policy,
        ledger_id=ledger_id_of(event_bytes),
    )


def _broken(reason: str) -> IntegrityError:
    return IntegrityError(
        f"entry 0, the genesis, does not verify: {reason}", seq=0, hint=_RESTORE_HINT
    )
