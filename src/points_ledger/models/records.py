"""Typed domain state records, stored as JSON objects.

Handlers keep some facts as state records (an offer's stock, a hold's status). Each kind
of record is one frozen dataclass here: :meth:`StateRecord.to_json` gives the JSON object
stores keep (the same object the handlers wrote as a dict before these classes existed,
so files written then need no migration), and :meth:`StateRecord.from_json` reads one
back, checking every field's type, so a damaged or edited record is an
``IntegrityError`` naming the record, not a ``KeyError`` deep inside a rule.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Self

from points_ledger.errors import IntegrityError

__all__ = ["HoldRecord", "OfferRecord", "ServiceRecord", "StateRecord"]


class StateRecord:
    """Base of the typed state records (frozen dataclasses with JSON-typed fields)."""

    namespace: ClassVar[str]
    """The state namespace the records of this kind are kept under."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored for this record."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, value: object, key: str = "") -> Self:
        """Read a stored record back, checking every field.

        Raises:
            IntegrityError: if ``value`` is not an object with exactly these fields, each
                of its type.
        """
        where = f"{cls.namespace} record" + (f" {key!r}" if key else "")
        if not isinstance(value, dict):
            raise IntegrityError(f"the {where} is not a JSON object")
        types_ = _field_types(cls)
        if value.keys() != types_.keys():
            raise IntegrityError(f"the {where} has other fields than a {cls.__name__}")
        for name, allowed in types_.items():
            item = value[name]
            if (isinstance(item, bool) and bool not in allowed) or not isinstance(item, allowed):
                raise IntegrityError(f"the {where} holds {item!r} as {name}")
        return cls(**value)


_FIELD_TYPES: dict[type[StateRecord], dict[str, tuple[type, ...]]] = {}


def _field_types(cls: type[StateRecord]) -> dict[str, tuple[type, ...]]:
    """The types each field of ``cls`` accepts (worked out once per class)."""
    known = _FIELD_TYPES.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found: dict[str, tuple[type, ...]] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[f.name]
        members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        found[f.name] = tuple(type(None) if m is None else m for m in members)
    _FIELD_TYPES[cls] = found
    return found


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
