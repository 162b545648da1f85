"""Scenarios 5 and 6: byte-level corruption and logical tampering are always reported.

Byte flips: a ledger file is built once; each flip XORs one random byte of a fresh copy
(of the main file, or of the ``-wal`` file before checkpoint), then the copy is opened and
audited. Every flip that changes stored content (see ``reliability_damage``) must be
reported by ``audit()`` or refused by ``open``/``audit`` with a ``LedgerError``; nothing
else may escape; the untouched file audits clean.

A damaged WAL frame makes SQLite stop reading the WAL there, silently dropping that
commit and every later one: the file is then a valid, shorter ledger. On its own the
file cannot tell (the test checks that WAL damage only ever loses a suffix of entries,
never alters one); against a checkpoint signed before the damage and kept outside the
file, ``audit(trusted_checkpoint=note)`` must report ``truncated`` naming the first
missing seq, or open/audit must refuse with a ``LedgerError``.

Logical tampering: with the file's triggers dropped, one entry is modified, deleted,
reordered, replaced by a well-chained forgery inserted before it, or replaced by the
entry at the same seq of a sibling ledger (same keys, same origin, other content).
``audit()`` must name that seq every time.

Runs use a process pool (one worker per core): damage cases are independent.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from reliability_damage import (
    TAMPER_KINDS,
    Outcome,
    WalOutcome,
    flip_and_examine,
    logical_digest,
    random_flips,
    tamper_and_examine,
    wal_flip_against_checkpoint,
)
from reliability_harness import (
    Community,
    award_factory,
    build_community,
    grow,
    report_fixture,  # noqa: F401 - report is a fixture
)

from points_ledger import Ledger
from points_ledger.store.sqlite import SqliteStore

SMALL_ENTRIES = 250
SOAK_ENTRIES = 2_000
MEMBERS = 30


def _sqlite(ledger: Ledger) -> SqliteStore:
    """The SQLite store under ``ledger`` (these checks look at the file itself)."""
    store = ledger._store
    assert isinstance(store, SqliteStore)
    return store


def build(path: Path, entries: int, seed: int) -> Path:
    community = Community.of(seed, MEMBERS)
    with build_community(path, community, award=50) as ledger:
        grow(ledger, community, entries - ledger.size())
        assert ledger.size() == entries
    return path


@pytest.fixture(scope="session")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("flip") / "small.db", SMALL_ENTRIES, 501)


@pytest.fixture(scope="session")
def sibling_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same keys and origin as ``small_file``, other content from the first award on."""
    path = tmp_path_factory.mktemp("sibling") / "sibling.db"
    community = Community.of(501, MEMBERS)
    with build_community(path, community, award=49) as ledger:
        grow(ledger, community, SMALL_ENTRIES - ledger.size())
    return path


def pool_map(func: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]) -> list[Any]:
    workers = max(1, min(4, os.cpu_count() or 1))
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(func, *job) for job in jobs]
        return [f.result() for f in futures]


def run_flips(
    source: Path, workdir: Path, flips: int, seed: int, *, wal: bool
) -> tuple[dict[str, int], list[tuple[int, int, Outcome]]]:
    original = logical_digest(source)
    victim = Path(f"{source}-wal") if wal else source
    jobs = [
        (source, workdir / f"flip-{i}.db", original, offset, mask, wal)
        for i, (offset, mask) in enumerate(random_flips(victim.stat().st_size, flips, seed))
    ]
    results: list[tuple[int, int, Outcome]] = pool_map(flip_and_examine, jobs)
    tally: Counter[str] = Counter()
    for _, _, outcome in results:
        tally["flips"] += 1
        tally["changed" if outcome.changed else "unchanged"] += 1
        tally["detected" if outcome.detected else "not_reported"] += 1
        if outcome.changed and not outcome.detected:
            tally["changed_not_reported"] += 1
        if outcome.unexpected:
            tally["unexpected_exceptions"] += 1
    return dict(tally), results


def check_flips(results: list[tuple[int, int, Outcome]]) -> None:
    unexpected = [(o, m, r.unexpected) for o, m, r in results if r.unexpected]
    assert unexpected == [], unexpected[:5]
    missed = [(o, m, r.how) for o, m, r in results if r.changed and not r.detected]
    assert missed == [], f"{len(missed)} content-changing flips not reported: {missed[:5]}"


def test_untouched_file_audits_clean(small_file: Path) -> None:
    with Ledger.open(small_file) as ledger:
        report = ledger.audit()
    assert report.ok, report.to_text()
    assert report.entries_checked == SMALL_ENTRIES


