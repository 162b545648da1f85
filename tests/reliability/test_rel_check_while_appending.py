"""Checks of a healthy file while other processes append: no false alarms.

Two worker processes append to the ledger without pause (awards signed by the admin,
and one-point spends signed by members) while this process runs ``verify()`` and
``audit()`` in turn, and, in the soak, ``points-ledger verify``. Every check must pass:
the file is healthy, so any problem reported is a false alarm. Each check must read one
moment of the file; a check that reads each table at a different moment sees postings
of entries it has not read yet, or cached balances ahead of its replay.

The default run does 4 checks of a file grown by 150 entries; CI does 10 of one grown by
1,000 once (``pytest -m ci_size``); the soak (``pytest -m soak``) does 60 checks through the
library and 10 through the command line. Figures: checks, false alarms, entries appended
while checking, and how many entries each check saw.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_harness import (
    Community,
    build_community,
    grow,
    report_fixture,  # noqa: F401 - report is a fixture
    spawn_worker,
    worker_env,
)

from points_ledger import IntegrityError, Ledger


def _start_appenders(
    path: Path | str, community: Community, tmp_path: Path
) -> list[subprocess.Popen[str]]:
    procs = []
    for worker, factory in ((0, "award"), (1, "small_spend")):
        proc = spawn_worker(
            [
                "ack",
                f"--ledger={path}",
                f"--seed={community.seed}",
                f"--members={len(community.members)}",
                f"--worker={worker}",
                f"--factory={factory}",
                f"--ack={tmp_path / f'ack-{worker}'}",
                "--pause=0.02",
            ]
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "ready\n", proc.stderr.read() if proc.stderr else line
        procs.append(proc)
    return procs


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


PAUSE_BETWEEN_CHECKS_S = 0.5


def _wal_size(path: Path | str) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _cli_verify(path: Path | str) -> tuple[bool, str]:
    result = subprocess.run(
        [sys.executable, "-m", "points_ledger", "--ledger", str(path), "verify"],
        capture_output=True,
        text=True,
        env=worker_env(),
        timeout=600,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def check_while_appending(
    tmp_path: Path,
    checks: int,
    cli_checks: int,
    report: Callable[..., None],
    *,
    grown: int = 1000,
    where: str | None = None,
) -> None:
    """The scenario on a new file in ``tmp_path``, or at the PostgreSQL URL ``where``."""
    community = Community.of(1507, 40)
    path: Path | str = tmp_path / "busy.db" if where is None else where
    with build_community(path, community, award=100_000) as ledger:
        grow(ledger, community, grown)
        start_size = ledger.size()
    alarms: list[str] = []
    failed_checks = 0
    seen: list[int] = []
    wal_bytes: list[int] = []
    procs = _start_appenders(path, community, tmp_path)
    started = time.monotonic()
    try:
        with Ledger.open(path) as ledger:
            for n in range(checks):
                if n % 2 == 0:
                    try:
                        seen.append(ledger.verify().entries_checked)
                    except IntegrityError as e:
                        alarms.append(f"verify: {e}")
                        failed_checks += 1
                else:
                    result = ledger.audit()
                    seen.append(result.entries_checked)
                    alarms += [f"audit: {p}" for p in result.problems]
                    failed_checks += not result.ok
                wal_bytes.append(_wal_size(path))
                # A check holds its snapshot to the end, and the WAL cannot start over
                # while one is held; a moment between checks lets the writers reset it.
                time.sleep(PAUSE_BETWEEN_CHECKS_S)
        for _ in range(cli_checks):
            ok, text = _cli_verify(path)
            if not ok:
                alarms.append(f"points-ledger verify: {text}")
                failed_checks += 1
        for proc in procs:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "worker died"
    finally:
        _stop(procs)
    elapsed = time.monotonic() - started
    with Ledger.open(path) as ledger:
        end_size = ledger.size()
        assert ledger.audit().ok
    report(
        "checks while appending",
        checks=checks,
        cli_checks=cli_checks,
        checks_with_false_alarms=failed_checks,
        problems_reported=len(alarms),
        appended_while_checking=end_size - start_size,
        entries_seen_first=seen[0],
        entries_seen_last=seen[-1],
        wal_max_mib=round(max(wal_bytes) / 2**20, 1),
        seconds=round(elapsed, 1),
        first_alarms=alarms[:3],
    )
    assert alarms == []
    # The appenders really were busy: later checks saw more entries than earlier ones.
    assert seen == sorted(seen) and seen[-1] > seen[0] >= start_size


def test_checks_while_appending_raise_no_false_alarm(
    tmp_path: Path, report: Callable[..., None]
) -> None:
    check_while_appending(tmp_path, checks=4, cli_checks=0, report=report, grown=150)


@pytest.mark.ci_size
def test_checks_while_appending_raise_no_false_alarm_ci_size(
    tmp_path: Path, report: Callable[..., None]
) -> None:
    check_while_appending(tmp_path, checks=10, cli_checks=0, report=report)


@pytest.mark.ci_size
def test_checks_while_appending_postgres(
    tmp_path: Path, report: Callable[..., None], postgres_url: str
) -> None:
    check_while_appending(
        tmp_path, checks=4, cli_checks=1, report=report, grown=300, where=postgres_url
    )


@pytest.mark.soak
def test_checks_while_appending_soak(tmp_path: Path, report: Callable[..., None]) -> None:
    check_while_appending(tmp_path, checks=60, cli_checks=10, report=report)
