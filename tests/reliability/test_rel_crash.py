"""Scenario 1: SIGKILL during concurrent appends loses no acknowledged entry.

Four writer processes append signed events and acknowledge each one (event id and seq,
fsynced) only after ``append`` returned. The parent kills them with SIGKILL at random
moments, reopens the file and checks: every acknowledged entry is there at its seq, the
file passes ``verify()`` (no partial entry), and each worker's unacknowledged in-flight
event, retried after the "restart", is present exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import workers
from postgres_server import drop_schema, new_schema_url
from reliability_harness import (
    FACTORIES,
    Community,
    build_community,
    copy_ledger,
    report_fixture,  # noqa: F401 - the report fixture
)

from points_ledger import IntegrityError, Ledger

WRITERS = 4
MEMBERS = 40
SEED = 101


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "base.db"
    build_community(path, Community.of(SEED, MEMBERS), catalogue=True).close()
    return path


def read_acks(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    acks = []
    for line in path.read_text("ascii").splitlines(keepends=True):
        if line.endswith("\n"):  # a torn last line was never acknowledged
            event_id, seq = line.split()
            acks.append((event_id, int(seq)))
    return acks


def retry_unacked(
    ledger: Ledger, community: Community, factory_name: str, worker: int, acks: list[str]
) -> tuple[str, str]:
    """What a restarted worker does: resend the event after its last acknowledged one."""
    factory = FACTORIES[factory_name]
    event, signers = factory(community, worker, len(acks))
    return event.id, ledger.append(event, signers).status


def one_trial(base: Path, workdir: Path, rng: random.Random, factory: str) -> dict[str, int]:
    return kill_trial(copy_ledger(base, workdir / "ledger.db"), workdir, rng, factory)


def kill_trial(path: Path | str, workdir: Path, rng: random.Random, factory: str) -> dict[str, int]:
    """Kill the writers of the ledger at ``path`` (a file or a PostgreSQL URL); count."""
    community = Community.of(SEED, MEMBERS)
    acks = [workdir / f"acks-{w}.txt" for w in range(WRITERS)]
    ctx = multiprocessing.get_context("fork")
    ready = [ctx.Event() for _ in range(WRITERS)]
    procs = [
        ctx.Process(
            target=workers.ack_loop,
            args=(str(path), community, w, factory, str(acks[w]), ready[w].set),
            daemon=True,
        )
        for w in range(WRITERS)
    ]
    try:
        for proc in procs:
            proc.start()
        for w, flag in enumerate(ready):
            assert flag.wait(timeout=60), f"worker {w} did not start"
        started = time.monotonic()
        kill_at = sorted((rng.uniform(0.01, 0.4), w) for w in range(WRITERS))
        for moment, w in kill_at:
            time.sleep(max(0.0, moment - (time.monotonic() - started)))
            pid = procs[w].pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
        for proc in procs:
            proc.join(timeout=30)
            assert proc.exitcode == -signal.SIGKILL, f"worker ended with {proc.exitcode}"
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()

    acked = {w: read_acks(acks[w]) for w in range(WRITERS)}
    counts = {"lost": 0, "partial": 0, "duplicated": 0, "gaps": 0}
    with Ledger.open(path) as ledger:
        counts["partial"] += _verify_fails(ledger)
        size_after_kill = ledger.size()
        by_seq = {e.seq: e.event_id for e in ledger.entries()}
        for items in acked.values():
            counts["lost"] += sum(by_seq.get(seq) != event_id for event_id, seq in items)
        created = 0
        for w in range(WRITERS):
            event_id, status = retry_unacked(
                ledger, community, factory, w, [i for i, _ in acked[w]]
            )
            created += status == "created"
            stored = sum(e.event_id == event_id for e in ledger.entries())
            counts["duplicated"] += stored != 1
        counts["partial"] += _verify_fails(ledger)
        seqs = [e.seq for e in ledger.entries()]
        counts["gaps"] += seqs != list(range(len(seqs)))
    return {
        "acked": sum(len(v) for v in acked.values()),
        "in_flight_committed": WRITERS - created,
        "entries": size_after_kill,
        **counts,
    }


def _verify_fails(ledger: Ledger) -> int:
    """1 if ``verify()`` finds a problem (a partial or damaged entry), else 0."""
    try:
        ledger.verify()
    except IntegrityError:
        return 1
    return 0


COUNTED = ("acked", "in_flight_committed", "lost", "partial", "duplicated", "gaps")


def run_trials(
    base: Path, tmp_path: Path, trials: int, seed: int, factory: str = "award"
) -> dict[str, int | str]:
    rng = random.Random(seed)
    totals: dict[str, int | str] = {
        "factory": factory,
        "trials": 0,
        **dict.fromkeys(COUNTED, 0),
    }
    for t in range(trials):
        workdir = tmp_path / f"t{t}"
        workdir.mkdir()
        figures = one_trial(base, workdir, rng, factory)
        for name in COUNTED:
            totals[name] = int(totals[name]) + figures[name]
        totals["trials"] = int(totals["trials"]) + 1
    return totals


def check(totals: Mapping[str, object]) -> None:
    """The scenario's figure: nothing acknowledged lost, nothing partial or doubled."""
    assert int(str(totals["acked"])) > 0
    bad = {k: totals[k] for k in ("lost", "partial", "duplicated", "gaps") if totals[k] != 0}
    assert bad == {}, f"kill -9 trials found {bad}"


def test_kill_during_concurrent_appends(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=3, seed=1)
    report("kill -9 during appends", **totals)
    check(totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_appends_ci_size(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=10, seed=1)
    report("kill -9 during appends", **totals)
    check(totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_appends_postgres(
    tmp_path: Path, report: Callable[..., None], postgres_server: str
) -> None:
    """The same scenario on PostgreSQL: each trial on a new ledger schema."""
    rng = random.Random(5)
    totals: dict[str, int | str] = {"factory": "award", "trials": 0, **dict.fromkeys(COUNTED, 0)}
    for t in range(3):
        url = new_schema_url(postgres_server)
        build_community(url, Community.of(SEED, MEMBERS), catalogue=True).close()
        workdir = tmp_path / f"t{t}"
        workdir.mkdir()
        try:
            figures = kill_trial(url, workdir, rng, "award")
        finally:
            drop_schema(url)
        for name in COUNTED:
            totals[name] = int(totals[name]) + figures[name]
        totals["trials"] = int(totals["trials"]) + 1
    report("kill -9 during appends (PostgreSQL)", **totals)
    check(totals)


@pytest.mark.soak
def test_kill_during_concurrent_appends_soak(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=200, seed=2)
    report("kill -9 during appends", **totals)
    check(totals)


def test_kill_during_concurrent_award_points(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    """Same scenario with real ``AwardPoints`` signed by an issuer key."""
    totals = run_trials(base_ledger, tmp_path, trials=1, seed=3, factory="award_points")
    report("kill -9 during appends", **totals)
    check(totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_award_points_ci_size(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=3, seed=3, factory="award_points")
    report("kill -9 during appends", **totals)
    check(totals)


@pytest.mark.soak
def test_kill_during_concurrent_award_points_soak(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=50, seed=4, factory="award_points")
    report("kill -9 during appends", **totals)
    check(totals)
