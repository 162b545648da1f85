"""Several real processes appending to one ledger file at the same time."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path
from typing import Any

from conftest import (
    COMMITTEE_PEOPLE,
    FixedClock,
    World,
    build_world,
    committee_signer,
    seeded_signer,
)
from points_ledger import Asset, Ledger, Posting, Transfer

WORKERS = 4
EVENTS_PER_WORKER = 100
MEMBERS = tuple(f"w{n}" for n in range(WORKERS))


def _worker(path: str, n: int, barrier: Any, results: Any) -> None:
    """Append EVENTS_PER_WORKER events: awards to w<n> and payments from w<n> onwards."""
    try:
        admins = [seeded_signer(f"admin/{i}") for i in range(2)]
        minters = [*admins, *(committee_signer(person) for person in COMMITTEE_PEOPLE)]
        me = seeded_signer(f"member/w{n}")
        neighbour = MEMBERS[(n + 1) % WORKERS]
        if n % 2:  # half the workers open the file while the others already write
            barrier.wait()
        with Ledger.open(path, clock=FixedClock()) as ledger:
            if n % 2 == 0:
                barrier.wait()
            statuses = []
            for i in range(EVENTS_PER_WORKER):
                if i % 2 == 0:  # the issuer awards 2 points to w<n>, admins and committee sign
                    source, target, amount, signers = "issuer", f"w{n}", 2, minters
                else:  # w<n> passes 1 point on, with its own key
                    source, target, amount, signers = f"w{n}", neighbour, 1, [me]
                event = Transfer(
                    id=f"w{n}-{i}",
                    effective_at=ledger.entry(0).event.effective_at,
                    postings=(
                        Posting(account=source, asset=Asset.PTS, amount=-amount),
                        Posting(account=target, asset=Asset.PTS, amount=amount),
                    ),
                )
                statuses.append(ledger.append(event, signers).status)
        results.put((n, statuses, None))
    except BaseException:
        results.put((n, [], traceback.format_exc()))


def test_processes_append_concurrently(tmp_path: Path) -> None:
    world: World = build_world(tmp_path / "shared.db", members=MEMBERS)
    assert world.committee  # seated before the workers start
    start = world.ledger.size()
    world.ledger.close()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_worker, args=(str(world.path), n, barrier, results))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    errors = [error for _, _, error in outcomes if error]
    assert not errors, "\n".join(errors)
    assert sorted(n for n, _, _ in outcomes) == list(range(WORKERS))
    for _, statuses, _ in outcomes:
        assert statuses == ["created"] * EVENTS_PER_WORKER

    with Ledger.open(world.path) as ledger:
        assert ledger.size() == start + WORKERS * EVENTS_PER_WORKER
        entries = list(ledger.entries())
        assert [e.seq for e in entries] == list(range(len(entries)))
        ids = {e.event_id for e in entries[start:]}
        assert ids == {f"w{n}-{i}" for n in range(WORKERS) for i in range(EVENTS_PER_WORKER)}
        # Each worker's own events keep their order.
        for n in range(WORKERS):
            mine = [
                int(e.event_id.split("-")[1]) for e in entries if e.event_id.startswith(f"w{n}-")
            ]
            assert mine == sorted(mine)
        half = EVENTS_PER_WORKER // 2
        for member in MEMBERS:
            # +2 per award, -1 per payment made, +1 per payment received from the neighbour.
            assert ledger.balance(member).posted == 2 * half - half + half
        assert ledger.balance("issuer").posted == -2 * half * WORKERS
        ledger.verify()
