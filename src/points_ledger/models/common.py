"""Value types shared by every model: assets, accounts, roles, amounts, ids.

Every limit here is deliberate: a ledger that accepts unbounded input can be made slow
or unreadable by one bad client.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Final

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from points_ledger._base64 import Base64Error, decode_b64, encode_b64
from points_ledger._ed25519_points import point_problem
from points_ledger.errors import InvalidEventError, LedgerError

__all__ = [
    "AMOUNT_MAX",
    "BALANCE_ABS_MAX",
    "CONSTRAINED_KINDS",
    "POSITION_MAX",
    "SYSTEM_KINDS",
    "AccountId",
    "AccountKind",
    "Amount",
    "Asset",
    "EventId",
    "FrozenModel",
    "GridPath",
    "KeyId",
    "Memo",
    "Origin",
    "PublicKeyB64",
    "Role",
    "SignatureB64",
    "describe_validation_error",
]

AMOUNT_MAX: Final = 10**15
"""Largest absolute amount in one posting (10^15 fen is ten trillion yuan).

It keeps every number exactly representable in RFC 8785 canonical JSON (below 2^53).
"""
BALANCE_ABS_MAX: Final = 2**62
"""Largest absolute posted or pending balance of any account, in one asset's units.

4,611,686,018,427,387,904 (about 4.6 * 10^18) leaves SQLite's 64-bit integers room to
spare, so a balance never overflows the file; an entry that would take any account,
system accounts included, past it is refused with ``LimitExceededError``.
"""

POSITION_MAX: Final = 2**62
"""Largest entry number, tree size or count an argument may name.

No ledger comes near it, and refusing anything larger before it is used keeps every such
number printable and storable (SQLite integers are 64-bit; Python refuses to print
integers of more than 4,300 digits).
"""


_PATTERN_WORDS: Final[dict[str, str]] = {
    r"^[a-z0-9._:-]{1,64}$": "1 to 64 of lowercase a-z, digits and . _ : - (an id such as "
    "vol:0001, never a person's name)",
    r"^[A-Za-z0-9._:-]{1,64}$": "1 to 64 of letters A-Z a-z, digits and . _ : -",
    r"^[A-Za-z0-9._:-]{1,32}$": "1 to 32 of letters A-Z a-z, digits and . _ : -",
    r"^[a-z0-9_-]{1,32}$": "1 to 32 of lowercase a-z, digits, _ and - (e.g. gas-check)",
    r"^[0-9a-f]{16}$": "16 lowercase hex digits (a key id)",
    r"^[0-9a-f]{32}$": "32 lowercase hex digits (16 random bytes; Ledger.create chooses them)",
    r"^V[0-9]{8,12}$": "V and 8 to 12 digits, as printed on the voucher (e.g. V00000042)",
    r"^[a-z0-9][a-z0-9.-]{0,62}(/[A-Za-z0-9._-]{1,64}){0,8}$": "a name like "
    "chengdu.example/chenghua/zhiqiang: lowercase a-z, digits, . and - first, then up to 8 "
    "/parts of letters, digits and . _ -",
}
"""What each id pattern of the models allows, in words (the messages show these)."""

_SHOWN_INPUT_MAX = 40


def _plain_reason(item: Any) -> str:
    """One pydantic error item as a reason a community worker can act on."""
    kind, ctx = item.get("type"), item.get("ctx") or {}
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_WORDS:
        shown = repr(item.get("input"))
        if len(shown) > _SHOWN_INPUT_MAX:
            shown = shown[: _SHOWN_INPUT_MAX - 1] + "…"
        return f"{shown} is not allowed here; use {_PATTERN_WORDS[ctx['pattern']]}"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this record"
    message = str(item.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def describe_validation_error(error: pydantic.ValidationError) -> str:
    """Summarise a pydantic validation error in one plain line (fields and reasons)."""
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "value"
        parts.append(f"{where}: {_plain_reason(item)}")
    more = error.error_count() - len(parts)
    suffix = f" (and {more} more)" if more > 0 else ""
    return "; ".join(parts) + suffix


EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""The Unix epoch: ledger times are whole microseconds since it (UTC)."""
_ONE_US: Final = dt.timedelta(microseconds=1)


