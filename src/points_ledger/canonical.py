r"""The one seam for the exact bytes that get signed and hashed.

* Event bytes are RFC 8785 (JSON Canonicalization Scheme) via the ``rfc8785`` package.
* The signing input of an event is ``b"points-ledger/v2/event\\n" + origin + b"\\n" +
  hex(ledger_id) + b"\\n" + event_bytes``. The prefix separates event signatures from
  every other signature the library makes; the ledger id (the SHA-256 of the genesis
  event's bytes, which carry a random nonce) stops a signature from being replayed on
  another ledger, even one with the same origin (a training ledger, a re-created one, a
  fork). The genesis event itself is signed over ``b"points-ledger/v2/genesis\\n" +
  origin + b"\\n" + event_bytes``.
* The entry hash is ``SHA-256(b"points-ledger/v1/entry\\n" + JCS(header))`` where the header
  holds seq, recorded_at, prev_hash, the SHA-256 of the event bytes, the signatures and
  the postings.

Stored bytes are kept and verified as they are; decoding re-encodes only to detect bytes
that are not canonical.
"""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import pydantic
import rfc8785

from points_ledger._base64 import encode_b64
from points_ledger.errors import InvalidEventError
from points_ledger.models.common import describe_validation_error
from points_ledger.models.entries import Signature
from points_ledger.models.events import Event, Posting, event_adapter, event_types

__all__ = [
    "ENTRY_DOMAIN",
    "EVENT_BYTES_MAX",
    "EVENT_DOMAIN",
    "GENESIS_DOMAIN",
    "GENESIS_PREV_HASH",
    "LEDGER_ID_DOMAIN",
    "canonical_json",
    "canonical_json_float_free",
    "entry_hash",
    "entry_header",
    "event_from_bytes",
    "event_to_bytes",
    "genesis_signing_input",
    "ledger_id_of",
    "parse_event",
    "signing_input",
]

EVENT_DOMAIN: Final = b"points-ledger/v2/event\n"
"""Prefix of every event signing input (domain separation from all other signatures)."""
GENESIS_DOMAIN: Final = b"points-ledger/v2/genesis\n"
"""Prefix of the genesis event's signing input (it has no ledger id to bind yet)."""
LEDGER_ID_DOMAIN: Final = b"points-ledger/v2/ledger-id\n"
"""Prefix of the bytes hashed into a ledger id."""
ENTRY_DOMAIN: Final = b"points-ledger/v1/entry\n"
"""Prefix of the bytes hashed into an entry hash."""
EVENT_BYTES_MAX: Final = 64 * 1024
"""Largest canonical event accepted (64 KiB)."""
GENESIS_PREV_HASH: Final = bytes(32)
"""The ``prev_hash`` of entry 0: 32 zero bytes."""


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical bytes of a JSON-compatible value.

    Raises:
        InvalidEventError: if the value cannot be canonicalised (e.g. a float out of
            range or an integer beyond 2^53).
    """
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidEventError(f"value cannot be written as canonical JSON: {e}") from e


_NON_BMP: Final = re.compile(rb"[\xf0-\xf4]")
_LONG_DIGITS: Final = re.compile(rb"[0-9]{16,}")
_JCS_INT_MAX: Final = 2**53 - 1
_DIGITS_AS_NINES: Final = bytes.maketrans(b"0123456789", b"9" * 10)
_SIXTEEN_NINES: Final = b"9" * 16
_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
"""``json.dumps`` with the options below, made once (it keeps no state between calls)."""


def _needs_reference(text: str, data: bytes) -> bool:
    """True if ``data`` (``text`` in UTF-8) holds a non-BMP character or an integer past 2^53.

    Both are found by cheap scans first (``str.isascii``; a run of 16 digits in the text
    with every digit mapped to 9), and only a text that has such a run is searched with
    the regular expressions; a JSON integer beyond 2^53 has at least 16 digits.
    """
    if not text.isascii() and _NON_BMP.search(data):
        return True
    if _SIXTEEN_NINES not in data.translate(_DIGITS_AS_NINES):
        return False
    return any(int(run) > _JCS_INT_MAX for run in _LONG_DIGITS.findall(data))


def canonical_json_float_free(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value known to contain no floats, computed quickly.

    For values without floats, the standard library's ``json.dumps`` with sorted keys,
    no whitespace and no ASCII escaping produces exactly the RFC 8785 bytes, except for
    non-BMP characters (RFC 8785 sorts keys by UTF-16 code units) and integers beyond
    2^53 (which RFC 8785 refuses). Output containing either, or that cannot be encoded,
    is recomputed with the ``rfc8785`` package, which stays the reference (a property
    test checks that both agree). Callers must guarantee there are no floats: event
    models are checked for float fields when they are registered.

    Raises:
        InvalidEventError: if the value cannot be canonicalised.
    """
    try:
        text = _ENCODER.encode(value)
        data = text.encode("utf-8")
    except (TypeError, ValueError, UnicodeError):
        return canonical_json(value)
    # Non-BMP characters order keys differently in UTF-16; integers beyond 2^53 are
    # refused by RFC 8785. Either one sends the value to the reference implementation.
    if _needs_reference(text, data):
        return canonical_json(value)
    return data


