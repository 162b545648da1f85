"""Ed25519 signature checks run ahead of the rules, in a helper process when it pays.

Checking a signature costs about as much as everything else the ledger does for an
entry, and a machine has more than one core. For a large batch (``append_many``, the
pages of ``verify()``), the cryptography is handed to a helper process in chunks while
the caller goes on with the rest of the work; results are picked up entry by entry.

Only the Ed25519 arithmetic is done here. Which key may sign which entry is still
decided by :func:`points_ledger.engine.authorize_and_plan`, which uses a result only when
the key it finds in the state has exactly the public key that was checked here, and
checks anything else itself. If the helper process fails for any reason, the affected
signatures are simply checked in the caller: results can only be missing, never wrong.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Final

from points_ledger.keys import verify_signature
from points_ledger.models.entries import Signature

__all__ = ["PendingChecks", "check_signatures"]

PARALLEL_MIN: Final = 128
"""Batches with fewer signatures than this are checked in the caller, when needed."""
CHUNK: Final = 128

_Job = tuple[int, str, bytes, bytes, bytes]
_pool: ProcessPoolExecutor | None = None
_pool_pid: int | None = None


def _verify_chunk(jobs: list[_Job]) -> list[bool]:
    return [verify_signature(public_key, message, sig) for _, _, public_key, message, sig in jobs]


def _helper_pool() -> ProcessPoolExecutor | None:
    global _pool, _pool_pid
    if (os.cpu_count() or 1) < 2:
        return None
    if _pool is None or _pool_pid != os.getpid():
        # "spawn" starts a clean interpreter: no inherited SQLite handles or threads.
        context = multiprocessing.get_context("spawn")
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        _pool_pid = os.getpid()
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
    return _pool


class PendingChecks:
    """Results of :func:`check_signatures`, collected entry by entry as they are needed."""

    def __init__(self, size: int) -> None:
        self._results: list[dict[str, bytes]] = [{} for _ in range(size)]
        self._chunks: list[tuple[int, list[_Job], Future[list[bool]]]] = []
        self._collected = 0

    def _add(self, first_index: int, jobs: list[_Job], future: Future[list[bool]]) -> None:
        self._chunks.append((first_index, jobs, future))

    def _record(self, jobs: Sequence[_Job], outcomes: Sequence[bool]) -> None:
        for job, ok in zip(jobs, outcomes, strict=True):
            if ok:
                self._results[job[0]][job[1]] = job[2]

    def for_entry(self, index: int) -> dict[str, bytes]:
        """Key id -> checked public key for batch item ``index`` (waits if needed)."""
        while self._collected < len(self._chunks) and self._chunks[self._collected][0] <= index:
            _, jobs, future = self._chunks[self._collected]
            try:
                outcomes = future.result()
            except Exception:
                outcomes = [False] * len(jobs)
            self._record(jobs, outcomes)
            self._collected += 1
        return self._results[index]


def check_signatures(
    items: Sequence[tuple[bytes, Sequence[Signature]]],
    public_key_of: Callable[[str], bytes | None],
) -> PendingChecks:
    """Start checking the signatures of many (signing input, signatures) items.

    Small batches are left to the caller's own checks (nothing is done here); large
    ones are sent to a helper process in chunks that run while the caller works.
    """
    pending = PendingChecks(len(items))
    total = sum(len(signatures) for _, signatures in items)
    pool = _helper_pool() if total >= PARALLEL_MIN else None
    if pool is None:
        return pending
    chunk: list[_Job] = []
    for index, (message, signatures) in enumerate(items):
        for signature in signatures:
            public_key = public_key_of(signature.key_id)
            if public_key is not None:
                chunk.append((index, signature.key_id, public_key, message, signature.signature))
        if len(chunk) >= CHUNK:
            _submit(pool, pending, chunk)
            chunk = []
    if chunk:
        _submit(pool, pending, chunk)
    return pending


def _submit(pool: ProcessPoolExecutor, pending: PendingChecks, jobs: list[_Job]) -> None:
    try:
        future = pool.submit(_verify_chunk, jobs)
    except RuntimeError:  # the pool was shut down or broke: the caller checks instead
        return
    pending._add(jobs[0][0], jobs, future)