def test_byte_flips(small_file: Path, tmp_path: Path, report: Callable[..., None]) -> None:
    tally, results = run_flips(small_file, tmp_path, 25, seed=5, wal=False)
    report("byte flips", entries=SMALL_ENTRIES, **tally)
    check_flips(results)
    assert tally.get("changed", 0) > 0


@pytest.mark.ci_size
def test_byte_flips_ci_size(small_file: Path, tmp_path: Path, report: Callable[..., None]) -> None:
    tally, results = run_flips(small_file, tmp_path, 200, seed=5, wal=False)
    report("byte flips", entries=SMALL_ENTRIES, **tally)
    check_flips(results)
    assert tally.get("changed", 0) > 0


@pytest.mark.soak
def test_byte_flips_soak(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, report: Callable[..., None]
) -> None:
    source = build(tmp_path_factory.mktemp("soakflip") / "soak.db", SOAK_ENTRIES, 502)
    tally, results = run_flips(source, tmp_path, 10_000, seed=6, wal=False)
    report("byte flips", entries=SOAK_ENTRIES, **tally)
    check_flips(results)


def wal_file(workdir: Path, seed: int, entries: int, in_wal: int) -> tuple[Path, list[bytes]]:
    """A ledger whose last ``in_wal`` entries live only in the WAL (copied while open)."""
    path = workdir / "live.db"
    community = Community.of(seed, MEMBERS)
    ledger = build_community(path, community, award=50)
    grow(ledger, community, entries - in_wal - ledger.size())
    ledger.read_only_query("SELECT 1")
    _sqlite(ledger).conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    grow_more = Community.of(seed, MEMBERS)
    for n in range(in_wal):  # one commit per entry: many WAL frames and commit points
        from reliability_harness import award_factory

        event, signers = award_factory(grow_more, 77, n)
        ledger.append(event, signers)
    hashes = [e.hash for e in ledger.entries()]
    snapshot = workdir / "snapshot.db"
    import shutil

    shutil.copyfile(path, snapshot)
    shutil.copyfile(f"{path}-wal", f"{snapshot}-wal")
    ledger.close()
    return snapshot, hashes


def run_wal_flips(workdir: Path, flips: int, seed: int) -> dict[str, int]:
    source, hashes = wal_file(workdir, seed, 150, 30)
    tally, results = run_flips(source, workdir, flips, seed, wal=True)
    check_flips_wal = [(o, m, r.unexpected) for o, m, r in results if r.unexpected]
    assert check_flips_wal == [], check_flips_wal[:5]
    lost_suffix = 0
    for offset, mask, outcome in results:
        if outcome.detected or not outcome.changed:
            continue
        # Not reported: it must be a clean prefix of the original (lost commits only).
        target = workdir / "again.db"
        flip_and_check_prefix(source, target, offset, mask, hashes)
        lost_suffix += 1
    tally["lost_suffix_undetectable_without_checkpoint"] = lost_suffix
    return tally


def flip_and_check_prefix(
    source: Path, target: Path, offset: int, mask: int, hashes: list[bytes]
) -> None:
    import shutil

    shutil.copyfile(source, target)
    shutil.copyfile(f"{source}-wal", f"{target}-wal")
    with Path(f"{target}-wal").open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ mask]))
    with Ledger.open(target) as ledger:
        got = [e.hash for e in ledger.entries()]
    assert got == hashes[: len(got)], f"WAL flip at {offset} altered entries, not just lost some"
    assert len(got) < len(hashes)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def test_wal_byte_flips(tmp_path: Path, report: Callable[..., None]) -> None:
    report("WAL byte flips", **run_wal_flips(tmp_path, 20, seed=7))


@pytest.mark.soak
def test_wal_byte_flips_soak(tmp_path: Path, report: Callable[..., None]) -> None:
    report("WAL byte flips", **run_wal_flips(tmp_path, 2_000, seed=8))


def checkpointed_wal_file(
    workdir: Path, seed: int, entries: int, in_wal: int
) -> tuple[Path, str, int]:
    """Like :func:`wal_file`, then a checkpoint of all entries is signed; its note is
    returned (kept outside the file) with the number of entries it covers."""
    path = workdir / "live.db"
    community = Community.of(seed, MEMBERS)
    ledger = build_community(path, community, award=50)
    grow(ledger, community, entries - in_wal - ledger.size())
    _sqlite(ledger).conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for n in range(in_wal):  # one commit per entry
        event, signers = award_factory(community, 77, n)
        ledger.append(event, signers)
    signed = ledger.checkpoint(community.log_key, ledger.path.with_suffix(".record"))
    assert signed.size == ledger.size() == entries
    snapshot = workdir / "snapshot.db"
    shutil.copyfile(path, snapshot)
    shutil.copyfile(f"{path}-wal", f"{snapshot}-wal")
    ledger.close()
    return snapshot, signed.note, entries