def event_to_bytes(event: Event) -> bytes:
    """Return the canonical bytes of an event (what is signed and stored).

    The event is validated again first: one built with ``model_construct`` (which skips
    pydantic) could otherwise carry a float amount, an oversize memo or unbalanced
    postings into bytes that get signed and stored, and that ``verify()`` then refuses.

    Raises:
        InvalidEventError: if the event is not valid, or larger than
            :data:`EVENT_BYTES_MAX`.
    """
    try:
        checked = type(event).model_validate(event.model_dump(warnings=False))
    except pydantic.ValidationError as e:
        raise InvalidEventError(f"{type(event).__name__}: {describe_validation_error(e)}") from e
    return _encode(checked)


def _encode(event: Event) -> bytes:
    fields = type(event).model_fields
    omitted = {
        name
        for name in type(event).omitted_when_default
        if getattr(event, name) == fields[name].default
    }
    dumped = event.model_dump(mode="json", exclude=omitted)
    if dumped.get("not_after") is None:
        # An unset validity bound is left out, so events that do not use it encode as
        # they always have; a stored ``"not_after": null`` is therefore not canonical.
        dumped.pop("not_after", None)
    data = canonical_json_float_free(dumped)
    if len(data) > EVENT_BYTES_MAX:
        raise InvalidEventError(
            f"event {event.id!r} is {len(data):,} bytes; the limit is {EVENT_BYTES_MAX:,}"
        )
    return data


def event_from_bytes(data: bytes) -> Event:
    """Parse stored or received event bytes, refusing anything that is not canonical.

    Raises:
        InvalidEventError: if the bytes are too long, not UTF-8 JSON, not a known valid
            event, or not exactly the canonical encoding of the event they describe.
    """
    if not isinstance(data, bytes):
        raise InvalidEventError("event bytes must be bytes")
    if len(data) > EVENT_BYTES_MAX:
        raise InvalidEventError(f"event bytes exceed the {EVENT_BYTES_MAX:,}-byte limit")
    try:
        event = event_adapter().validate_json(data)
    except pydantic.ValidationError as e:
        raise InvalidEventError(f"stored event is not valid: {describe_validation_error(e)}") from e
    except (ValueError, UnicodeError) as e:
        raise InvalidEventError(f"stored event is not valid JSON: {e}") from e
    if not isinstance(event, Event):
        raise InvalidEventError("stored bytes do not describe an event")
    # The event was just validated from these bytes, so encoding it needs no second check.
    if _encode(event) != data:
        raise InvalidEventError(f"event {event.id!r} is not in canonical RFC 8785 form")
    return event


