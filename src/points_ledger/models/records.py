"""Typed domain state records, stored as JSON.

Handlers keep some facts as state records (an offer's stock, a hold's status, a
partner's membership, a revenue period's totals). Each kind of record is one frozen
dataclass here, and this module is the one place they are decoded:
:meth:`StateRecord.to_json` gives the JSON value stores keep (the same value the
handlers wrote as a dict before these classes existed, so files written then need no
migration), and :meth:`StateRecord.from_json` reads one back, checking every field's
type (nested records, lists read as tuples, objects kept whole), so a damaged or edited
record is an ``IntegrityError`` naming the record, not a ``KeyError`` deep inside a rule.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Self

from points_ledger.errors import IntegrityError

__all__ = [
    "AwardTotal",
    "HoldRecord",
    "OfferRecord",
    "PartnerRecord",
    "RevenuePeriodRecord",
    "RosterRecord",
    "ServiceRecord",
    "SettlementRateRecord",
    "SettlementRecord",
    "SplitPolicyRecord",
    "SplitPolicyVersion",
    "StateRecord",
]


class StateRecord:
    """Base of the typed state records (frozen dataclasses with JSON-typed fields)."""

    namespace: ClassVar[str]
    """The state namespace the records of this kind are kept under."""

    def to_json(self) -> Any:
        """The JSON value stored for this record (tuples become lists)."""
        spec = _SPECS.get(type(self)) or _spec(type(self))
        return {
            name: getattr(self, name) if exact else _encode(getattr(self, name))
            for name, exact, _, _ in spec.fields
        }

    @classmethod
    def from_json(cls, value: object, key: str = "") -> Self:
        """Read a stored record back, checking every field.

        Raises:
            IntegrityError: if ``value`` is not an object with exactly these fields, each
                of its type.
        """
        spec = _SPECS.get(cls) or _spec(cls)
        if not isinstance(value, dict) or value.keys() != spec.names:
            where = _where(cls, key)
            if not isinstance(value, dict):
                raise IntegrityError(f"the {where} is not a JSON object")
            raise IntegrityError(f"the {where} has other fields than a {cls.__name__}")
        decoded: dict[str, Any] = {}
        for name, exact, allowed, hint in spec.fields:
            item = value[name]
            if type(item) in exact:
                # What JSON decoding gives (str, int, bool, None) of an allowed type: the
                # common case, decided without the checks below.
                decoded[name] = item
                continue
            where = _where(cls, key)
            if allowed is None:
                decoded[name] = _decode(hint, item, where, name)
            elif (isinstance(item, bool) and bool not in allowed) or not isinstance(item, allowed):
                raise IntegrityError(f"the {where} holds {item!r} as {name}")
            else:
                decoded[name] = item
        return cls(**decoded)

    @classmethod
    def read(cls, value: object, key: str = "") -> Self | None:
        """:meth:`from_json` for a record that may be absent (``None`` stays ``None``).

        Raises:
            IntegrityError: as :meth:`from_json`.
        """
        return None if value is None else cls.from_json(value, key)


_SIMPLE: frozenset[type] = frozenset({str, int, bool, type(None)})
_FIELDS: dict[type[StateRecord], dict[str, tuple[tuple[type, ...] | None, Any]]] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class _Spec:
    """How one record class is read and written, worked out once per class.

    ``fields`` holds, per field in declaration order: its name; the exact types a value
    is accepted as without further checks (the field's plain types, empty for a
    structured field); the plain types for the ``isinstance`` check (``None`` for a
    structured field); and the type hint.
    """

    names: frozenset[str]
    fields: tuple[tuple[str, frozenset[type], tuple[type, ...] | None, Any], ...]


_SPECS: dict[type[StateRecord], _Spec] = {}


def _spec(cls: type[StateRecord]) -> _Spec:
    fields = _fields(cls)
    spec = _Spec(
        names=frozenset(fields),
        fields=tuple(
            (name, frozenset(() if allowed is None else allowed), allowed, hint)
            for name, (allowed, hint) in fields.items()
        ),
    )
    _SPECS[cls] = spec
    return spec


def _where(cls: type[StateRecord], key: str) -> str:
    return f"{cls.namespace} record" + (f" {key!r}" if key else "")


def _fields(cls: type[StateRecord]) -> dict[str, tuple[tuple[type, ...] | None, Any]]:
    """Each field's plain types (``None`` for a structured field) and its type hint."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found: dict[str, tuple[tuple[type, ...] | None, Any]] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[f.name]
        members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        plain = tuple(type(None) if m is None else m for m in members)
        simple = all(isinstance(m, type) and m in _SIMPLE for m in plain)
        found[f.name] = (plain if simple else None, hint)
    _FIELDS[cls] = found
    return found


