"""Scenario: SIGKILL while many threads append through one group-committing writer.

A child process opens one :class:`~points_ledger.shared.SharedWriter` and starts
``THREADS`` threads; each appends signed awards one after another and, only after
``append`` returned, writes ``<event id> <seq>`` to its own acknowledgement file and
fsyncs it. The parent kills the child with SIGKILL at a random moment (mid-group, mid-
commit, between groups), reopens the file and checks: every acknowledged entry is there at
its seq, the file passes ``verify()``, the seqs have no gap, and each thread's in-flight
event, retried after the "restart", is stored exactly once.

Sizes: a few trials in the default suite, more at ``ci_size``, many in the soak.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import kill_trials
import pytest
from kill_trials import count_after_kill, read_acks, report_and_check
from reliability_harness import (
    FACTORIES,
    Community,
    build_community,
    copy_ledger,
    report_fixture,  # noqa: F401 - the report fixture
)

from points_ledger import Ledger
from points_ledger.shared import SharedWriter

THREADS = 16
MEMBERS = 40
SEED = 211
FACTORY = "award"


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("group-crash") / "base.db"
    build_community(path, Community.of(SEED, MEMBERS), catalogue=True).close()
    return path


def _ack_path(workdir: Path, thread: int) -> Path:
    return workdir / f"acks-{thread}.txt"


def group_ack_child(
    ledger_path: str, community: Community, workdir: str, ready: Callable[[], None]
) -> None:
    """In the child: ``THREADS`` threads append through one writer until killed."""
    factory = FACTORIES[FACTORY]
    writer = SharedWriter.open(ledger_path)
    started = threading.Barrier(THREADS + 1)

    def run(thread: int) -> None:
        fd = os.open(
            _ack_path(Path(workdir), thread), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )
        started.wait()
        n = 0
        while True:
            event, signers = factory(community, thread, n)
            result = writer.append(event, signers)
            os.write(fd, f"{event.id} {result.entry.seq}\n".encode())
            os.fsync(fd)
            n += 1

    for thread in range(THREADS):
        threading.Thread(target=run, args=(thread,), daemon=True).start()
    started.wait()
    ready()
    threading.Event().wait()  # until SIGKILL


def kill_trial(base: Path, workdir: Path, rng: random.Random) -> dict[str, int]:
    """Kill the child at a random moment; count what the restarted threads find."""
    path = copy_ledger(base, workdir / "ledger.db")
    community = Community.of(SEED, MEMBERS)
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(
        target=group_ack_child, args=(str(path), community, str(workdir), ready.set), daemon=True
    )
    try:
        child.start()
        assert ready.wait(timeout=60), "the appending child did not start"
        started = time.monotonic()
        moment = rng.uniform(0.02, 0.6)
        time.sleep(max(0.0, moment - (time.monotonic() - started)))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=30)
        assert child.exitcode == -signal.SIGKILL, f"child ended with {child.exitcode}"
    finally:
        if child.is_alive():
            child.kill()
            child.join()

    acked = [read_acks(_ack_path(workdir, t)) for t in range(THREADS)]
    with Ledger.open(path) as ledger:
        return count_after_kill(ledger, community, FACTORY, acked)


def run_trials(base: Path, tmp_path: Path, trials: int, seed: int) -> dict[str, int | str]:
    def trial(workdir: Path, rng: random.Random) -> dict[str, int]:
        return kill_trial(base, workdir, rng)

    return kill_trials.run_trials(trial, tmp_path, trials, seed, threads=THREADS)


def test_kill_during_group_commit(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=2, seed=1)
    report_and_check(report, "kill -9 during group commit", totals)


@pytest.mark.ci_size
def test_kill_during_group_commit_ci_size(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=8, seed=2)
    report_and_check(report, "kill -9 during group commit", totals)


@pytest.mark.soak
def test_kill_during_group_commit_soak(
    base_ledger: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    totals = run_trials(base_ledger, tmp_path, trials=150, seed=3)
    report_and_check(report, "kill -9 during group commit", totals)
