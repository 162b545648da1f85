"""What event handlers may read (``StateView``) and what they may change (``Change``).

Handlers are pure functions of an event and a read-only view of the ledger state. They
return a :class:`Plan`: who must sign, the postings, and the state changes the store
applies in the same transaction. The same handlers run when ``verify()`` replays the log
into a scratch state, so the postings of every entry can be re-derived and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, TypeVar

from points_ledger.errors import InvalidEventError
from points_ledger.keys import public_key_from_b64
from points_ledger.models.events import Event, Posting, event_types, register_event
from points_ledger.models.state import (
    BUSINESS_ZONE,
    AccountOpened,
    Change,
    DeriveContext,
    JSONValue,
    KeyAdded,
    KeyRevoked,
    PendingDelta,
    StatePut,
    StateRecords,
)
from points_ledger.policy import Policy, Requirement

__all__ = [
    "BUSINESS_ZONE",
    "AccountOpened",
    "Change",
    "ConfiguredState",
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
    "check_every_kind_handled",
    "handler_for",
    "register_debit_hook",
    "register_handler",
    "register_reversible",
    "reversible_kinds",
]


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

    @classmethod
    def from_record(cls, value: JSONValue) -> LedgerConfig:
        """Decode the ``ledger``/``config`` state record the genesis handler writes.

        Raises:
            LedgerError: if a policy value or the log key is invalid.
            KeyError: if a field is missing (only in a damaged replay).
        """
        return cls(
            origin=value["origin"],
            log_key=public_key_from_b64(value["log_key"]),
            policy=Policy.from_config(value),
            ledger_id=bytes.fromhex(value["ledger_id"]),
        )


class StateView(StateRecords, Protocol):
    """What handlers read: the store's state records and the genesis configuration.

    The one view of the state the rules see; a store provides the
    :class:`~points_ledger.models.state.StateRecords` and :class:`ConfiguredState` adds
    :meth:`config`.
    """

    def config(self) -> LedgerConfig | None:
        """The genesis facts, or None before genesis."""


class ConfiguredState:
    """A store's state records with the genesis configuration the domain decodes.

    The records' read methods are bound once, so a read costs what it costs on the
    store itself. The configuration comes from ``config_source`` when one is given (the
    live ledger reads it from entry 0's signed bytes, never from a cached record), else
    from the ``ledger``/``config`` record a replay writes. It is kept once known.
    """

    def __init__(
        self,
        records: StateRecords,
        config_source: Callable[[], LedgerConfig | None] | None = None,
    ) -> None:
        self.records = records
        self._config_source = config_source
        self._config: LedgerConfig | None = None
        self.account = records.account
        self.key = records.key
        self.count_active_keys = records.count_active_keys
        self.active_keys = records.active_keys
        self.balance = records.balance
        self.entry_kind = records.entry_kind
        self.entry_postings = records.entry_postings
        self.get = records.get

    def config(self) -> LedgerConfig | None:
        """The genesis facts, or None before genesis."""
        if self._config is None:
            if self._config_source is not None:
                self._config = self._config_source()
            else:
                value = self.records.get("ledger", "config")
                if value is not None:
                    self._config = LedgerConfig.from_record(value)
        return self._config


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
    event_type: type[_EventT], *, reversible: bool = False
) -> Callable[
    [Callable[[_EventT, StateView, DeriveContext], Plan]],
    Callable[[_EventT, StateView, DeriveContext], Plan],
]:
    """Decorator that registers an event kind together with the handler for it.

    This is the one registration an event kind needs: it makes ``event_type`` parseable
    from canonical bytes (:func:`~points_ledger.models.events.register_event`) and
    gives it the handler that derives its plan, so a kind can no longer be known without
    its rules. With ``reversible=True`` a ``Reverse`` event may also correct its entries.

    Raises:
        ValueError: if another handler is already registered for ``event_type``, or the
            class is not a valid event kind (see ``register_event``).
    """

    def decorate(
        func: Callable[[_EventT, StateView, DeriveContext], Plan],
    ) -> Callable[[_EventT, StateView, DeriveContext], Plan]:
        known = _HANDLERS.get(event_type)
        if known is not None and known is not func:
            raise ValueError(f"{event_type.__name__} already has a handler ({known.__name__})")
        register_event(event_type)
        _HANDLERS[event_type] = func
        if reversible:
            _REVERSIBLE.add(event_type.kind)
        return func

    return decorate


def check_every_kind_handled() -> None:
    """Fail loudly if an event kind is known without a handler.

    ``points_ledger.domain`` calls it once its modules are imported, so a kind that was
    registered with ``register_event`` alone stops the import with a message naming
    it, rather than failing later on the first append.

    Raises:
        TypeError: naming every event class that has no handler.
    """
    missing = sorted(
        f"{cls.__name__} (kind {kind!r})"
        for kind, cls in event_types().items()
        if cls not in _HANDLERS
    )
    if missing:
        raise TypeError(
            "event kinds without a handler: "
            + ", ".join(missing)
            + "; register each with points_ledger.domain.state.register_handler"
        )


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
    """Allow entries of event type ``kind`` to be corrected by a ``Reverse`` event.

    For kinds whose handler is registered elsewhere; a new kind says
    ``register_handler(EventClass, reversible=True)`` instead.
    """
    _REVERSIBLE.add(kind)


def reversible_kinds() -> frozenset[str]:
    """Event types whose entries a ``Reverse`` event may negate."""
    return frozenset(_REVERSIBLE)
