"""The conftest world (two admins, threshold 2, members) on a memory store.

For tests of the rules: handlers are pure functions over a state view, so they need no
file; the conformance suite holds the SQLite store to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conftest import DAY, ORIGIN, FixedClock, World, seeded_signer
from points_ledger import Ledger
from points_ledger.store.memory import MemoryStore


def memory_world(members: Sequence[str] = ("m1", "m2")) -> World:
    """A ledger on a new :class:`MemoryStore` with two admins (threshold 2) and members."""
    clock = FixedClock()
    admins = [seeded_signer(f"admin/{i}") for i in range(2)]
    log_key = seeded_signer("log")
    ledger = Ledger.create(
        MemoryStore(),
        origin=ORIGIN,
        log_key=log_key,
        admins=admins,
        threshold=2,
        effective_at=DAY,
        clock=clock,
    )
    world = World(
        ledger=ledger,
        path=Path(":memory:"),
        clock=clock,
        admins=admins,
        log_key=log_key,
        threshold=2,
    )
    for name in members:
        world.add_member(name)
    return world


def reopen(world: World) -> Ledger:
    """Close the ledger and open its store again, as a new process would open a file."""
    store = world.ledger._store
    world.ledger.close()
    world.ledger = Ledger.open(store, clock=world.clock)
    return world.ledger
