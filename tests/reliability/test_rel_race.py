"""Scenarios 3 and 4: write contention and double spending between processes.

Contention: N worker processes each append M awards to one file at the same time. No
caller ever sees "database is locked"; the final count is exact; seqs are contiguous;
``verify()`` passes.

Double spend: every round has its own member holding B points; P processes each try to
spend an amount from that member at about the same moment, and the amounts add up to
more than B. Rounds are batched: each process walks through all rounds in order, so one
process start serves every round. Accepted spends never exceed B, no balance goes
negative, and a refused spend leaves no entry.

Double spend with holds and donations: per round, each process first asks for the one
item of that round's single-item offer, then places a ``HoldRedemption`` (even workers)
or a ``Donate`` (odd workers) on the round's member; the sum exceeds the balance. At most
one single-item hold succeeds, stock never goes negative, held + donated never exceeds
the balance, pending equals the accepted holds, available = posted - pending >= 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_harness import (
    Community,
    add_offers,
    build_community,
    community_event,
    report_fixture,  # noqa: F401 - report is a fixture
    run_together,
)

from points_ledger import Asset, Ledger, reports


def contend(
    tmp_path: Path,
    writers: int,
    appends: int,
    factory: str = "award",
    where: str | None = None,
) -> dict[str, int | str]:
    """The contention scenario on a new file in ``tmp_path``, or at the URL ``where``."""
    community = Community.of(301, 50)
    path: Path | str = tmp_path / "contend.db" if where is None else where
    build_community(path, community, catalogue=True).close()
    with Ledger.open(path) as ledger:
        base = ledger.size()
    results = run_together(
        [
            [
                "contend",
                f"--ledger={path}",
                f"--seed={community.seed}",
                f"--members={len(community.members)}",
                f"--worker={w}",
                f"--count={appends}",
                f"--factory={factory}",
            ]
            for w in range(writers)
        ]
    )
    errors = [e for r in results for e in r["errors"]]  # type: ignore[attr-defined]
    locked = [e for e in errors if "locked" in e or "busy" in e]
    assert locked == [], locked[:5]
    assert errors == [], errors[:5]
    assert sum(r["created"] for r in results) == writers * appends  # type: ignore[misc]
    with Ledger.open(path) as ledger:
        assert ledger.size() == base + writers * appends
        seqs = [e.seq for e in ledger.entries()]
        assert seqs == list(range(len(seqs)))
        ledger.verify()
    return {
        "factory": factory,
        "writers": writers,
        "appends": writers * appends,
        "locked": len(locked),
    }


def test_contention(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=4, appends=30))


@pytest.mark.ci_size
def test_contention_ci_size(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=4, appends=250))


def test_contention_award_points(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=2, appends=20, factory="award_points"))


@pytest.mark.ci_size
def test_contention_award_points_ci_size(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=2, appends=100, factory="award_points"))


@pytest.mark.ci_size
def test_contention_postgres(
    tmp_path: Path, report: Callable[..., None], postgres_url: str
) -> None:
    report(
        "contention (PostgreSQL)", **contend(tmp_path, writers=4, appends=60, where=postgres_url)
    )


@pytest.mark.soak
def test_contention_postgres_soak(
    tmp_path: Path, report: Callable[..., None], postgres_url: str
) -> None:
    report(
        "contention (PostgreSQL)", **contend(tmp_path, writers=8, appends=2_000, where=postgres_url)
    )


@pytest.mark.soak
def test_contention_award_points_soak(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=8, appends=2_000, factory="award_points"))


@pytest.mark.soak
def test_contention_soak(tmp_path: Path, report: Callable[..., None]) -> None:
    report("contention", **contend(tmp_path, writers=8, appends=10_000))


BALANCE = 100
AMOUNTS = (60, 45, 40, 35, 30, 50, 25, 55)  # the first two already exceed B in sum


def double_spend(
    tmp_path: Path, processes: int, rounds: int, where: str | None = None
) -> dict[str, int]:
    """The double-spend scenario on a new file in ``tmp_path``, or at the URL ``where``."""
    community = Community.of(401, rounds)
    path: Path | str = tmp_path / "spend.db" if where is None else where
    build_community(path, community, award=BALANCE).close()
    amounts = AMOUNTS[:processes]
    assert sum(amounts) > BALANCE
    with Ledger.open(path) as ledger:
        base = ledger.size()
    results = run_together(
        [
            [
                "spend",
                f"--ledger={path}",
                f"--seed={community.seed}",
                f"--members={rounds}",
                f"--worker={w}",
                f"--rounds={rounds}",
                f"--amount={amounts[w]}",
            ]
            for w in range(processes)
        ]
    )
    errors = [e for r in results for e in r["errors"]]  # type: ignore[attr-defined]
    assert errors == [], errors[:5]
    accepted = {i for r in results for i in r["accepted"]}  # type: ignore[attr-defined]
    refused = {i for r in results for i in r["refused"]}  # type: ignore[attr-defined]
    contested = 0
    with Ledger.open(path) as ledger:
        assert ledger.size() == base + len(accepted)
        stored = {e.event_id for e in ledger.entries(base)}
        assert stored == accepted
        assert not refused & stored
        for r, member in enumerate(community.members):
            spent = sum(amounts[w] for w in range(processes) if f"spend-{r}-w{w}" in accepted)
            assert spent <= BALANCE
            balance = ledger.balance(member, Asset.PTS)
            assert balance.posted == BALANCE - spent >= 0
            contested += any(f"spend-{r}-w{w}" in refused for w in range(processes))
        ledger.verify()
    return {
        "processes": processes,
        "rounds": rounds,
        "attempts": processes * rounds,
        "accepted": len(accepted),
        "refused": len(refused),
        "rounds_with_refusal": contested,
        "overspent_rounds": 0,
    }


def test_double_spend(tmp_path: Path, report: Callable[..., None]) -> None:
    report("double spend", **double_spend(tmp_path, processes=4, rounds=25))


@pytest.mark.ci_size
def test_double_spend_ci_size(tmp_path: Path, report: Callable[..., None]) -> None:
    report("double spend", **double_spend(tmp_path, processes=4, rounds=200))


@pytest.mark.ci_size
def test_double_spend_postgres(
    tmp_path: Path, report: Callable[..., None], postgres_url: str
) -> None:
    report(
        "double spend (PostgreSQL)",
        **double_spend(tmp_path, processes=4, rounds=40, where=postgres_url),
    )


@pytest.mark.soak
@pytest.mark.parametrize("processes", [2, 8])
def test_double_spend_soak(tmp_path: Path, report: Callable[..., None], processes: int) -> None:
    report("double spend", **double_spend(tmp_path, processes=processes, rounds=1000))


def double_spend_holds(tmp_path: Path, processes: int, rounds: int) -> dict[str, int]:
    """Scenario 4b: holds and donations from several processes exceed the balance."""
    community = Community.of(402, rounds)
    path = tmp_path / "holds.db"
    with build_community(path, community, award=BALANCE) as ledger:
        add_offers(ledger, community, rounds)
        base = ledger.size()
    amounts = AMOUNTS[:processes]
    assert sum(amounts) + processes > BALANCE
    results = run_together(
        [
            [
                "holds",
                f"--ledger={path}",
                f"--seed={community.seed}",
                f"--members={rounds}",
                f"--worker={w}",
                f"--rounds={rounds}",
                f"--amount={amounts[w]}",
            ]
            for w in range(processes)
        ]
    )
    errors = [e for r in results for e in r["errors"]]  # type: ignore[attr-defined]
    assert errors == [], errors[:5]
    accepted = {i for r in results for i in r["accepted"]}  # type: ignore[attr-defined]
    refused = {i for r in results for i in r["refused"]}  # type: ignore[attr-defined]
    with Ledger.open(path) as ledger:
        assert ledger.size() == base + len(accepted)
        stored = {e.event_id for e in ledger.entries(base)}
        assert stored == accepted
        assert not refused & stored
        stock = {row.offer: row.stock for row in reports.offers(ledger)}
        for r, member in enumerate(community.members):
            mine = {
                w: community_event(community, "main", r, w, amounts[w])[0] for w in range(processes)
            }
            stock_holds = [w for w in range(processes) if f"stock-{r}-w{w}" in accepted]
            assert len(stock_holds) <= 1, (r, stock_holds)
            assert stock[f"stock-{r}"] == 1 - len(stock_holds) >= 0
            held = sum(amounts[w] for w in range(0, processes, 2) if mine[w].id in accepted)
            given = sum(amounts[w] for w in range(1, processes, 2) if mine[w].id in accepted)
            assert len(stock_holds) + held + given <= BALANCE
            balance = ledger.balance(member, Asset.PTS)
            assert balance.posted == BALANCE - given >= 0
            assert balance.pending == held + len(stock_holds)
            assert balance.available == balance.posted - balance.pending >= 0
            items = sum(amounts[w] // 5 for w in range(0, processes, 2) if mine[w].id in accepted)
            assert stock[f"main-{r}"] == 100 - items >= 0
        ledger.verify()
    return {
        "processes": processes,
        "rounds": rounds,
        "attempts": 2 * processes * rounds,
        "accepted": len(accepted),
        "refused": len(refused),
        "stock_holds_accepted": sum(1 for i in accepted if i.startswith("stock-")),
        "overspent_rounds": 0,
        "negative_stock": 0,
    }


def test_double_spend_holds_and_donations(tmp_path: Path, report: Callable[..., None]) -> None:
    report("double spend, holds+donations", **double_spend_holds(tmp_path, processes=4, rounds=10))


@pytest.mark.ci_size
def test_double_spend_holds_and_donations_ci_size(
    tmp_path: Path, report: Callable[..., None]
) -> None:
    report("double spend, holds+donations", **double_spend_holds(tmp_path, processes=4, rounds=60))


@pytest.mark.soak
@pytest.mark.parametrize("processes", [2, 8])
def test_double_spend_holds_soak(
    tmp_path: Path, report: Callable[..., None], processes: int
) -> None:
    report(
        "double spend, holds+donations",
        **double_spend_holds(tmp_path, processes=processes, rounds=1000),
    )