def to_microseconds(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch for an aware ``datetime``.

    Raises:
        InvalidEventError: if it is not a datetime, or has no time zone.
    """
    if not isinstance(moment, dt.datetime):
        raise InvalidEventError(
            f"a time must be a datetime, not {type(moment).__name__} (is the clock right?)"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError("times must carry a time zone (use datetime.now(UTC))")
    return (moment - EPOCH) // _ONE_US


def from_microseconds(value: int) -> dt.datetime:
    """The aware UTC ``datetime`` for microseconds since the Unix epoch.

    Raises:
        OverflowError: if ``value`` is beyond the years ``datetime`` can hold.
        TypeError: if ``value`` is not a number.
    """
    return EPOCH + dt.timedelta(microseconds=value)


class FrozenModel(BaseModel):
    """Base for every record: immutable, strictly typed, no unknown fields.

    Constructing a model with bad values raises
    :class:`~points_ledger.errors.InvalidEventError` (a ``LedgerError``) that names the
    model, the field and the reason; the pydantic error is its ``__cause__``.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as e:
            raise type(self).validation_failed(e) from e

    @classmethod
    def validation_failed(cls, error: pydantic.ValidationError) -> LedgerError:
        """The ledger error construction raises for ``error`` (a family may override it).

        Records raise ``InvalidEventError``; the split package's models raise
        ``SplitError`` by overriding this one method, so every model shares this base.
        """
        return InvalidEventError(f"{cls.__name__}: {describe_validation_error(error)}")

    # Tell pydantic this __init__ only wraps errors (as RootModel's does), so that parsing
    # stored JSON and nested models keeps pydantic's own strict JSON-mode validation.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class Asset(StrEnum):
    """What a posting counts.

    ``PTS`` are happiness-card points (whole points, scale 0). ``CNY`` is money kept in
    integer fen (scale 2: 100 fen = 1 yuan). Amounts are always Python ``int``.
    """

    PTS = "PTS"
    CNY = "CNY"

    @property
    def scale(self) -> int:
        """Number of decimal places the integer amount carries (0 for PTS, 2 for CNY)."""
        return 2 if self is Asset.CNY else 0

    def format_amount(self, amount: int) -> str:
        """Render an integer amount for people, e.g. ``12,345`` PTS or ``1,234.05`` CNY."""
        if self.scale == 0:
            return f"{amount:,}"
        sign = "-" if amount < 0 else ""
        whole, frac = divmod(abs(amount), 10**self.scale)
        return f"{sign}{whole:,}.{frac:0{self.scale}d}"


class AccountKind(StrEnum):
    """The kind of an account, which fixes its balance rule.

    System kinds (``issuer`` mints points, ``external`` is money entering or leaving)
    may go below zero; every other kind may never have a negative available balance.
    """

    MEMBER = "member"
    PARTNER = "partner"
    POOL = "pool"
    FUND = "fund"
    BENEFICIARY = "beneficiary"
    SHAREHOLDER = "shareholder"
    INVESTOR = "investor"
    ISSUER = "issuer"
    EXTERNAL = "external"

    @property
    def constrained(self) -> bool:
        """True when balances of this kind may never go below zero."""
        return self not in SYSTEM_KINDS


SYSTEM_KINDS: Final = frozenset({AccountKind.ISSUER, AccountKind.EXTERNAL})
"""Account kinds whose balance may be negative."""

CONSTRAINED_KINDS: Final = frozenset(k for k in AccountKind if k not in SYSTEM_KINDS)
"""Account kinds whose available balance may never be negative."""


class Role(StrEnum):
    """What a registered key may authorise."""

    ADMIN = "admin"
    ISSUER = "issuer"
    PARTNER = "partner"
    MEMBER = "member"
    COMMITTEE = "committee"
    TREASURER = "treasurer"


def _check_printable(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _check_b64(expected_len: int) -> AfterValidator:
    def check(value: str) -> str:
        try:
            raw = decode_b64(value, canonical=False)
        except Base64Error as e:
            raise ValueError("must be standard base64") from e
        if len(raw) != expected_len or encode_b64(raw) != value:
            raise ValueError(f"must encode exactly {expected_len} bytes in canonical base64")
        return value

    return AfterValidator(check)


AccountId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9._:-]{1,64}$")]
"""Opaque account id: 1-64 of ``a-z 0-9 . _ : -``. Never a real name."""

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
"""Client-chosen idempotency key of an event: 1-64 of ``A-Z a-z 0-9 . _ : -``."""

KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
"""Key id: 16 lowercase hex digits derived from the public key (see ``keys.key_id``)."""

Origin = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}(/[A-Za-z0-9._-]{1,64}){0,8}$"),
]
"""The ledger's name, e.g. ``chengdu.example/chenghua/zhiqiang``: a host-like first part."""

Memo = Annotated[str, StringConstraints(max_length=280), AfterValidator(_check_printable)]
"""Free text up to 280 characters, printable, no line breaks. Keep personal data out."""

GridCell = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_printable)
]

GridPath = Annotated[tuple[GridCell, ...], Field(max_length=5)]
"""District / street / community / general grid / micro-grid, outermost first."""

Amount = Annotated[int, Field(ge=-AMOUNT_MAX, le=AMOUNT_MAX)]
"""A signed integer amount in the asset's smallest unit."""


def _check_public_key(value: str) -> str:
    problem = point_problem(decode_b64(value, canonical=False))
    if problem is not None:
        raise ValueError(f"the public key {problem}; make a new key pair")
    return value


PublicKeyB64 = Annotated[str, _check_b64(32), AfterValidator(_check_public_key)]
"""A raw 32-byte Ed25519 public key in canonical standard base64.

Small-order points and non-canonical encodings are refused (see
``points_ledger._ed25519_points``): with such a key one signature can verify many messages.
"""

SignatureB64 = Annotated[str, _check_b64(64)]
"""A raw 64-byte Ed25519 signature in canonical standard base64."""
