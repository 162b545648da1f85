"""What event handlers may read (``StateView``) and what they may change (``Change``).

Handlers are pure functions of an event and a read-only view of the ledger state. They
return a :class:`Plan`: who must sign, the postings, and the state changes the store
applies in the same transaction. The same handlers run when ``verify()`` replays the log
into a scratch state, so the postings of every entry can be re-derived and compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeAlias, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from points_ledger.errors import InvalidEventError
from points_ledger.models.common import Asset
from points_ledger.models.entries import AccountRecord, Balance, KeyRecord
from points_ledger.models.events import Event, Posting
from points_ledger.policy import Policy, Requirement

__all__ = [
    "BUSINESS_ZONE",
    "AccountOpened",
    "Change",
    "DeriveContext",
    "Handler",
    "KeyAdded",
    "KeyRevoked",
    "LedgerConfig",
    "PendingDelta",
    "Plan",
    "StatePut",
    "StateView",
    "before_debit",
    "handler_for",
    "register_debit_hook",
    "register_handler",
    "register_reversible",
    "reversible_kinds",
]

JSONValue: TypeAlias = Any
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class LedgerConfig:
    """Facts fixed by the genesis entry.

    Attributes:
        origin: The ledger's origin name.
        log_key: The log key's public key (signs checkpoints).
        policy: The signing thresholds.
        ledger_id: SHA-256 of the genesis event's bytes; every later signature binds it.
    """

    origin: str
    log_key: bytes
    policy: Policy
    ledger_id: bytes


BUSINESS_ZONE: Final = "Asia/Shanghai"
"""The time zone whose calendar dates the rules compare with business dates."""


def _business_zone() -> dt.tzinfo:
    try:
        return ZoneInfo(BUSINESS_ZONE)
    except ZoneInfoNotFoundError:  # pragma: no cover - tzdata is a dependency
        return dt.timezone(dt.timedelta(hours=8))  # China keeps no daylight saving time


@dataclass(frozen=True)
class DeriveContext:
    """Facts about the entry being derived: its seq and ledger time (UTC microseconds)."""

    seq: int
    recorded_at_us: int

    @property
    def recorded_date(self) -> dt.date:
        """The calendar date of ``recorded_at`` in Asia/Shanghai (a pure function of it)."""
        try:
            moment = _EPOCH + dt.timedelta(microseconds=self.recorded_at_us)
            return moment.astimezone(_business_zone()).date()
        except (TypeError, ValueError, OverflowError) as e:
            # Only a damaged file holds such a time; the audit reports it as a broken rule.
            raise InvalidEventError(
                f"recorded_at {self.recorded_at_us!r} is not a time this ledger can hold"
            ) from e


class StateView(Protocol):
    """Read-only view of the ledger state just before the entry being derived."""

    def config(self) -> LedgerConfig | None:
        """The genesis facts, or None before genesis."""

    def account(self, account: str) -> AccountRecord | None:
        """An opened account, or None."""

    def key(self, key_id: str) -> KeyRecord | None:
        """A registered key (revoked or not), or None."""

    def count_active_keys(self, role: str) -> int:
        """How many unrevoked keys hold ``role``."""

    def active_keys(self, role: str) -> tuple[KeyRecord, ...]:
        """The unrevoked keys that hold ``role``, ordered by key id."""

    def balance(self, account: str, asset: Asset) -> Balance:
        """Current posted and pending balance (zero for an account that never moved)."""

    def entry_kind(self, seq: int) -> str | None:
        """The event type of entry ``seq``, or None if there is no such entry."""

    def entry_postings(self, seq: int) -> tuple[Posting, ...]:
        """The postings of entry ``seq`` (empty if none)."""

    def get(self, namespace: str, key: str) -> JSONValue | None:
        """A domain state record (JSON value), or None."""


@dataclass(frozen=True)
class AccountOpened:
    """Add an account to the state."""

    record: AccountRecord


@dataclass(frozen=True)
class KeyAdded:
    """Add a key to the state."""

    record: KeyRecord


@dataclass(frozen=True)
class KeyRevoked:
    """Mark a key revoked from ``seq`` on."""

    key_id: str
    seq: int


@dataclass(frozen=True)
class PendingDelta:
    """Change the amount held (reserved, not yet posted) against an account."""

    account: str
    asset: Asset
    delta: int


@dataclass(frozen=True)
class StatePut:
    """Set a domain state record (a JSON value under a namespace and key)."""

    namespace: str
    key: str
    value: JSONValue


Change: TypeAlias = AccountOpened | KeyAdded | KeyRevoked | PendingDelta | StatePut


@dataclass(frozen=True)
class Plan:
    """What one event does: who must sign, the postings, and the state changes."""

    requirement: Requirement
    postings: tuple[Posting, ...] = ()
    changes: tuple[Change, ...] = field(default_factory=tuple)


_EventT = TypeVar("_EventT", bound=Event)
Handler: TypeAlias = Callable[[Any, StateView, DeriveContext], Plan]
_HANDLERS: dict[type[Event], Handler] = {}
_REVERSIBLE: set[str] = set()


def register_handler(
    event_type: type[_EventT],
) -> Callable[
    [Callable[[_EventT, StateView, DeriveContext], Plan]],
    Callable[[_EventT, StateView, DeriveContext], Plan],
]:
    """Decorator that registers the handler deriving a plan for ``event_type``."""

    def decorate(
        func: Callable[[_EventT, StateView, DeriveContext], Plan],
    ) -> Callable[[_EventT, StateView, DeriveContext], Plan]:
        _HANDLERS[event_type] = func
        return func

    return decorate


def handler_for(event: Event) -> Handler:
    """Return the handler registered for the event's class.

    Raises:
        InvalidEventError: if no handler is registered for the event's kind (an event
            class registered with ``register_event`` but no ``register_handler``).
    """
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise InvalidEventError(
            f"this ledger has no rules for {type(event).__name__} events "
            f"(kind {event.type!r}): no handler is registered for them",
            hint="Append only the event kinds the library knows, or register a handler "
            "for the new kind (register_handler) before appending it.",
        )
    return handler


DebitHook: TypeAlias = Callable[[Sequence[str], StateView, DeriveContext], tuple["Change", ...]]
_DEBIT_HOOKS: list[DebitHook] = []


def register_debit_hook(hook: DebitHook) -> DebitHook:
    """Register a function run before value is taken out of constrained accounts.

    Handlers of events that debit accounts generically (``Transfer``, ``Reverse``) call
    :func:`before_debit` and add the returned changes to their plan. The alliance uses it
    to release a member's expired redemption holds first, so that an expired hold never
    blocks spending.
    """
    _DEBIT_HOOKS.append(hook)
    return hook


def before_debit(
    accounts: Sequence[str], state: StateView, ctx: DeriveContext
) -> tuple[Change, ...]:
    """The changes every registered debit hook makes for ``accounts`` (sorted, unique)."""
    ordered = sorted(set(accounts))
    if not ordered:
        return ()
    return tuple(change for hook in _DEBIT_HOOKS for change in hook(ordered, state, ctx))


def register_reversible(kind: str) -> None:
    """Allow entries of event type ``kind`` to be corrected by a ``Reverse`` event."""
    _REVERSIBLE.add(kind)


def reversible_kinds() -> frozenset[str]:
    """Event types whose entries a ``Reverse`` event may negate."""
    return frozenset(_REVERSIBLE)