def parse_event(data: Mapping[str, Any] | str | bytes) -> Event:
    """Build an event from a dict or JSON text, as a web form or a request body gives it.

    Values are read as JSON carries them: a date as ``"2026-11-25"``, an account kind
    as ``"member"``, an asset as ``"PTS"``, a list where the model has a tuple. The
    ``type`` field names the event kind (``"open_account"``, ``"transfer"``, ...; see
    :func:`~points_ledger.models.events.event_types`). Numbers must be whole numbers
    where the model has integers: ``5.0``, ``"5"`` and ``true`` are refused, as when
    events are built in Python.

    Args:
        data: A mapping of JSON values (str, int, bool, None, lists, dicts), or JSON
            text (``str`` or UTF-8 ``bytes``) of one object, at most ``EVENT_BYTES_MAX``
            long.

    Returns:
        The event, exactly as if it had been constructed in Python.

    Raises:
        InvalidEventError: naming the field and the reason in plain words, if ``data``
            is not one JSON object describing a valid event of a known kind.
    """
    if isinstance(data, str | bytes):
        if len(data) > EVENT_BYTES_MAX:
            raise InvalidEventError(f"an event is at most {EVENT_BYTES_MAX:,} bytes of JSON")
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise InvalidEventError(f"the event is not valid JSON: {e}") from e
    elif isinstance(data, Mapping):
        document = data
    else:
        raise InvalidEventError(
            f"an event is built from a dict or JSON text, not {type(data).__name__}"
        )
    if not isinstance(document, Mapping):
        raise InvalidEventError("an event is one JSON object ({...}), not a list or a value")
    kinds = event_types()
    tag = document.get("type")
    if not isinstance(tag, str) or tag not in kinds:
        names = ", ".join(sorted(k for k in kinds if k != "genesis"))
        shown = "missing" if tag is None else f"{tag!r}, which is not an event kind"
        raise InvalidEventError(f"type: {shown}; use one of {names}")
    try:
        text = json.dumps(dict(document), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidEventError(
            f"the event holds a value JSON cannot carry ({e}); give dates as "
            '"YYYY-MM-DD" text and amounts as whole numbers'
        ) from e
    if len(text.encode("utf-8")) > EVENT_BYTES_MAX:
        raise InvalidEventError(f"an event is at most {EVENT_BYTES_MAX:,} bytes of JSON")
    return kinds[tag].model_validate_json(text)


def ledger_id_of(genesis_event_bytes: bytes) -> bytes:
    """The ledger id: ``SHA-256(LEDGER_ID_DOMAIN + genesis_event_bytes)`` (32 bytes).

    The genesis event names the origin, the log key, the first admins and a random nonce,
    so two ledgers never share an id, even when every other field is the same.
    """
    return hashlib.sha256(LEDGER_ID_DOMAIN + genesis_event_bytes).digest()


def signing_input(origin: str, ledger_id: bytes, event_bytes: bytes) -> bytes:
    """Return the bytes an authorising key signs for an event on one ledger.

    Args:
        origin: The ledger's origin name.
        ledger_id: The ledger's id (:func:`ledger_id_of` its genesis event bytes).
        event_bytes: The canonical event bytes.

    Raises:
        InvalidEventError: if ``ledger_id`` is not 32 bytes.
    """
    if not isinstance(ledger_id, bytes) or len(ledger_id) != 32:
        raise InvalidEventError("a ledger id is 32 bytes (the SHA-256 of the genesis event)")
    return _signing_prefix(origin, ledger_id) + event_bytes


@functools.lru_cache(maxsize=64)
def _signing_prefix(origin: str, ledger_id: bytes) -> bytes:
    """What :func:`signing_input` puts before the event bytes (the same for a whole ledger)."""
    return EVENT_DOMAIN + origin.encode("utf-8") + b"\n" + ledger_id.hex().encode("ascii") + b"\n"


def genesis_signing_input(origin: str, event_bytes: bytes) -> bytes:
    """Return the bytes the first admins sign for the genesis event of ``origin``."""
    return GENESIS_DOMAIN + origin.encode("utf-8") + b"\n" + event_bytes


def entry_header(
    *,
    seq: int,
    recorded_at_us: int,
    prev_hash: bytes,
    event_bytes: bytes,
    signatures: Sequence[Signature],
    postings: Sequence[Posting],
) -> bytes:
    """Return the canonical bytes of an entry header (everything the entry hash covers).

    The header's keys are fixed ASCII names, so for the usual values (whole numbers within
    2^53, text without characters beyond the BMP, bytes) its RFC 8785 form is written
    directly, field by field, in sorted key order. Anything else (values read from a
    damaged file, a huge number) takes the general path through
    :func:`canonical_json_float_free`; a property test checks that both give the same bytes.
    """
    fast = _entry_header_fast(seq, recorded_at_us, prev_hash, event_bytes, signatures, postings)
    if fast is not None:
        return fast
    header = {
        "v": 1,
        "seq": seq,
        "recorded_at_us": recorded_at_us,
        "prev_hash": prev_hash.hex(),
        "event_sha256": hashlib.sha256(event_bytes).hexdigest(),
        "signatures": [{"key_id": s.key_id, "sig": encode_b64(s.signature)} for s in signatures],
        "postings": [
            {"account": p.account, "asset": str(p.asset), "amount": p.amount} for p in postings
        ],
    }
    return canonical_json_float_free(header)


_json_string: Final[Callable[[str], str]] = json.encoder.encode_basestring
"""The JSON text of a string as ``json.dumps(..., ensure_ascii=False)`` writes it."""


def _whole(value: object) -> bool:
    return type(value) is int and -_JCS_INT_MAX <= value <= _JCS_INT_MAX


def _entry_header_fast(
    seq: int,
    recorded_at_us: int,
    prev_hash: bytes,
    event_bytes: bytes,
    signatures: Sequence[Signature],
    postings: Sequence[Posting],
) -> bytes | None:
    """:func:`entry_header`'s bytes written by hand, or None where the general path must run."""
    if not (_whole(seq) and _whole(recorded_at_us) and type(prev_hash) is bytes):
        return None
    if type(event_bytes) is not bytes:
        return None
    items = []
    for p in postings:
        account, amount = p.account, p.amount
        if type(account) is not str or not _whole(amount):
            return None
        items.append(
            f'{{"account":{_json_string(account)},"amount":{amount},'
            f'"asset":{_json_string(str(p.asset))}}}'
        )
    signed = []
    for s in signatures:
        key_id, signature = s.key_id, s.signature
        if type(key_id) is not str or type(signature) is not bytes:
            return None
        signed.append(f'{{"key_id":{_json_string(key_id)},"sig":"{encode_b64(signature)}"}}')
    text = (
        f'{{"event_sha256":"{hashlib.sha256(event_bytes).hexdigest()}",'
        f'"postings":[{",".join(items)}],"prev_hash":"{prev_hash.hex()}",'
        f'"recorded_at_us":{recorded_at_us},"seq":{seq},"signatures":[{",".join(signed)}],"v":1}}'
    )
    if text.isascii():
        return text.encode("ascii")
    try:
        data = text.encode("utf-8")
    except UnicodeError:
        return None  # a lone surrogate: the general path refuses it
    # RFC 8785 writes text beyond the BMP as json.dumps does; the general path is kept for
    # it anyway, so that exactly one path decides every unusual header.
    return None if _NON_BMP.search(data) else data


def entry_hash(
    *,
    seq: int,
    recorded_at_us: int,
    prev_hash: bytes,
    event_bytes: bytes,
    signatures: Sequence[Signature],
    postings: Sequence[Posting],
) -> bytes:
    """Return ``SHA-256(ENTRY_DOMAIN + entry_header(...))``, the entry's hash and leaf."""
    header = entry_header(
        seq=seq,
        recorded_at_us=recorded_at_us,
        prev_hash=prev_hash,
        event_bytes=event_bytes,
        signatures=signatures,
        postings=postings,
    )
    return hashlib.sha256(ENTRY_DOMAIN + header).digest()
