"""Events: typed business facts, built by the caller and signed before they are appended.

Every event has a client-generated ``id`` (its idempotency key), an ``effective_at``
business date, an optional ``memo`` and a ``type`` tag. Events are parsed strictly:
unknown fields, floats or bools where integers belong, and oversize values are refused.

An event kind becomes known when the domain registers its handler
(``points_ledger.domain.state.register_handler``, which calls :func:`register_event`);
:func:`points_ledger.canonical.parse_event` (a dict or JSON text, as a web form gives it)
and :func:`points_ledger.canonical.event_from_bytes` (stored bytes) know every registered
kind.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeVar

import pydantic
from pydantic import Field, TypeAdapter, model_validator

from points_ledger.errors import InvalidEventError
from points_ledger.models.common import (
    AccountId,
    AccountKind,
    Amount,
    Asset,
    EventId,
    FrozenModel,
    GridPath,
    Memo,
    Origin,
    PublicKeyB64,
    Role,
    describe_validation_error,
)

__all__ = [
    "BACKDATE_DAYS_DEFAULT",
    "BACKDATE_DAYS_LIMIT",
    "Event",
    "Genesis",
    "KeySpec",
    "OpenAccount",
    "Posting",
    "RecoverKey",
    "RegisterKey",
    "Reverse",
    "RevokeKey",
    "Transfer",
    "event_types",
    "register_event",
]

_E = TypeVar("_E", bound="Event")

BACKDATE_DAYS_DEFAULT: Final = 366
"""How many days before its recording day an entry may be dated, unless genesis says."""
BACKDATE_DAYS_LIMIT: Final = 3660
"""The most a genesis policy may allow (ten years)."""
_SEPARATED_ROLES = frozenset({Role.COMMITTEE, Role.TREASURER})
_REGISTRY: dict[str, type[Event]] = {}
_adapter: TypeAdapter[Any] | None = None


class Posting(FrozenModel):
    """One movement of value: ``amount`` added to ``account``'s balance of ``asset``.

    A negative amount takes value out of the account (a debit), a positive one puts value
    in (a credit). The postings of one entry sum to zero for each asset.
    """

    account: AccountId
    asset: Asset
    amount: Amount

    @model_validator(mode="after")
    def _nonzero(self) -> Posting:
        if self.amount == 0:
            raise ValueError("a posting amount must not be zero")
        return self

    def __eq__(self, other: object) -> bool:
        # ``verify()`` compares every entry's stored postings with the re-derived ones.
        # Two postings whose fields are the same objects-equal are equal under pydantic's
        # rules too (same class, no private or extra attributes); anything else, equal or
        # not, is decided by pydantic's comparison.
        if type(self) is Posting and type(other) is Posting and self.__dict__ == other.__dict__:
            return True
        return super().__eq__(other)


class Event(FrozenModel):
    """Base of every event kind.

    Attributes:
        type: The event kind tag (set by each subclass).
        id: Client-generated idempotency key, unique in the ledger.
        effective_at: The business date the fact belongs to (used by reports).
        memo: Optional free text; keep personal data out of it.
        not_after: Optional validity bound set by whoever signs: the event may only be
            recorded on or before this date (the recording time's date in
            Asia/Shanghai). A signed event that was refused, or never sent, cannot be
            replayed after it. Left out of the event bytes when unset.
    """

    kind: ClassVar[str]
    omitted_when_default: ClassVar[frozenset[str]] = frozenset()
    """Fields left out of the canonical bytes while they hold their default value.

    Fields added after a kind was first released go here, so that the bytes of events
    written before them stay canonical (and their signatures valid)."""
    type: str
    id: EventId
    effective_at: dt.date
    memo: Memo = ""
    not_after: dt.date | None = None

    # pydantic's own entry points raise InvalidEventError too, as construction does (ADR
    # 0003, 0006). Only events do this: other models' callers (receipts) turn pydantic's
    # errors into errors of their own kind.
    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a Python object as this event (strict, as construction is).

        Raises:
            InvalidEventError: naming the event class, the fields and the reasons.
        """
        try:
            return super().model_validate(obj, *args, **kwargs)
        except pydantic.ValidationError as e:
            raise _invalid(cls, e) from e

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate JSON text as this event (dates as ``"YYYY-MM-DD"``, kinds by value).

        Raises:
            InvalidEventError: naming the event class, the fields and the reasons.
        """
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except pydantic.ValidationError as e:
            raise _invalid(cls, e) from e
        except (ValueError, RecursionError) as e:
            raise InvalidEventError(f"{cls.__name__}: the text is not valid JSON: {e}") from e

    @classmethod
    def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a structure of strings as this event.

        Raises:
            InvalidEventError: naming the event class, the fields and the reasons.
        """
        try:
            return super().model_validate_strings(obj, *args, **kwargs)
        except pydantic.ValidationError as e:
            raise _invalid(cls, e) from e


