"""The accounting of a kill -9 trial, shared by the crash and group-commit scenarios.

A trial kills the processes appending to a ledger, then counts from what they left:
each writer's acknowledgement file (``<event id> <seq>`` lines, fsynced only after
``append`` returned) and the reopened ledger. :func:`count_after_kill` does the counting
for any number of writers (worker processes or threads of one process): acknowledged
entries missing from their seq (``lost``), a ledger ``verify()`` refuses before or after
the retries (``partial``), an in-flight event stored other than exactly once after the
restarted writer resent it (``duplicated``), and seqs with a hole (``gaps``).
:func:`run_trials` runs and sums trials, :func:`check` states the scenario's figure and
:func:`report_and_check` prints the figures, then checks them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path

from reliability_harness import FACTORIES, Community

from points_ledger import IntegrityError, Ledger

COUNTED = ("acked", "in_flight_committed", "lost", "partial", "duplicated", "gaps")
"""The figures a trial counts and :func:`add_trial` sums."""

FAULTS = ("lost", "partial", "duplicated", "gaps")
"""The figures that must stay 0."""


def read_acks(path: Path) -> list[tuple[str, int]]:
    """The ``(event id, seq)`` pairs a writer acknowledged; a torn last line was not."""
    if not path.exists():
        return []
    acks = []
    for line in path.read_text("ascii").splitlines(keepends=True):
        if line.endswith("\n"):
            event_id, seq = line.split()
            acks.append((event_id, int(seq)))
    return acks


def verify_fails(ledger: Ledger) -> int:
    """1 if ``verify()`` finds a problem (a partial or damaged entry), else 0."""
    try:
        ledger.verify()
    except IntegrityError:
        return 1
    return 0


def count_after_kill(
    ledger: Ledger,
    community: Community,
    factory_name: str,
    acked: Sequence[Sequence[tuple[str, int]]],
) -> dict[str, int]:
    """Count one trial: ``acked[w]`` is what writer ``w`` acknowledged before the kill.

    Each writer is then "restarted": it resends the event after its last acknowledged
    one, which it may or may not have written before it died.
    """
    factory = FACTORIES[factory_name]
    counts = dict.fromkeys(FAULTS, 0)
    counts["partial"] += verify_fails(ledger)
    size_after_kill = ledger.size()
    by_seq = {e.seq: e.event_id for e in ledger.entries()}
    for items in acked:
        counts["lost"] += sum(by_seq.get(seq) != event_id for event_id, seq in items)
    created = 0
    retried = []
    for writer, items in enumerate(acked):
        event, signers = factory(community, writer, len(items))
        created += ledger.append(event, signers).status == "created"
        retried.append(event.id)
    stored = [e.event_id for e in ledger.entries()]
    counts["duplicated"] += sum(stored.count(event_id) != 1 for event_id in retried)
    counts["partial"] += verify_fails(ledger)
    seqs = [e.seq for e in ledger.entries()]
    counts["gaps"] += seqs != list(range(len(seqs)))
    return {
        "acked": sum(len(items) for items in acked),
        "in_flight_committed": len(acked) - created,
        "entries": size_after_kill,
        **counts,
    }


def new_totals(**labels: int | str) -> dict[str, int | str]:
    """Totals of no trial yet, beside the scenario's ``labels`` (factory, threads, ...)."""
    return {**labels, "trials": 0, **dict.fromkeys(COUNTED, 0)}


def add_trial(totals: MutableMapping[str, int | str], figures: Mapping[str, int]) -> None:
    """Add one trial's ``figures`` (from :func:`count_after_kill`) to ``totals``."""
    for name in COUNTED:
        totals[name] = int(totals[name]) + figures[name]
    totals["trials"] = int(totals["trials"]) + 1


def check(totals: Mapping[str, int | str], scenario: str) -> None:
    """The scenario's figure: nothing acknowledged lost, nothing partial or doubled."""
    assert int(totals["acked"]) > 0
    bad = {k: totals[k] for k in FAULTS if totals[k] != 0}
    assert bad == {}, f"{scenario} found {bad}"


def run_trials(
    trial: Callable[[Path, random.Random], Mapping[str, int]],
    tmp_path: Path,
    trials: int,
    seed: int,
    **labels: int | str,
) -> dict[str, int | str]:
    """Run ``trial(workdir, rng)`` ``trials`` times, each in a new folder; the totals."""
    rng = random.Random(seed)
    totals = new_totals(**labels)
    for t in range(trials):
        workdir = tmp_path / f"t{t}"
        workdir.mkdir()
        add_trial(totals, trial(workdir, rng))
    return totals


def report_and_check(
    report: Callable[..., None], scenario: str, totals: Mapping[str, int | str]
) -> None:
    """Print the ``totals`` of ``scenario`` with the ``report`` fixture, then :func:`check`."""
    report(scenario, **totals)
    check(totals, scenario)