def _decode(hint: Any, item: object, where: str, name: str) -> Any:
    """``item`` read as ``hint``: a nested record, a tuple, an object, or a plain value."""
    wrong = IntegrityError(f"the {where} holds {item!r} as {name}")
    if isinstance(hint, types.UnionType):
        members = typing.get_args(hint)
        if item is None and type(None) in members:
            return None
        others = [m for m in members if m is not type(None)]
        if len(others) != 1:
            raise TypeError(f"unsupported state record field type {hint!r}")
        return _decode(others[0], item, where, name)
    if isinstance(hint, type) and issubclass(hint, StateRecord):
        return hint.from_json(item, name)
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(item, list):
            raise wrong
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, where, name) for v in item)
        if len(item) != len(args):
            raise wrong
        return tuple(_decode(a, v, where, name) for a, v in zip(args, item, strict=True))
    if hint is dict or origin is dict:
        if not isinstance(item, dict):
            raise wrong
        return item
    if hint in (str, int, bool):
        if isinstance(item, bool) is not (hint is bool) or not isinstance(item, hint):
            raise wrong
        return item
    raise TypeError(f"unsupported state record field type {hint!r}")


def _encode(value: Any) -> Any:
    if isinstance(value, StateRecord):
        return value.to_json()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class OfferRecord(StateRecord):
    """An alliance offer, kept under ``offer/<offer id>``.

    Attributes:
        partner: The partner account that listed it.
        item: What it is.
        price_points: The price of one item.
        stock: Items left that no open hold reserves.
        active: False once delisted.
        listed_seq: The entry that listed it.
    """

    namespace: ClassVar[str] = "offer"
    partner: str
    item: str
    price_points: int
    stock: int
    active: bool
    listed_seq: int


@dataclasses.dataclass(frozen=True, slots=True)
class HoldRecord(StateRecord):
    """A redemption hold (its voucher), kept under ``hold/<voucher>``.

    Attributes:
        member: The account redeeming.
        offer: The offer held.
        partner: The offer's partner.
        quantity: Items held.
        points: The points reserved (and paid on confirmation).
        hold_seq: The entry that placed it.
        held_on: Its business date (ISO).
        expires_at_us: When it expires (UTC microseconds, ledger time).
        status: ``pending``, ``confirmed``, ``voided`` or ``expired``.
        closed_seq: The entry that closed it, once closed.
        confirmed_on: The business date of the confirmation (ISO), once confirmed.
        settled_seq: The settlement that paid the partner for it, once settled.
    """

    namespace: ClassVar[str] = "hold"
    member: str
    offer: str
    partner: str
    quantity: int
    points: int
    hold_seq: int
    held_on: str
    expires_at_us: int
    status: str
    closed_seq: int | None
    confirmed_on: str | None
    settled_seq: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceRecord(StateRecord):
    """A catalogue service, kept under ``service/<code>``.

    Attributes:
        code: The service code awards name.
        name: What the service is.
        points_per_unit: Points for one unit of it.
        unit: The unit counted (a ``ServiceUnit`` value).
        points_per_day_max: Most points one volunteer earns with it in a day, if capped.
        points_per_month_max: Most points one volunteer earns with it in a month, if capped.
        active_from: First business date it may be awarded for (ISO).
        active_to: Last business date (ISO), or None for an open end.
        defined_seq: The entry that defined it.
    """

    namespace: ClassVar[str] = "service"
    code: str
    name: str
    points_per_unit: int
    unit: str
    points_per_day_max: int | None
    points_per_month_max: int | None
    active_from: str
    active_to: str | None
    defined_seq: int