def _invalid(cls: type[Event], error: pydantic.ValidationError) -> InvalidEventError:
    return InvalidEventError(f"{cls.__name__}: {describe_validation_error(error)}")


def register_event(cls: type[_E]) -> type[_E]:
    """Make an event kind known to ``canonical.event_from_bytes`` (idempotent per class).

    The domain's ``register_handler`` calls it: an event kind is registered together
    with the rules that derive its postings, in one call.

    Raises:
        ValueError: if another class already registered the same ``type`` tag, or the
            event has a float field anywhere (amounts are integers; canonical bytes of
            events are computed on the assumption that no floats occur).
    """
    global _adapter
    tag = cls.model_fields["type"].default
    if not isinstance(tag, str) or not tag:
        raise ValueError(f"{cls.__name__} needs a default string 'type' field")
    if _has_number_type(cls.model_json_schema()):
        raise ValueError(f"{cls.__name__} has a float field; use int or a string form")
    if tag in _REGISTRY and _REGISTRY[tag] is not cls:
        raise ValueError(f"event type {tag!r} is already registered")
    cls.kind = tag
    _REGISTRY[tag] = cls
    _adapter = None
    return cls


def _has_number_type(schema: object) -> bool:
    if isinstance(schema, dict):
        if schema.get("type") == "number":
            return True
        return any(_has_number_type(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_number_type(v) for v in schema)
    return False


def event_types() -> dict[str, type[Event]]:
    """Return every registered event kind by its ``type`` tag."""
    return dict(_REGISTRY)


def event_adapter() -> TypeAdapter[Any]:
    """Return a pydantic adapter for the union of all registered event kinds."""
    global _adapter
    if _adapter is None:
        members = tuple(_REGISTRY.values())
        union: Any = (
            members[0]
            if len(members) == 1
            else Annotated[_union_of(members), Field(discriminator="type")]
        )
        _adapter = TypeAdapter(union)
    return _adapter


def _union_of(members: tuple[type[Event], ...]) -> Any:
    from typing import Union

    return Union[members]  # noqa: UP007 - built at run time from the registry


class KeySpec(FrozenModel):
    """A public key as it is registered: its roles and the account that owns it.

    ``owner`` is the account the key speaks for (a member's phone key, a partner's till);
    keys of office-holders such as admins or committee members name the holder's own
    account when they have one, so that two keys of one person count once in a quorum.
    """

    public_key: PublicKeyB64
    roles: Annotated[tuple[Role, ...], Field(min_length=1, max_length=6)]
    owner: AccountId | None = None

    @model_validator(mode="after")
    def _unique_roles(self) -> KeySpec:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must not repeat")
        return self


class Genesis(Event):
    """The first entry of every ledger: its name, log key, first admins and thresholds.

    Signed by at least ``admin_threshold`` of the listed admin keys. Opens the system
    accounts ``issuer`` (mints points) and ``external`` (money entering or leaving).
    Its bytes define the ledger id (see :func:`points_ledger.canonical.ledger_id_of`) that
    every later signature binds; ``nonce`` (16 random bytes in hex, chosen by
    :meth:`Ledger.create <points_ledger.Ledger.create>`) makes that id unique even for two
    ledgers with the same origin and admins.

    Attributes:
        admin_threshold: How many different admins must sign administrative events. A
            ledger where one admin acts alone (``1``) is allowed, but ``audit()`` lists it.
        committee_threshold: How many different committee members must sign grants,
            split policies, rosters, distributions and transfers out of pools and funds.
        backdate_days_max: How many days before the day an entry is recorded (in
            Asia/Shanghai) its ``effective_at`` may lie; default 366. No entry may be
            dated later than the day after it is recorded.
        admin_may_also_hold: Roles (``committee``, ``treasurer``) a person holding an
            admin key may also hold. Empty by default: the people who register keys are
            not the people whose quorum moves the pools and funds.
    """

    omitted_when_default: ClassVar[frozenset[str]] = frozenset(
        {"backdate_days_max", "admin_may_also_hold"}
    )
    type: Literal["genesis"] = "genesis"
    origin: Origin
    nonce: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    log_key: PublicKeyB64
    admins: Annotated[tuple[KeySpec, ...], Field(min_length=1, max_length=32)]
    admin_threshold: Annotated[int, Field(ge=1, le=32)] = 1
    committee_threshold: Annotated[int, Field(ge=1, le=32)] = 2
    backdate_days_max: Annotated[int, Field(ge=0, le=BACKDATE_DAYS_LIMIT)] = BACKDATE_DAYS_DEFAULT
    admin_may_also_hold: Annotated[tuple[Role, ...], Field(max_length=2)] = ()

    @model_validator(mode="after")
    def _check(self) -> Genesis:
        if self.admin_threshold > len(self.admins):
            raise ValueError("admin_threshold is larger than the number of admin keys")
        if any(spec.roles != (Role.ADMIN,) for spec in self.admins):
            # Genesis keys name no owner, and committee, treasurer and issuer keys must
            # name their person: two owner-less admin keys with the committee role would
            # make the admin quorum the committee quorum, with nobody seated.
            raise ValueError(
                "a genesis key holds only the admin role; register other roles later, "
                "with the owner account of the person who holds them"
            )
        if len({spec.public_key for spec in self.admins}) != len(self.admins):
            raise ValueError("admin keys must not repeat")
        if any(spec.public_key == self.log_key for spec in self.admins):
            raise ValueError("the log key must be kept apart from the admin keys")
        extra = set(self.admin_may_also_hold)
        if len(extra) != len(self.admin_may_also_hold) or not extra <= _SEPARATED_ROLES:
            raise ValueError(
                "admin_may_also_hold lists each of 'committee' and 'treasurer' at most once"
            )
        return self


class OpenAccount(Event):
    """Open an account of a kind, optionally placed in the grid hierarchy. Admin-signed."""

    type: Literal["open_account"] = "open_account"
    account: AccountId
    account_kind: AccountKind
    grid: GridPath = ()


class RegisterKey(Event):
    """Register a public key with roles and an owner account. Admin-signed."""

    type: Literal["register_key"] = "register_key"
    key: KeySpec


class RecoverKey(Event):
    """Replace the keys of an account whose holder lost them (a lost or stolen phone).

    Registers ``key`` for the account ``key.owner`` names and, in the same entry,
    revokes every unrevoked key that account owns. Because the holder cannot sign, it
    needs more than the admins: the admin quorum *and* the committee quorum, and no key
    of the account itself. The entry stays in the log, so the holder can see who did it.
    """

    type: Literal["recover_key"] = "recover_key"
    key: KeySpec
    reason: Annotated[Memo, Field(min_length=1)]


class RevokeKey(Event):
    """Revoke a registered key from this entry on. Admin-signed; revocation is final."""

    type: Literal["revoke_key"] = "revoke_key"
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    reason: Annotated[Memo, Field(min_length=1)]


class Transfer(Event):
    """A generic multi-posting movement for anything no specific event covers.

    Signed by the owner of every account it takes value from; for system accounts
    (``issuer``, ``external``) by the admin quorum. Postings must sum to zero per asset.
    """

    type: Literal["transfer"] = "transfer"
    postings: Annotated[tuple[Posting, ...], Field(min_length=2, max_length=64)]

    @model_validator(mode="after")
    def _balanced(self) -> Transfer:
        totals: defaultdict[Asset, int] = defaultdict(int)
        for posting in self.postings:
            totals[posting.asset] += posting.amount
        unbalanced = sorted(asset.value for asset, total in totals.items() if total != 0)
        if unbalanced:
            raise ValueError(f"postings do not sum to zero for {', '.join(unbalanced)}")
        return self


class Reverse(Event):
    """A compensating entry: the exact negation of the postings of entry ``target_seq``.

    Admin-signed. An entry can be reversed once; a reversal itself cannot be reversed
    (append the original event again under a new id instead).
    """

    type: Literal["reverse"] = "reverse"
    target_seq: Annotated[int, Field(ge=0)]
    reason: Annotated[Memo, Field(min_length=1)]