def run_wal_checkpoint_flips(workdir: Path, flips: int, seed: int) -> dict[str, int]:
    source, note, covered = checkpointed_wal_file(workdir, seed, 150, 30)
    wal_size = Path(f"{source}-wal").stat().st_size
    # The first frame's page bytes: every commit in the WAL is lost; then random flips.
    damage = [(32 + 24 + 100, 0x5A), *random_flips(wal_size, flips, seed)]
    jobs = [
        (source, workdir / f"cp-{i}.db", note, covered, offset, mask, workdir / "live.record")
        for i, (offset, mask) in enumerate(damage)
    ]
    results: list[WalOutcome] = pool_map(wal_flip_against_checkpoint, jobs)
    unexpected = [(r.offset, r.unexpected) for r in results if r.unexpected]
    assert unexpected == [], unexpected[:5]
    missed = [
        (r.offset, r.survived, r.how, r.seqs[:3]) for r in results if r.lost and not r.detected
    ]
    assert missed == [], f"{len(missed)} lost-entry WAL flips not reported: {missed[:5]}"
    first = results[0]
    assert first.lost and first.detected and first.survived == covered - 30, first
    tally: Counter[str] = Counter()
    for r in results:
        tally["flips"] += 1
        if r.survived < 0:
            tally["refused_with_ledger_error"] += 1
        elif r.lost:
            tally["entries_lost_truncation_named"] += 1
        elif r.how == "audit-ok":
            tally["no_entry_lost_audit_ok"] += 1
        else:
            tally["no_entry_lost_reported"] += 1
    return {"entries": covered, "in_wal": 30, **tally}


def test_wal_damage_that_loses_committed_entries_is_detected_against_a_checkpoint(
    tmp_path: Path, report: Callable[..., None]
) -> None:
    """After a WAL flip drops committed frames, auditing against a checkpoint and the log
    key holder's record held outside the file reports ``truncated`` naming the first
    missing seq (or open refuses)."""
    report("WAL damage vs trusted checkpoint", **run_wal_checkpoint_flips(tmp_path, 12, seed=11))


@pytest.mark.soak
def test_wal_damage_against_a_checkpoint_soak(tmp_path: Path, report: Callable[..., None]) -> None:
    report("WAL damage vs trusted checkpoint", **run_wal_checkpoint_flips(tmp_path, 1_000, seed=12))


def run_tamper(
    source: Path, donor: Path, workdir: Path, cases: list[tuple[str, int]]
) -> dict[str, int]:
    community = Community.of(501, MEMBERS)
    jobs = [
        (
            source,
            workdir / f"t-{i}.db",
            kind,
            seq,
            donor,
            community.minter_seeds,
            community.origin,
        )
        for i, (kind, seq) in enumerate(cases)
    ]
    results = pool_map(tamper_and_examine, jobs)
    missed = []
    tally: Counter[str] = Counter()
    for kind, seq, done, outcome in results:
        tally[kind] += 1
        if outcome.unexpected or seq not in outcome.seqs:
            missed.append((kind, seq, done, outcome))
    assert missed == [], f"{len(missed)} tamperings not named by seq: {missed[:5]}"
    return {"cases": len(results), **tally, "missed": 0}


def tamper_cases(entries: int, sample: int | None, seed: int) -> list[tuple[str, int]]:
    seqs = list(range(1, entries))
    if sample is None:
        return [(kind, seq) for seq in seqs for kind in TAMPER_KINDS]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(seqs[:-1], sample))
    cases = [(TAMPER_KINDS[i % len(TAMPER_KINDS)], seq) for i, seq in enumerate(chosen)]
    # The last entry, under every kind: deleting it is a truncation.
    return cases + [(kind, entries - 1) for kind in TAMPER_KINDS]


def test_logical_tampering(
    small_file: Path, sibling_file: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    cases = tamper_cases(SMALL_ENTRIES, 12, seed=9)
    report("logical tampering", **run_tamper(small_file, sibling_file, tmp_path, cases))


@pytest.mark.ci_size
def test_logical_tampering_ci_size(
    small_file: Path, sibling_file: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    cases = tamper_cases(SMALL_ENTRIES, 96, seed=9)
    report("logical tampering", **run_tamper(small_file, sibling_file, tmp_path, cases))


@pytest.mark.soak
def test_logical_tampering_soak(
    small_file: Path, sibling_file: Path, tmp_path: Path, report: Callable[..., None]
) -> None:
    cases = tamper_cases(SMALL_ENTRIES, None, seed=10)
    report("logical tampering", **run_tamper(small_file, sibling_file, tmp_path, cases))