@dataclasses.dataclass(frozen=True, slots=True)
class PartnerRecord(StateRecord):
    """An alliance membership, kept under ``alliance/<partner account>``.

    Attributes:
        name: The partner's public name.
        key_id: The partner key registered when it joined.
        joined_seq: The entry that admitted it.
    """

    namespace: ClassVar[str] = "alliance"
    name: str
    key_id: str
    joined_seq: int


@dataclasses.dataclass(frozen=True, slots=True)
class SettlementRateRecord(StateRecord):
    """The settlement rate in force, kept under ``settlement_rate/current``.

    Attributes:
        fen_per_point: What a partner is paid for one redeemed point, in fen.
        set_seq: The entry that set it.
    """

    namespace: ClassVar[str] = "settlement_rate"
    fen_per_point: int
    set_seq: int


@dataclasses.dataclass(frozen=True, slots=True)
class SettlementRecord(StateRecord):
    """What one partner settlement paid for, kept under ``settlement/<seq>``.

    Attributes:
        partner: The partner paid.
        fund: The fund account it was paid from.
        vouchers: The redemption vouchers it covered, in order.
        points: The points those redemptions took (retired by the settlement).
        fen: What was paid, in fen.
        fen_per_point: The rate applied.
    """

    namespace: ClassVar[str] = "settlement"
    partner: str
    fund: str
    vouchers: tuple[str, ...]
    points: int
    fen: int
    fen_per_point: int


@dataclasses.dataclass(frozen=True, slots=True)
class SplitPolicyVersion(StateRecord):
    """One adopted version of a revenue split policy (inside a :class:`SplitPolicyRecord`).

    Attributes:
        version: Its number (1, 2, ...).
        effective_from: First business date it applies to (ISO).
        seq: The entry that adopted it.
        policy: The resolved split policy (``SplitPolicy.to_dict()``), kept whole.
        investor: The investor terms (their JSON form), or None.
    """

    namespace: ClassVar[str] = "revenue.policy"
    version: int
    effective_from: str
    seq: int
    policy: dict[str, Any]
    investor: dict[str, Any] | None


@dataclasses.dataclass(frozen=True, slots=True)
class SplitPolicyRecord(StateRecord):
    """A revenue split policy's versions, kept under ``revenue.policy/<policy id>``.

    Attributes:
        versions: Every version adopted, oldest first.
    """

    namespace: ClassVar[str] = "revenue.policy"
    versions: tuple[SplitPolicyVersion, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RosterRecord(StateRecord):
    """A recorded roster (a snapshot), kept under ``revenue.roster/<roster id>``.

    Attributes:
        seq: The entry that recorded it.
        as_of: The date it describes (ISO).
        shareholders: ``(account, shares)`` pairs.
        villagers: The villager accounts.
    """

    namespace: ClassVar[str] = "revenue.roster"
    seq: int
    as_of: str
    shareholders: tuple[tuple[str, int], ...]
    villagers: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RevenuePeriodRecord(StateRecord):
    """A revenue period's totals, kept under ``revenue.period/<period>``.

    Attributes:
        account: The fund account the period's revenue is recorded in.
        fiscal_year: The fiscal year it belongs to.
        recorded: Revenue recorded in it so far, in fen.
        distributed: Revenue distributed from it so far, in fen.
    """

    namespace: ClassVar[str] = "revenue.period"
    account: str
    fiscal_year: int
    recorded: int
    distributed: int


@dataclasses.dataclass(frozen=True, slots=True)
class AwardTotal(StateRecord):
    """An award counter: points one volunteer earned with one service in a day or month.

    Kept under ``award_day/<...>`` or ``award_month/<...>`` as a bare JSON number (as
    before these classes existed); the entry that paid a task, ``award_task/<...>``, is
    kept the same way and read with this class too.

    Attributes:
        value: The count.
    """

    namespace: ClassVar[str] = "award counter"
    value: int

    def to_json(self) -> Any:
        """The bare number stored."""
        return self.value

    @classmethod
    def from_json(cls, value: object, key: str = "") -> Self:
        """Read a stored counter back.

        Raises:
            IntegrityError: if ``value`` is not a whole number.
        """
        if type(value) is not int:
            where = f"{cls.namespace}" + (f" {key!r}" if key else "")
            raise IntegrityError(f"the {where} holds {value!r}, not a whole number")
        return cls(value)
