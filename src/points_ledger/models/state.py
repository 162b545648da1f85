"""The state vocabulary: what a store's state offers to read, and the changes it applies.

Every store's state offers the reads of :class:`StateRecords` and applies the
:data:`Change` values event handlers describe (see :mod:`points_ledger.store`). Handlers
read through the domain's ``StateView`` (``points_ledger.domain.state``): these records
plus the genesis configuration, which the domain decodes itself, so nothing here knows a
policy or a key format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from points_ledger.errors import InvalidEventError
from points_ledger.models.common import Asset, from_microseconds
from points_ledger.models.entries import AccountRecord, Balance, KeyRecord
from points_ledger.models.events import Posting

__all__ = [
    "BUSINESS_ZONE",
    "AccountOpened",
    "Change",
    "DeriveContext",
    "JSONValue",
    "KeyAdded",
    "KeyRevoked",
    "PendingDelta",
    "StatePut",
    "StateRecords",
]

JSONValue: TypeAlias = Any
"""A value made of dicts, lists, str, int, bool and None: how domain records are stored."""

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
            moment = from_microseconds(self.recorded_at_us)
            return moment.astimezone(_business_zone()).date()
        except (TypeError, ValueError, OverflowError) as e:
            # Only a damaged file holds such a time; the audit reports it as a broken rule.
            raise InvalidEventError(
                f"recorded_at {self.recorded_at_us!r} is not a time this ledger can hold"
            ) from e


class StateRecords(Protocol):
    """The state records a store keeps, read-only, as they stand before the next entry.

    Every store's state implements these reads. Handlers see them through the domain's
    ``StateView``, which adds the genesis configuration.
    """

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
        """A domain state record (JSON value, a fresh copy), or None."""


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
"""One state change a plan asks the store to apply."""
