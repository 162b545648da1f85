"""The machine's floors: what raw Ed25519 and raw SQLite can do here, measured now.

Each ledger figure is printed next to the floor it is bounded by, so a reader can tell
the library's overhead from the machine's speed.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def ed25519_verifications_per_s(message_size: int, seconds: float = 1.0) -> float:
    """Floor A: raw Ed25519 verifications per second on one core."""
    key = Ed25519PrivateKey.generate()
    message = os.urandom(message_size)
    signature = key.sign(message)
    public = key.public_key()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            public.verify(signature, message)
        count += 200
    return count / (time.perf_counter() - start)


def ed25519_verifications_two_threads_per_s(message_size: int, seconds: float = 1.0) -> float:
    """The two-thread signature rate: Ed25519 verifications per second on two threads at once.

    ``cryptography`` releases the GIL around Ed25519 ``verify``, so on two free cores this
    approaches 2A; on a busy machine it shows how much of the second core is to be had. It
    bounds a ``verify()`` whose signatures are checked on a second thread or process.
    """
    key = Ed25519PrivateKey.generate()
    message = os.urandom(message_size)
    signature = key.sign(message)
    public = key.public_key()
    counts = [0, 0]
    barrier = threading.Barrier(3)
    stop = threading.Event()

    def work(slot: int) -> None:
        barrier.wait()
        while not stop.is_set():
            for _ in range(200):
                public.verify(signature, message)
            counts[slot] += 200

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL) STRICT")
    return conn


def durable_commits_per_s(row_size: int, seconds: float = 1.0) -> float:
    """Floor B: single-row durable commits per second (WAL, synchronous=FULL)."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = _connect(Path(tmp) / "floor.db")
        payload = os.urandom(row_size)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (payload) VALUES (?)", (payload,))
            conn.execute("COMMIT")
            count += 1
        elapsed = time.perf_counter() - start
        conn.close()
    return count / elapsed


def batched_inserts_per_s(row_size: int, batches: int = 20, batch_size: int = 1000) -> float:
    """Floor C: rows per second inserted 1,000 per transaction (same settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = _connect(Path(tmp) / "floor.db")
        payload = os.urandom(row_size)
        start = time.perf_counter()
        for _ in range(batches):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO t (payload) VALUES (?)", ((payload,) for _ in range(batch_size))
            )
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return batches * batch_size / elapsed
