"""Group commit: ``python -m benchmarks.group_commit [--appends 960] [--json F]``.

N threads of one process (N = 1, 4, 16) each append awards one at a time, every call
returning only when its entry is durable, through one shared
:class:`~points_ledger.shared.SharedWriter`; beside it, the same threads each with a
:class:`~points_ledger.Ledger` of their own (one connection per thread, every append its
own commit), which is what applications did before. Each figure is printed as entries per
second in all, as a ratio to floor A (raw Ed25519 verifications per second on one core,
measured in the same run) and as CPU microseconds per entry (the whole process: callers
signing, the writer's rules and storage), which stays steady when the machine is busy.

Awards are signed in the calling threads with the grid workers' ``Signer``s, as a web
application holding its workers' keys does. No figure is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks import floors, workload
from points_ledger import AppendResult, Event, Ledger, Signer
from points_ledger.shared import SharedWriter

THREAD_COUNTS = (1, 4, 16)
APPENDS = 960
"""Awards appended in all per measurement (split evenly between the threads)."""

BASE_ENTRIES = 2000

Item = tuple[Event, list[Signer]]
Append = Callable[[Event, list[Signer]], AppendResult]


def _run_threads(
    work: Sequence[list[Item]], session: Callable[[], AbstractContextManager[Append]]
) -> tuple[float, float]:
    """Run one thread per work list; return (wall seconds, process CPU seconds)."""
    barrier = threading.Barrier(len(work) + 1)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with session() as append:
                barrier.wait()
                for event, signers in work[index]:
                    append(event, signers)
        except BaseException as e:
            failures.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    barrier.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if failures:
        raise failures[0]
    return wall, cpu


def _awards(community: workload.Community, threads: int, each: int) -> list[list[Item]]:
    work = []
    for _ in range(threads):
        items = []
        for _ in range(each):
            community.counter += 1
            items.append(workload._award(community, community.counter))
        work.append(items)
    return work


def _thread_cpu_s(thread: threading.Thread | None) -> float:
    """CPU seconds ``thread`` has used so far (0 where the platform cannot tell)."""
    if thread is None or thread.ident is None or not hasattr(time, "pthread_getcpuclockid"):
        return 0.0
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except OSError:
        return 0.0


def measure_shared(
    path: Path | str, community: workload.Community, threads: int, appends: int
) -> dict[str, Any]:
    """Group commit figures: ``threads`` threads appending ``appends`` awards in all.

    ``group_commit_writer_cpu_us_per_entry`` is the part of the CPU time spent in the
    writer thread (the rules and the storage, one entry after another); the rest is the
    callers' (encoding, signing, signature checks) and the interpreter's.
    """
    work = _awards(community, threads, max(appends // threads, 1))
    count = sum(len(items) for items in work)
    with SharedWriter.open(path, clock=workload.fixed_clock) as writer:
        groups_before = writer.groups_committed
        writer_cpu = -_thread_cpu_s(writer._thread)
        wall, cpu = _run_threads(work, lambda: contextlib.nullcontext(writer.append))
        writer_cpu += _thread_cpu_s(writer._thread)
        groups = writer.groups_committed - groups_before
    return {
        "group_commit_per_s": count / wall,
        "group_commit_cpu_us_per_entry": cpu / count * 1e6,
        "group_commit_writer_cpu_us_per_entry": writer_cpu / count * 1e6,
        "entries_per_commit": count / groups,
    }


def measure(
    path: Path, community: workload.Community, threads: int, appends: int
) -> dict[str, Any]:
    """Group commit and one-ledger-per-thread figures for ``threads`` threads."""
    result: dict[str, Any] = {"threads": threads}
    result.update(measure_shared(path, community, threads, appends))

    work = _awards(community, threads, max(appends // threads, 1))
    count = sum(len(items) for items in work)

    @contextlib.contextmanager
    def own_ledger() -> Iterator[Append]:
        # Opened and closed in the thread that uses it, as a connection must be.
        with Ledger.open(path, clock=workload.fixed_clock) as ledger:
            yield ledger.append

    wall, cpu = _run_threads(work, own_ledger)
    result["ledger_per_thread_per_s"] = count / wall
    result["ledger_per_thread_cpu_us_per_entry"] = cpu / count * 1e6
    return result


def verification_cpu_us(message_size: int = 300, count: int = 2000) -> float:
    """CPU microseconds one raw Ed25519 verification takes on this thread (floor A's unit).

    Unlike floor A itself (a wall-clock rate) it hardly moves when other programs share
    the machine, so ``cpu_us_per_entry / verification_cpu_us`` is a steady figure.
    """
    key = Ed25519PrivateKey.generate()
    message = bytes(message_size)
    signature = key.sign(message)
    public = key.public_key()
    start = time.thread_time()
    for _ in range(count):
        public.verify(signature, message)
    return (time.thread_time() - start) / count * 1e6


def render(floor_a: float, verify_cpu_us: float, rows: Sequence[dict[str, Any]]) -> str:
    """The figures as a plain-text table, each rate also as a ratio to floor A."""
    lines = [
        f"floor A = {floor_a:,.0f} Ed25519 verifications/s (one core); one verification "
        f"costs {verify_cpu_us:.0f} µs of CPU",
        "",
        f"{'threads':>7} {'group commit/s':>15} {'/ A':>6} {'CPU µs/entry':>13} "
        f"{'writer µs':>10} {'entries/commit':>15} {'own Ledger/s':>13} {'/ A':>6} "
        f"{'CPU µs/entry':>13}",
    ]
    for row in rows:
        lines.append(
            f"{row['threads']:>7} {row['group_commit_per_s']:>15,.0f} "
            f"{row['group_commit_per_s'] / floor_a:>6.2f} "
            f"{row['group_commit_cpu_us_per_entry']:>13,.0f} "
            f"{row['group_commit_writer_cpu_us_per_entry']:>10,.0f} "
            f"{row['entries_per_commit']:>15.1f} "
            f"{row['ledger_per_thread_per_s']:>13,.0f} "
            f"{row['ledger_per_thread_per_s'] / floor_a:>6.2f} "
            f"{row['ledger_per_thread_cpu_us_per_entry']:>13,.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure group commit at 1, 4 and 16 threads; print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.group_commit", description=__doc__)
    parser.add_argument("--appends", type=int, default=APPENDS, help="awards per measurement")
    parser.add_argument(
        "--threads", default=",".join(map(str, THREAD_COUNTS)), help="comma-separated counts"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.threads.split(",")]
    floor_a = floors.ed25519_verifications_per_s(300)
    verify_cpu_us = verification_cpu_us()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "group.db"
        ledger, community = workload.create(path)
        workload.grow(ledger, community, BASE_ENTRIES)
        ledger.close()
        rows = [measure(path, community, n, args.appends) for n in counts]
        with Ledger.open(path, clock=workload.fixed_clock) as check:
            check.verify()  # every entry the threads appended is in a file that verifies
    print(render(floor_a, verify_cpu_us, rows))
    if args.json:
        document = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "floors": {
                "A_ed25519_verify_per_s": floor_a,
                "ed25519_verify_cpu_us": verify_cpu_us,
            },
            "group_commit": rows,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
