"""The state a ``verify()`` replay builds: plain dictionaries, spilled to a store when large.

A replay reads and changes the state once or more per entry, and nobody else sees it, so
:class:`ReplayState` keeps it in dictionaries: a read is a dictionary look-up, a change a
dictionary write. When it holds more than the replay allows (``batched``, see
``points_ledger.audit``), :meth:`ReplayState.flush` writes what changed to the store's own
scratch state (``Store.scratch_state()``: a temporary SQLite database for a SQLite file)
and empties the dictionaries; from then on a value not in memory is read from there. The
memory a replay of any size uses is so bounded.

Until the first spill the dictionaries hold the whole replayed state, so a value they do
not hold does not exist, and no read goes to the scratch store at all. Log reads
(``entry_kind``, ``entry_postings``) always go to the scratch store, bounded by
``log_end`` as there. The final comparison reads the scratch store after a last flush.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from typing import Any

from points_ledger.errors import StorageError
from points_ledger.models.common import Asset
from points_ledger.models.entries import AccountRecord, Balance, KeyRecord
from points_ledger.models.events import Posting
from points_ledger.models.state import (
    AccountOpened,
    Change,
    KeyAdded,
    KeyRevoked,
    PendingDelta,
    StatePut,
)
from points_ledger.store import StateStore
from points_ledger.store.relational import asset_of, json_text

__all__ = ["ReplayState"]


class ReplayState:
    """A replay's state in dictionaries, written to ``spill`` when it grows large.

    ``spill`` is the store's scratch state (empty when given); it receives every change
    at :meth:`flush`, and answers the reads of values no longer held in memory.
    """

    def __init__(self, spill: StateStore) -> None:
        self.spill = spill
        self._log_end: int | None = None
        self._spilled = False  # whether anything was ever written to ``spill``
        self._accounts: dict[str, AccountRecord] = {}
        self._new_accounts: list[AccountRecord] = []
        self._keys: dict[str, KeyRecord | None] = {}
        self._new_keys: dict[str, None] = {}  # added since the last flush
        self._revoked: dict[str, int] = {}  # key id -> revoked at, since the last flush
        # (account, asset) -> [posted, pending, posted at the last flush, pending then,
        # 1 once changed]: a changed balance is written even when its total is back where
        # it was, as the live store writes every balance an entry touches.
        self._balances: dict[tuple[str, str], list[int]] = {}
        self._records: dict[tuple[str, str], str | None] = {}
        self._dirty_records: dict[tuple[str, str], None] = {}

    # -- the log bound ----------------------------------------------------------------

    @property
    def log_end(self) -> int | None:
        """Log reads see only entries before this seq (None: no bound)."""
        return self._log_end

    @log_end.setter
    def log_end(self, value: int | None) -> None:
        self._log_end = value
        self.spill.log_end = value

    # -- StateRecords -----------------------------------------------------------------

    def account(self, account: str) -> AccountRecord | None:
        """An opened account, or None."""
        found = self._accounts.get(account)
        if found is None and self._spilled:
            found = self.spill.account(account)
            if found is not None:
                self._accounts[account] = found
        return found

    def key(self, key_id: str) -> KeyRecord | None:
        """A registered key (revoked or not), or None."""
        keys = self._keys
        if key_id in keys:
            return keys[key_id]
        found = self.spill.key(key_id) if self._spilled else None
        keys[key_id] = found
        return found

    def count_active_keys(self, role: str) -> int:
        """How many unrevoked keys hold ``role``."""
        return len(self.active_keys(role))

    def active_keys(self, role: str) -> tuple[KeyRecord, ...]:
        """The unrevoked keys that hold ``role``, ordered by key id."""
        if self._spilled:
            self._write_keys()
            return self.spill.active_keys(role)
        # Python orders text by code point, which is the order of its UTF-8 bytes.
        return tuple(
            record
            for key_id, record in sorted(self._keys.items())
            if record is not None
            and record.revoked_at_seq is None
            and any(r.value == role for r in record.roles)
        )

    def balance(self, account: str, asset: Asset) -> Balance:
        """Current posted and pending balance (zero for an account that never moved)."""
        slot = self._balances.get((account, asset.value))
        if slot is None:
            slot = self._load_balance(account, asset)
        return Balance(account=account, asset=asset, posted=slot[0], pending=slot[1])

    def _load_balance(self, account: str, asset: Asset) -> list[int]:
        posted = pending = 0
        if self._spilled:
            stored = self.spill.balance(account, asset)
            posted, pending = stored.posted, stored.pending
        slot = self._balances[account, asset.value] = [posted, pending, posted, pending, 0]
        return slot

    def entry_kind(self, seq: int) -> str | None:
        """The event type of entry ``seq``, or None (also for seq at or past ``log_end``)."""
        return self.spill.entry_kind(seq)

    def entry_postings(self, seq: int) -> tuple[Posting, ...]:
        """The postings of entry ``seq`` in stored order (none at or past ``log_end``)."""
        return self.spill.entry_postings(seq)

    def get(self, namespace: str, key: str) -> Any:
        """A domain state record (JSON value, a fresh copy), or None."""
        slot = (namespace, key)
        records = self._records
        if slot in records:
            text = records[slot]
            return None if text is None else json.loads(text)
        value = self.spill.get(namespace, key) if self._spilled else None
        records[slot] = None if value is None else json_text(value)
        return value

    # -- changes ----------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], postings: Sequence[Posting]) -> None:
        """Apply a plan's state changes and postings."""
        balances = self._balances
        for change in changes:
            if type(change) is StatePut:
                slot = (change.namespace, change.key)
                self._records[slot] = json_text(change.value)
                self._dirty_records[slot] = None
            elif type(change) is PendingDelta:
                found = balances.get((change.account, change.asset.value))
                if found is None:
                    found = self._load_balance(change.account, change.asset)
                found[1] += change.delta
                found[4] = 1
            else:
                self._apply_rare(change)
        for posting in postings:
            asset = posting.asset
            found = balances.get((posting.account, asset.value))
            if found is None:
                found = self._load_balance(posting.account, asset)
            found[0] += posting.amount
            found[4] = 1

    def _apply_rare(self, change: Change) -> None:
        if isinstance(change, AccountOpened):
            record = change.record
            if self.account(record.account) is not None:
                raise StorageError(f"account {record.account} is already stored")
            self._accounts[record.account] = record
            self._new_accounts.append(record)
        elif isinstance(change, KeyAdded):
            key = change.record
            if self.key(key.key_id) is not None:
                raise StorageError(f"key {key.key_id} is already stored")
            self._keys[key.key_id] = key
            self._new_keys[key.key_id] = None
        elif isinstance(change, KeyRevoked):
            found = self.key(change.key_id)
            if found is not None:
                self._keys[change.key_id] = found.model_copy(update={"revoked_at_seq": change.seq})
                self._revoked[change.key_id] = change.seq
        else:  # pragma: no cover - the Change union is closed
            raise TypeError(f"unknown state change {change!r}")

    # -- spilling ---------------------------------------------------------------------

    @property
    def batched(self) -> int:
        """How many accounts, keys, balances and records are held in memory now."""
        return len(self._accounts) + len(self._keys) + len(self._balances) + len(self._records)

    def _write_keys(self) -> None:
        """Write the keys added or revoked since the last flush to ``spill``."""
        changes: list[Change] = []
        for key_id in self._new_keys:
            record = self._keys[key_id]
            if record is not None:
                changes.append(KeyAdded(record.model_copy(update={"revoked_at_seq": None})))
        changes.extend(KeyRevoked(key_id, seq) for key_id, seq in self._revoked.items())
        self._new_keys.clear()
        self._revoked.clear()
        if changes:
            self.spill.apply(changes, ())

    def flush(self) -> None:
        """Write every change to ``spill`` and empty the dictionaries (bounded memory)."""
        changes: list[Change] = [AccountOpened(record) for record in self._new_accounts]
        changes.extend(
            StatePut(ns, key, json.loads(text))
            for (ns, key), text in ((slot, self._records[slot]) for slot in self._dirty_records)
            if text is not None
        )
        postings: list[Posting] = []
        for (account, asset_name), slot in self._balances.items():
            posted, pending, posted0, pending0, changed = slot
            if not changed:
                continue
            asset = asset_of(asset_name)
            changes.append(PendingDelta(account, asset, pending - pending0))
            if posted != posted0:
                postings.append(
                    Posting.model_construct(account=account, asset=asset, amount=posted - posted0)
                )
        self.spill.apply(changes, postings)
        self._write_keys()
        self.spill.flush()
        self._spilled = True
        self._accounts.clear()
        self._new_accounts.clear()
        self._keys.clear()
        self._balances.clear()
        self._records.clear()
        self._dirty_records.clear()

    # -- comparing states -------------------------------------------------------------

    def table_rows(self, table: str) -> Generator[tuple[Any, ...], None, None]:
        """Every row of a state table in key order (text sorted by its bytes).

        Before any spill the rows come straight from memory; after one, whatever is
        still in memory is written to the scratch store first, which then gives them.
        """
        if self._spilled:
            self.flush()
            return self.spill.table_rows(table)
        return self._memory_rows(table)

    def _memory_rows(self, table: str) -> Generator[tuple[Any, ...], None, None]:
        # The rows as the scratch store would give them after a flush: the same columns
        # and JSON text. Python orders text by code point, the order of its UTF-8 bytes.
        if table == "accounts":
            for _, a in sorted(self._accounts.items()):
                yield (a.account, a.kind.value, json_text(list(a.grid)), a.opened_seq)
        elif table == "keys":
            # Only found keys: a key id looked up in vain (of any type, in a damaged
            # file) is remembered as None and is no row.
            found = [k for k in self._keys.values() if k is not None]
            for k in sorted(found, key=lambda k: k.key_id):
                yield (
                    k.key_id,
                    k.public_key,
                    json_text([r.value for r in k.roles]),
                    k.owner,
                    k.valid_from_seq,
                    k.revoked_at_seq,
                )
        elif table == "balances":
            changed = [(slot, v) for slot, v in self._balances.items() if v[4]]
            for (account, asset), v in sorted(changed):
                yield (account, asset, v[0], v[1])
        elif table == "state":
            for namespace, key in sorted(self._dirty_records):
                yield (namespace, key, self._records[namespace, key])
        else:
            raise ValueError(f"unknown state table {table!r}")

    def close(self) -> None:
        """Release the scratch store."""
        self.spill.close()
