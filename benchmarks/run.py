"""Benchmark entry point: ``python -m benchmarks [--sizes 10000,100000] [--large] [--json F]``.

For each ledger size it builds a ledger from the everyday mix, measures the figures and
prints them next to the floors measured in the same run (see ``floors.py``), as a ratio.
No figure is asserted: these are measurements, not tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import floors, group_commit, peers, workload
from points_ledger import Ledger
from points_ledger.store.sqlite import SqliteStore

GROUP_COMMIT_THREADS = 16
"""Threads appending at once through one ``SharedWriter`` for ``group_commit_per_s``."""

GROUP_COMMIT_APPENDS = 960
"""Awards those threads append in all (each call durable before it returns)."""

APPEND_MANY_BATCHES = 9
"""Batches of 1,000 events timed for ``append_many_per_s`` by default (the figure is their
median: one batch alone is noisy)."""


def _sqlite(ledger: Ledger) -> SqliteStore:
    """The SQLite store under ``ledger`` (these checks look at the file itself)."""
    store = ledger._store
    assert isinstance(store, SqliteStore)
    return store


def _p50_us(func: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def _verify_in_child(path: str, queue: Any) -> None:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report
    # the parent's high-water mark (the parent has built the ledger and checkpointed it).
    before = _peak_rss_kb(os.getpid())
    with Ledger.open(path) as ledger:
        helper_cpu = _helper_cpu_s(ledger)
        cpu, start = time.process_time(), time.perf_counter()
        ledger.verify()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        helper_cpu = _helper_cpu_s(ledger) - helper_cpu
        size = ledger.size()
        helper = ledger._checker._proc  # the signature helper, if verify() started one
        helper_peak_kb = _peak_rss_kb(helper.pid) if helper is not None else 0
    peak = _peak_rss_kb(os.getpid())
    queue.put(
        {
            "seconds": elapsed,
            "cpu_s": cpu,
            "helper_cpu_s": helper_cpu,
            "entries": size,
            "peak_rss_mb": peak / 1024,
            "base_rss_mb": before / 1024,
            "helper_peak_rss_mb": helper_peak_kb / 1024,
        }
    )


def _helper_cpu_s(ledger: Ledger) -> float:
    """CPU seconds the ledger's signature helper process has used so far (0 without one).

    Read from ``/proc/PID/stat`` (Linux; user plus system time, in clock ticks).
    """
    helper = ledger._checker._proc
    if helper is None:
        return 0.0
    try:
        stat = Path(f"/proc/{helper.pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Cpu:
    """Wall and CPU time of a timed section: this process's, plus its signature helper's."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.wall = self.cpu = self.helper = 0.0

    def __enter__(self) -> _Cpu:
        self.helper = -_helper_cpu_s(self.ledger)
        self.cpu = -time.process_time()
        self.wall = -time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter()
        self.cpu += time.process_time()
        self.helper += _helper_cpu_s(self.ledger)


