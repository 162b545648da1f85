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
from collections.abc import Callable
from pathlib import Path

import kill_trials
import pytest
import workers
from kill_trials import count_after_kill, read_acks, report_and_check
from postgres_server import drop_schema, new_schema_url
from reliability_harness import (
    Community,
    build_community,
    copy_ledger,
    report_fixture,  # noqa: F401 - the report fixture
)

from points_ledger import Ledger

WRITERS = 4
MEMBERS = 40
SEED = 101


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "base.db"
    build_community(path, Community.of(SEED, MEMBERS), catalogue=True).close()
    return path


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

    acked = [read_acks(acks[w]) for w in range(WRITERS)]
    with Ledger.open(path) as ledger:
        return count_after_kill(ledger, community, factory, acked)


def run_trials(
    base: Path, tmp_path: Path, trials: int, seed: int, factory: str = "award"
) -> dict[str, int | str]:
    def trial(workdir: Path, rng: random.Random) -> dict[str, int]:
        return one_trial(base, workdir, rng, factory)

    return kill_trials.run_trials(trial, tmp_path, trials, seed, factory=factory)


def test_kill_during_concurrent_appends(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=3, seed=1)
    report_and_check(report, "kill -9 during appends", totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_appends_ci_size(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=10, seed=1)
    report_and_check(report, "kill -9 during appends", totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_appends_postgres(
    tmp_path: Path, report: Callable[..., None], postgres_server: str
) -> None:
    """The same scenario on PostgreSQL: each trial on a new ledger schema."""

    def trial(workdir: Path, rng: random.Random) -> dict[str, int]:
        url = new_schema_url(postgres_server)
        build_community(url, Community.of(SEED, MEMBERS), catalogue=True).close()
        try:
            return kill_trial(url, workdir, rng, "award")
        finally:
            drop_schema(url)

    totals = kill_trials.run_trials(trial, tmp_path, trials=3, seed=5, factory="award")
    report_and_check(report, "kill -9 during appends (PostgreSQL)", totals)


@pytest.mark.soak
def test_kill_during_concurrent_appends_soak(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=200, seed=2)
    report_and_check(report, "kill -9 during appends", totals)


def test_kill_during_concurrent_award_points(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    """Same scenario with real ``AwardPoints`` signed by an issuer key."""
    totals = run_trials(base_ledger, tmp_path, trials=1, seed=3, factory="award_points")
    report_and_check(report, "kill -9 during appends", totals)


@pytest.mark.ci_size
def test_kill_during_concurrent_award_points_ci_size(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=3, seed=3, factory="award_points")
    report_and_check(report, "kill -9 during appends", totals)


@pytest.mark.soak
def test_kill_during_concurrent_award_points_soak(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=50, seed=4, factory="award_points")
    report_and_check(report, "kill -9 during appends", totals)
