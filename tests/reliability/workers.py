"""Worker processes for the reliability scenarios (run as a script, one mode per call).

Modes:

* ``ack``: append factory events forever; after each ``append`` returns, write
  ``<event id> <seq>`` to the worker's acknowledgement file and fsync it. The parent
  SIGKILLs the worker at a random moment. ``--pause`` seconds between appends (default
  none) keep a steady pace instead of the fastest one.
* ``contend``: append ``count`` factory events; print a JSON summary of what happened,
  including every error message (to count "database is locked" reaching a caller).
* ``spend``: for each round, try to spend ``amount`` from that round's member; print
  the accepted and refused event ids.
* ``holds``: for each round, try a one-item hold on that round's single-item offer,
  then ``amount`` points from that round's member: a ``HoldRedemption`` (even workers)
  or a ``Donate`` (odd workers); print the accepted and refused event ids.
* ``diskfull``: lower ``RLIMIT_FSIZE`` just above the file sizes, ignore ``SIGXFSZ``,
  and append until a write fails; print which exception surfaced.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from reliability_harness import FACTORIES, Community, community_event, spend_event

from points_ledger import Ledger, LedgerError, OutOfStockError, OverdraftError, StorageError


def ack_loop(
    ledger_path: str,
    community: Community,
    worker: int,
    factory_name: str,
    ack_path: str,
    ready: Callable[[], None],
    pause_s: float = 0.0,
) -> None:
    """Append forever, acknowledging (fsynced) each entry only after ``append`` returned.

    Also run in-process by a forked child (``multiprocessing`` fork context), which
    spares the kill test a fresh interpreter start per worker and trial.
    """
    factory = FACTORIES[factory_name]
    with Ledger.open(ledger_path) as ledger:
        fd = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        ready()
        n = 0
        while True:
            event, signers = factory(community, worker, n)
            result = ledger.append(event, signers)
            os.write(fd, f"{event.id} {result.entry.seq}\n".encode())
            os.fsync(fd)
            n += 1
            if pause_s:
                time.sleep(pause_s)


def _ack_loop(args: argparse.Namespace, community: Community) -> None:
    ack_loop(
        args.ledger,
        community,
        args.worker,
        args.factory,
        args.ack,
        lambda: print("ready", flush=True),
        args.pause,
    )


def _contend(args: argparse.Namespace, community: Community) -> None:
    factory = FACTORIES[args.factory]
    created = exists = 0
    errors: list[str] = []
    with Ledger.open(args.ledger) as ledger:
        print("ready", flush=True)
        sys.stdin.readline()  # start together
        for n in range(args.count):
            event, signers = factory(community, args.worker, n)
            try:
                result = ledger.append(event, signers)
            except LedgerError as e:
                errors.append(f"{type(e).__name__}: {e}")
                continue
            if result.created:
                created += 1
            else:
                exists += 1
    print(json.dumps({"created": created, "exists": exists, "errors": errors}), flush=True)


def _spend(args: argparse.Namespace, community: Community) -> None:
    accepted: list[str] = []
    refused: list[str] = []
    errors: list[str] = []
    with Ledger.open(args.ledger) as ledger:
        print("ready", flush=True)
        sys.stdin.readline()
        for r in range(args.rounds):
            member = community.members[r]
            event = spend_event(f"spend-{r}-w{args.worker}", member, args.amount)
            try:
                ledger.append(event, [community.member_key(member)])
            except OverdraftError:
                refused.append(event.id)
            except LedgerError as e:
                errors.append(f"{event.id}: {type(e).__name__}: {e}")
            else:
                accepted.append(event.id)
    print(json.dumps({"accepted": accepted, "refused": refused, "errors": errors}), flush=True)


def _holds(args: argparse.Namespace, community: Community) -> None:
    accepted: list[str] = []
    refused: list[str] = []
    errors: list[str] = []
    with Ledger.open(args.ledger) as ledger:
        print("ready", flush=True)
        sys.stdin.readline()
        for r in range(args.rounds):
            for kind in ("stock", "main"):
                event, signers = community_event(community, kind, r, args.worker, args.amount)
                try:
                    ledger.append(event, signers)
                except (OverdraftError, OutOfStockError):
                    refused.append(event.id)
                except LedgerError as e:
                    errors.append(f"{event.id}: {type(e).__name__}: {e}")
                else:
                    accepted.append(event.id)
    print(json.dumps({"accepted": accepted, "refused": refused, "errors": errors}), flush=True)


def _diskfull(args: argparse.Namespace, community: Community) -> None:
    factory = FACTORIES[args.factory]
    acked: list[list[object]] = []
    outcome: dict[str, object] = {}
    ledger = Ledger.open(args.ledger)
    sizes = [os.path.getsize(args.ledger)]
    wal = Path(f"{args.ledger}-wal")
    if wal.exists():
        sizes.append(wal.stat().st_size)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = max(sizes) + args.headroom
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        for n in range(args.count):
            event, signers = factory(community, args.worker, n)
            result = ledger.append(event, signers)
            acked.append([event.id, result.entry.seq])
        outcome = {"error_type": None}
    except BaseException as e:
        outcome = {
            "error_type": type(e).__name__,
            "error": str(e),
            "is_ledger_error": isinstance(e, LedgerError),
            "is_storage_error": isinstance(e, StorageError),
        }
    try:
        ledger.close()
    except BaseException as e:
        outcome["close_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps({"acked": acked, "limit": limit, **outcome}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("ack", "contend", "spend", "holds", "diskfull"))
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--factory", default="award")
    parser.add_argument("--ack", default="")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--amount", type=int, default=1)
    parser.add_argument("--headroom", type=int, default=64 * 1024)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    community = Community.of(args.seed, args.members)
    modes = {
        "ack": _ack_loop,
        "contend": _contend,
        "spend": _spend,
        "holds": _holds,
        "diskfull": _diskfull,
    }
    modes[args.mode](args, community)


if __name__ == "__main__":
    main()
