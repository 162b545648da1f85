"""What the ledger stores and returns: signatures, entries, append results, balances."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from points_ledger._base64 import encode_b64
from points_ledger.models.common import AccountId, AccountKind, Asset, FrozenModel, GridPath, Role
from points_ledger.models.events import Event, Posting

__all__ = [
    "AccountRecord",
    "AppendResult",
    "Balance",
    "Entry",
    "KeyRecord",
    "Signature",
    "StatementLine",
]


class Signature(FrozenModel):
    """A detached Ed25519 signature by a registered key over an event's signing input.

    Make one anywhere (a volunteer's phone, an office laptop) with
    ``ledger.sign(event, signer)``, ``signer.sign(ledger.signing_input(event))`` or any
    Ed25519 implementation over :func:`points_ledger.canonical.signing_input`.
    """

    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    signature: Annotated[bytes, Field(min_length=64, max_length=64)]


class Entry(FrozenModel):
    """One immutable ledger entry.

    Attributes:
        seq: Position in the log, 0 for genesis, without gaps.
        recorded_at: When the ledger recorded it (UTC, microseconds, never decreasing).
        event: The parsed event.
        event_bytes: The exact RFC 8785 bytes that were signed and are stored.
        signatures: Signatures over the signing input, sorted by key id.
        postings: Postings derived from the event and the ledger state.
        prev_hash: Hash of the previous entry (32 zero bytes for genesis).
        hash: SHA-256 over the entry header; the Merkle leaf of this entry.
    """

    seq: Annotated[int, Field(ge=0)]
    recorded_at: dt.datetime
    event: Event
    event_bytes: bytes
    signatures: tuple[Signature, ...]
    postings: tuple[Posting, ...]
    prev_hash: bytes
    hash: bytes

    @property
    def event_id(self) -> str:
        """The event's idempotency key."""
        return self.event.id

    @property
    def kind(self) -> str:
        """The event's type tag, e.g. ``"transfer"``."""
        return self.event.type

    def __repr__(self) -> str:
        # One line, not the signed bytes: what a REPL or a log shows of an entry.
        return (
            f"Entry(seq={self.seq}, kind={self.kind!r}, event_id={self.event_id!r}, "
            f"recorded_at={self.recorded_at.isoformat()!r}, "
            f"hash={encode_b64(self.hash)!r})"
        )

    def __str__(self) -> str:
        return repr(self)


class AppendResult(FrozenModel):
    """What ``append`` returns: the stored entry and whether this call created it."""

    entry: Entry
    status: Literal["created", "exists"]

    @property
    def created(self) -> bool:
        """True when this call wrote the entry; False when it was already stored."""
        return self.status == "created"

    def __repr__(self) -> str:
        entry = self.entry
        return (
            f"AppendResult(status={self.status!r}, seq={entry.seq}, kind={entry.kind!r}, "
            f"event_id={entry.event_id!r})"
        )

    def __str__(self) -> str:
        return repr(self)


class KeyRecord(FrozenModel):
    """A registered key as the ledger knows it at some point in the log.

    Valid for signatures from entry ``valid_from_seq`` (the registration itself, for
    genesis keys 0) up to, but not including, entry ``revoked_at_seq``.
    """

    key_id: str
    public_key: bytes
    roles: tuple[Role, ...]
    owner: AccountId | None
    valid_from_seq: int
    revoked_at_seq: int | None = None

    @property
    def person(self) -> str:
        """Who stands behind the key for quorum counting: its owner, else the key itself."""
        return self.owner if self.owner is not None else f"key:{self.key_id}"

    def valid_at(self, seq: int) -> bool:
        """True if the key may sign the entry at ``seq``."""
        return self.valid_from_seq <= seq and (
            self.revoked_at_seq is None or seq < self.revoked_at_seq
        )


class AccountRecord(FrozenModel):
    """An opened account: its kind (which fixes its balance rule) and grid placement."""

    account: AccountId
    kind: AccountKind
    grid: GridPath
    opened_seq: int

    @property
    def constrained(self) -> bool:
        """True when the account's available balance may never go below zero."""
        return self.kind.constrained


class Balance(FrozenModel):
    """An account's balance of one asset.

    ``posted`` is what the entries have moved; ``pending`` is what open holds reserve
    against it; ``available = posted - pending`` is what can still be spent.
    """

    account: AccountId
    asset: Asset
    posted: int
    pending: int = 0

    @property
    def available(self) -> int:
        """Posted balance less outstanding holds."""
        return self.posted - self.pending


class StatementLine(FrozenModel):
    """One posting on an account statement, with the running posted balance after it."""

    seq: int
    event_id: str
    kind: str
    effective_at: dt.date
    recorded_at: dt.datetime
    amount: int
    balance: int
    memo: str
