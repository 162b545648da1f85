"""Build ledgers of a given size from a mix of everyday events, fast.

The mix follows the issue: mostly awards, then spending (redemptions/donations), grants
and plain transfers. Events are signed before the timed sections.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from points_ledger import (
    AccountKind,
    Asset,
    Event,
    KeySpec,
    Ledger,
    OpenAccount,
    Posting,
    RegisterKey,
    Role,
    Signature,
    Signer,
    Transfer,
)

DAY = dt.date(2026, 11, 2)
ORIGIN = "bench.example/district"


@dataclass
class Community:
    """Accounts and keys of a benchmark ledger."""

    admin: Signer
    log_key: Signer
    members: list[str]
    member_keys: dict[str, Signer] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    counter: int = 0


def fixed_clock() -> dt.datetime:
    """A clock that stands still (the ledger keeps recorded_at non-decreasing)."""
    return dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def create(path: Path, members: int = 200, seed: int = 7) -> tuple[Ledger, Community]:
    """Create a ledger with members, a pool and registered member keys."""
    rng = random.Random(seed)
    admin = Signer.from_seed(rng.randbytes(32))
    log_key = Signer.from_seed(rng.randbytes(32))
    ledger = Ledger.create(path, origin=ORIGIN, log_key=log_key, admins=[admin], clock=fixed_clock)
    names = [f"vol:{i:06d}" for i in range(members)]
    community = Community(admin=admin, log_key=log_key, members=names)
    setup: list[tuple[Event, list[Signer]]] = [
        (
            OpenAccount(
                id="open-pool", effective_at=DAY, account="pool", account_kind=AccountKind.POOL
            ),
            [admin],
        )
    ]
    for name in names:
        key = Signer.from_seed(rng.randbytes(32))
        community.member_keys[name] = key
        community.balances[name] = 0
        setup.append(
            (
                OpenAccount(
                    id=f"open-{name}",
                    effective_at=DAY,
                    account=name,
                    account_kind=AccountKind.MEMBER,
                    grid=("bench", f"grid-{hash(name) % 8}"),
                ),
                [admin],
            )
        )
        setup.append(
            (
                RegisterKey(
                    id=f"key-{name}",
                    effective_at=DAY,
                    key=KeySpec(public_key=key.public_key_b64, roles=(Role.MEMBER,), owner=name),
                ),
                [admin],
            )
        )
    for start in range(0, len(setup), 1000):
        ledger.append_many(setup[start : start + 1000])
    return ledger, community


def events(
    community: Community, count: int, seed: int = 11
) -> Iterator[tuple[Event, list[Signer]]]:
    """Yield ``count`` signed-ready events: 75% awards, 20% donations, 5% transfers."""
    rng = random.Random(seed)
    for _ in range(count):
        community.counter += 1
        n = community.counter
        member = rng.choice(community.members)
        roll = rng.random()
        if roll < 0.75 or community.balances[member] < 10:
            points = rng.choice((5, 10, 20, 30))
            community.balances[member] += points
            yield (
                Transfer(
                    id=f"award-{n}",
                    effective_at=DAY,
                    memo="gas-safety check",
                    postings=(
                        Posting(account="issuer", asset=Asset.PTS, amount=-points),
                        Posting(account=member, asset=Asset.PTS, amount=points),
                    ),
                ),
                [community.admin],
            )
        else:
            amount = rng.randint(1, min(community.balances[member], 30))
            community.balances[member] -= amount
            others = [m for m in rng.sample(community.members, 2) if m != member]
            target = "pool" if roll < 0.95 else others[0]
            if target != "pool":
                community.balances[target] += amount
            yield (
                Transfer(
                    id=f"spend-{n}",
                    effective_at=DAY,
                    postings=(
                        Posting(account=member, asset=Asset.PTS, amount=-amount),
                        Posting(account=target, asset=Asset.PTS, amount=amount),
                    ),
                ),
                [community.member_keys[member]],
            )


def presign(
    ledger: Ledger, items: Iterator[tuple[Event, list[Signer]]]
) -> list[tuple[Event, list[Signature]]]:
    """Sign events ahead of time, as clients do, so timings measure the ledger alone."""
    return [(event, [ledger.sign(event, s) for s in signers]) for event, signers in items]


def grow(ledger: Ledger, community: Community, count: int, batch: int = 1000) -> None:
    """Append ``count`` mixed events in batches."""
    pending: list[tuple[Event, list[Signer]]] = []
    for item in events(community, count, seed=community.counter + 11):
        pending.append(item)
        if len(pending) == batch:
            ledger.append_many(pending)
            pending = []
    if pending:
        ledger.append_many(pending)
