"""The verify() memory figure is the verifying process's own, not its parent's.

Linux carries ``ru_maxrss`` across ``exec``: a child started after the benchmark process
had built and checkpointed a large ledger used to report the parent's high-water mark as
the peak of ``verify()``.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from benchmarks import run, workload


def test_the_verify_child_reports_its_own_peak_not_its_parents(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    ledger, community = workload.create(path)
    workload.grow(ledger, community, 50)
    ledger.close()
    ballast = bytearray(400 * 1024 * 1024)  # the parent's peak, touched page by page
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=run._verify_in_child, args=(str(path), queue))
    child.start()
    figures = queue.get(timeout=120)
    child.join()
    del ballast
    assert figures["entries"] > 50
    assert 0 < figures["base_rss_mb"] <= figures["peak_rss_mb"] < 300