def _peak_rss_kb(pid: int) -> int:
    """The peak resident set (``VmHWM``) of a running process, from ``/proc`` (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure_size(
    size: int,
    folder: Path,
    batches: int = APPEND_MANY_BATCHES,
    where: str | None = None,
    processes: int = 4,
    group_appends: int = GROUP_COMMIT_APPENDS,
) -> dict[str, Any]:
    """Build a ledger of about ``size`` entries and measure every figure on it.

    The timed appends (300 single ones, then ``batches`` batches of 1,000) grow the ledger
    before ``verify()`` is measured; ``verify_entries`` says how many entries it covered.
    The ledger is a SQLite file in ``folder``, or the PostgreSQL URL ``where``. Last,
    ``processes`` processes append awards at once (``concurrent_append_per_s``, in all),
    and then ``GROUP_COMMIT_THREADS`` threads of this process append ``group_appends``
    awards in all through one ``SharedWriter`` (``group_commit_per_s``; 0 skips it).
    """
    path: Path | str = folder / f"bench-{size}.db" if where is None else where
    ledger, community = workload.create(path)
    start = time.perf_counter()
    workload.grow(ledger, community, max(size - ledger.size(), 0))
    build_s = time.perf_counter() - start
    result: dict[str, Any] = {"entries": ledger.size(), "build_s": round(build_s, 2)}

    singles = workload.presign(ledger, workload.events(community, 300, ledger.size()))
    with _Cpu(ledger) as timed:
        for event, signers in singles:  # each one durable on its own
            ledger.append(event, signers)
    result["append_per_s"] = len(singles) / timed.wall
    result["append_cpu_us_per_entry"] = timed.cpu * 1e6 / len(singles)
    result["append_helper_cpu_us_per_entry"] = timed.helper * 1e6 / len(singles)

    rates, cpus, helpers = [], [], []
    for _ in range(batches):
        batch = workload.presign(ledger, workload.events(community, 1000, ledger.size()))
        with _Cpu(ledger) as timed:
            ledger.append_many(batch)
        rates.append(len(batch) / timed.wall)
        cpus.append(timed.cpu * 1e6 / len(batch))
        helpers.append(timed.helper * 1e6 / len(batch))
    result["append_many_per_s"] = statistics.median(rates)
    result["append_many_cpu_us_per_entry"] = statistics.median(cpus)
    # The helper's clock ticks (10 ms) are coarse for one batch: the mean is the steadier.
    result["append_many_helper_cpu_us_per_entry"] = statistics.fmean(helpers)

    rng = random.Random(5)
    names = community.members
    result["balance_p50_us"] = _p50_us(lambda: ledger.balance(rng.choice(names)), 3000)
    result["statement_100_p50_us"] = _p50_us(
        lambda: ledger.statement(rng.choice(names), limit=100), 200
    )
    if hasattr(ledger, "checkpoint"):
        record = folder / f"bench-{size}{'' if where is None else '-pg'}.record"
        _measure_transparency(ledger, community, result, rng, record)
    ledger.close()
    result["open_p50_us"] = _p50_us(lambda: Ledger.open(path).close(), 50)

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_verify_in_child, args=(str(path), queue))
    child.start()
    verified = queue.get()
    child.join()
    result["verify_entries"] = verified["entries"]
    result["verify_per_s"] = verified["entries"] / verified["seconds"]
    result["verify_s"] = round(verified["seconds"], 2)
    result["verify_cpu_us_per_entry"] = verified["cpu_s"] * 1e6 / verified["entries"]
    result["verify_helper_cpu_us_per_entry"] = verified["helper_cpu_s"] * 1e6 / verified["entries"]
    result["verify_peak_rss_mb"] = round(verified["peak_rss_mb"], 1)
    result["verify_base_rss_mb"] = round(verified["base_rss_mb"], 1)
    result["verify_helper_peak_rss_mb"] = round(verified["helper_peak_rss_mb"], 1)

    peer = peers.beancount(verified["entries"])
    if "skipped" in peer:
        result["beancount_skipped"] = peer["skipped"]
    else:
        result["beancount_version"] = peer["version"]
        result["beancount_per_s"] = peer["per_s"]
        result["beancount_cpu_us_per_entry"] = peer["cpu_us_per_entry"]

    result["concurrent_append_per_s"] = measure_concurrent(path, community, processes)
    if group_appends > 0:
        shared = group_commit.measure_shared(path, community, GROUP_COMMIT_THREADS, group_appends)
        result["group_commit_threads"] = GROUP_COMMIT_THREADS
        result["group_commit_per_s"] = shared["group_commit_per_s"]
        result["group_commit_cpu_us_per_entry"] = shared["group_commit_cpu_us_per_entry"]
        result["group_commit_writer_cpu_us_per_entry"] = shared[
            "group_commit_writer_cpu_us_per_entry"
        ]
        result["group_commit_entries_per_commit"] = shared["entries_per_commit"]
    if isinstance(path, Path):
        with Ledger.open(path) as reopened:
            _sqlite(reopened).conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            entries = reopened.size()
        result["bytes_per_entry"] = path.stat().st_size / entries
    return result


CONCURRENT_APPENDS = 200
"""Awards each process appends (one ``append`` each) for ``concurrent_append_per_s``."""


def _append_awards(path: Path | str, items: list[Any], start: Any, done: Any) -> None:
    with Ledger.open(path) as ledger:
        start.wait()
        for event, signatures in items:
            ledger.append(event, signatures)
    done.put(len(items))


def measure_concurrent(path: Path | str, community: Any, processes: int) -> float:
    """Appends per second, in all, while ``processes`` processes each append awards."""
    with Ledger.open(path) as ledger:
        first = community.counter + 10_000_000
        work = []
        for w in range(processes):
            items = [
                workload._award(community, first + w * CONCURRENT_APPENDS + i)
                for i in range(CONCURRENT_APPENDS)
            ]
            work.append(workload.presign(ledger, items))
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    done = ctx.Queue()
    procs = [ctx.Process(target=_append_awards, args=(path, items, start, done)) for items in work]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # every process has opened the ledger
    began = time.perf_counter()
    start.set()
    total = sum(int(done.get(timeout=600)) for _ in procs)
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
    return total / elapsed


def _measure_transparency(
    ledger: Any, community: Any, result: dict[str, Any], rng: random.Random, record: Path
) -> None:
    size = ledger.size()
    start = time.perf_counter()
    ledger.checkpoint(community.log_key, record)
    result["checkpoint_ms"] = (time.perf_counter() - start) * 1e3
    result["prove_inclusion_p50_us"] = _p50_us(
        lambda: ledger.prove_inclusion(rng.randrange(size)), 500
    )
    result["prove_consistency_p50_us"] = _p50_us(
        lambda: ledger.prove_consistency(rng.randrange(1, size), size), 500
    )


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}"


def render(floor: dict[str, float], sizes: dict[int, dict[str, Any]]) -> str:
    """The results as a plain-text table."""
    a, b, c, t = (
        floor["A_ed25519_verify_per_s"],
        floor["B_durable_commit_per_s"],
        floor["C_batched_insert_per_s"],
        floor["T_ed25519_two_threads_per_s"],
    )
    combined = 1 / (1 / a + 1 / b)
    lines = [
        f"floors: A = {a:,.0f} Ed25519 verifications/s (one core); B = {b:,.0f} durable commits/s; "
        f"C = {c:,.0f} batched inserts/s; 1/(1/A+1/B) = {combined:,.0f}/s; "
        f"T = {t:,.0f} Ed25519 verifications/s on two threads",
        "",
        f"{'figure':<36}"
        + "".join(f"{n:>16,}" for n in sizes)
        + "   floor (ratio at largest size)",
    ]
    largest = sizes[max(sizes)]
    verify = largest["verify_per_s"]
    peer = largest.get("beancount_per_s")
    rows: list[tuple[str, str, str]] = [
        ("append_per_s", "1/(1/A+1/B)", _ratio(largest["append_per_s"], combined)),
        ("append_cpu_us_per_entry", "", ""),
        ("append_many_per_s", "A", _ratio(largest["append_many_per_s"], a)),
        ("append_many_cpu_us_per_entry", "", ""),
        ("append_many_helper_cpu_us_per_entry", "", ""),
        ("verify_per_s", "2A", _ratio(verify, 2 * a)),
        ("verify_per_s", "T", _ratio(verify, t)),
        ("verify_cpu_us_per_entry", "", ""),
        ("verify_helper_cpu_us_per_entry", "", ""),
        ("beancount_per_s", "", ""),
        ("verify_per_s", "Beancount", _ratio(verify, peer) if peer else ""),
        ("beancount_cpu_us_per_entry", "", ""),
        ("verify_entries", "", ""),
        ("verify_peak_rss_mb", "", ""),
        ("verify_helper_peak_rss_mb", "", ""),
        ("balance_p50_us", "", ""),
        ("statement_100_p50_us", "", ""),
        ("concurrent_append_per_s", "", ""),
        ("group_commit_per_s", "A", _ratio(largest.get("group_commit_per_s", 0), a)),
        ("group_commit_cpu_us_per_entry", "", ""),
        ("group_commit_writer_cpu_us_per_entry", "", ""),
        ("group_commit_entries_per_commit", "", ""),
        ("open_p50_us", "", ""),
        ("checkpoint_ms", "", ""),
        ("prove_inclusion_p50_us", "", ""),
        ("prove_consistency_p50_us", "", ""),
        ("bytes_per_entry", "", ""),
        ("build_s", "", ""),
    ]
    for name, floor_name, ratio in rows:
        if name not in largest or (floor_name and not ratio):
            continue
        cells = "".join(f"{sizes[n].get(name, float('nan')):>16,.1f}" for n in sizes)
        suffix = f"   {floor_name} ({ratio})" if floor_name else ""
        lines.append(f"{name:<36}{cells}{suffix}")
    skipped = {str(v.get("beancount_skipped")) for v in sizes.values()} - {"None"}
    lines.extend(f"beancount: skipped, {reason}" for reason in sorted(skipped))
    return "\n".join(lines)


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated ledger sizes")
    parser.add_argument(
        "--large", action="store_true", help="also measure a 1,000,000-entry ledger"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure each size on PostgreSQL (a new schema per size on this server, "
        "e.g. the POINTS_LEDGER_TEST_PG of scripts/postgres-server.sh run)",
    )
    parser.add_argument(
        "--processes", type=int, default=4, help="processes appending at once (default 4)"
    )
    parser.add_argument(
        "--group-appends",
        type=int,
        default=GROUP_COMMIT_APPENDS,
        help=f"awards {GROUP_COMMIT_THREADS} threads append through one SharedWriter for "
        "group_commit_per_s (0 skips it)",
    )
    parser.add_argument(
        "--batches",
        type=int,
        default=APPEND_MANY_BATCHES,
        help="batches of 1,000 timed for append_many (their median is reported)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.large:
        sizes.append(1_000_000)
    floor = {
        "A_ed25519_verify_per_s": floors.ed25519_verifications_per_s(message_size=400),
        "B_durable_commit_per_s": floors.durable_commits_per_s(row_size=600),
        "C_batched_insert_per_s": floors.batched_inserts_per_s(row_size=600),
        "T_ed25519_two_threads_per_s": floors.ed25519_verifications_two_threads_per_s(400),
    }
    results: dict[int, dict[str, Any]] = {}
    on_postgres: dict[int, dict[str, Any]] = {}
    batches = max(args.batches, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"building and measuring a ledger of {size:,} entries ...", file=sys.stderr)
            results[size] = measure_size(
                size, Path(tmp), batches, processes=args.processes, group_appends=args.group_appends
            )
            if args.postgres:
                print(f"... and on PostgreSQL ({size:,} entries) ...", file=sys.stderr)
                url = _with_schema(args.postgres, f"bench_{size}_{int(time.time())}")
                on_postgres[size] = measure_size(
                    size,
                    Path(tmp),
                    batches,
                    where=url,
                    processes=args.processes,
                    group_appends=args.group_appends,
                )
    print(render(floor, results))
    if on_postgres:
        print("\nPostgreSQL (same workload; ratios against the same floors):")
        print("\n".join(render(floor, on_postgres).splitlines()[2:]))
    if args.json:
        document = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": {"python": platform.python_version(), "cpus": multiprocessing.cpu_count()},
            "floors": floor,
            "sizes": {str(k): v for k, v in results.items()},
            "postgres_sizes": {str(k): v for k, v in on_postgres.items()},
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0
