"""A handler's working copy of domain state records.

A handler reads the state as it was before its entry, but one event may change the same
record several times (releasing an expired hold returns stock to an offer that the new
hold then takes stock from). :class:`WorkingState` keeps the latest value of every record
the handler touched and emits one ``StatePut`` per record, in first-touched order, so the
plan is deterministic and replays identically.

Records are JSON values that no handler changes in place: a handler reads a record, builds
a new value from it and puts that. So a read hands out the value it holds and a write keeps
the value it is given, without copying either. (Copying every read and write cost a
structural copy of the whole record each time, and some records are lists that grow with
the ledger, such as a partner's unsettled vouchers, so the cost grew with its age.)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from points_ledger.domain.state import Change, PendingDelta, StatePut, StateView
from points_ledger.models.common import Asset

__all__ = ["WorkingState"]


class WorkingState:
    """Records read through the state view, with the handler's pending updates on top."""

    def __init__(self, state: StateView) -> None:
        self._state = state
        self._records: dict[tuple[str, str], Any] = {}
        self._dirty: dict[tuple[str, str], None] = {}
        self._pending: defaultdict[tuple[str, Asset], int] = defaultdict(int)

    def get(self, namespace: str, key: str) -> Any:
        """The record's current value, or None; the caller must not change it in place."""
        slot = (namespace, key)
        records = self._records
        if slot in records:
            return records[slot]
        value = records[slot] = self._state.get(namespace, key)
        return value

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Set the record's value; it is written once, with its last value.

        ``value`` is kept as it is: the caller must not change it in place afterwards.
        """
        slot = (namespace, key)
        self._records[slot] = value
        self._dirty[slot] = None

    def add_pending(self, account: str, asset: Asset, delta: int) -> None:
        """Change the amount held against an account (summed per account and asset)."""
        self._pending[account, asset] += delta

    def changes(self) -> tuple[Change, ...]:
        """Pending deltas (non-zero, in first-touched order), then one put per record."""
        pending: list[Change] = [
            PendingDelta(account, asset, delta)
            for (account, asset), delta in self._pending.items()
            if delta
        ]
        puts: list[Change] = [StatePut(ns, key, self._records[ns, key]) for ns, key in self._dirty]
        return tuple(pending + puts)
