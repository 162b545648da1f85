"""Signatures checked ahead in a helper process never change a verdict.

Large batches and large audits send signature checks to a helper process on the other
core (``points_ledger._sigcheck``). Its answers only let the rules skip arithmetic they
would otherwise do, for a key whose public key the rules derived themselves. These tests
force that path on small ledgers and check that results, errors and audit reports are
the same as with every check done in line, that a dying helper is survived, and that a
forked child never reads its parent's pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_tamper import TAMPERS, _build, assert_detected, drop_triggers

import points_ledger._sigcheck as sigcheck
import points_ledger.audit as audit_module
import points_ledger.ledger as ledger_module
from conftest import World, build_world, seeded_signer
from points_ledger import Ledger, Signature, SignatureError
from points_ledger._sigcheck import SignatureChecker, check_one
from points_ledger.canonical import event_to_bytes, signing_input

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="the helper process is only used with two cores or more"
)


def _items(count: int) -> list[tuple[bytes, bytes, bytes]]:
    """Valid and invalid (public key, message, signature) triples, mixed."""
    items = []
    for i in range(count):
        signer = seeded_signer(f"helper/{i % 5}")
        message = f"message {i}".encode() * (1 + i % 7)
        signature = signer.sign(message)
        if i % 3 == 1:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        elif i % 11 == 4:
            message += b"!"
        elif i % 17 == 8:
            signature = signature[:40]
        public_key = signer.public_key if i % 13 != 6 else b"short"
        items.append((public_key, message, signature))
    return items


def _groups(items: list[tuple[bytes, bytes, bytes]]) -> list[list[tuple[bytes, bytes, bytes]]]:
    """Split items into objects of 0 to 3 items each."""
    groups, start, size = [], 0, 0
    while start < len(items):
        groups.append(items[start : start + size])
        start += size
        size = (size + 1) % 4
    return groups


@pytest.fixture
def checker() -> Iterator[SignatureChecker]:
    checker = SignatureChecker()
    yield checker
    checker.close()


def test_helper_answers_equal_in_line_checks(checker: SignatureChecker) -> None:
    groups = _groups(_items(700))
    expected = [[check_one(*item) for item in group] for group in groups]
    assert any(any(g) for g in expected) and not all(all(g) for g in expected)
    got = list(checker.check_each(groups, lambda group: group))
    assert [obj for obj, _ in got] == groups
    assert [flags for _, flags in got] == expected
    assert checker._proc is not None and checker._proc.poll() is None


def test_stopping_early_leaves_a_clean_pipe(checker: SignatureChecker) -> None:
    groups = _groups(_items(600))
    expected = [[check_one(*item) for item in group] for group in groups]
    stream = checker.check_each(groups, lambda group: group)
    for _ in range(10):
        next(stream)
    stream.close()  # answers for requests already sent are still owed
    got = [flags for _, flags in checker.check_each(groups, lambda group: group)]
    assert got == expected


def test_a_killed_helper_is_survived(checker: SignatureChecker) -> None:
    groups = _groups(_items(900))
    expected = [[check_one(*item) for item in group] for group in groups]
    stream = checker.check_each(groups, lambda group: group)
    got = [next(stream)[1] for _ in range(20)]
    assert checker._proc is not None
    os.kill(checker._proc.pid, signal.SIGKILL)
    got += [flags for _, flags in stream]
    assert got == expected
    assert checker._proc is None
    # Later calls check in this process.
    assert [f for _, f in checker.check_each(groups, lambda group: group)] == expected


def test_the_switch_turns_the_helper_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sigcheck.ENV_SWITCH, "0")
    checker = SignatureChecker()
    groups = _groups(_items(200))
    got = [flags for _, flags in checker.check_each(groups, lambda group: group)]
    assert got == [[check_one(*item) for item in group] for group in groups]
    assert checker._proc is None
    assert checker.start() is False


def test_start_runs_the_helper_before_any_work(checker: SignatureChecker) -> None:
    assert checker.start() is True
    assert checker._proc is not None and checker._proc.poll() is None
    first = checker._proc.pid
    assert checker.start() is True and checker._proc.pid == first  # one helper, reused
    checker.close()
    assert checker._proc is None


def _child(checker: SignatureChecker, queue: multiprocessing.Queue[object]) -> None:
    groups = _groups(_items(300))
    got = [flags for _, flags in checker.check_each(groups, lambda group: group)]
    proc = checker._proc
    queue.put((got, None if proc is None else proc.pid))
    checker.close()


def test_a_forked_child_starts_its_own_helper(checker: SignatureChecker) -> None:
    groups = _groups(_items(300))
    expected = [[check_one(*item) for item in group] for group in groups]
    assert [f for _, f in checker.check_each(groups, lambda group: group)] == expected
    assert checker._proc is not None
    parent_helper = checker._proc.pid
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = ctx.Queue()
    child = ctx.Process(target=_child, args=(checker, queue))
    child.start()
    got, child_helper = queue.get(timeout=60)  # type: ignore[misc]
    child.join(timeout=60)
    assert child.exitcode == 0
    assert got == expected
    assert child_helper not in (None, parent_helper)
    # The parent's helper is untouched by the child's use and exit.
    assert checker._proc is not None and checker._proc.poll() is None
    assert [f for _, f in checker.check_each(groups, lambda group: group)] == expected


# -- through the ledger ------------------------------------------------------------------


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Force the helper path for any audit and any batch; count the streams started."""
    monkeypatch.setattr(audit_module, "HELPER_MIN_ENTRIES", 0)
    monkeypatch.setattr(ledger_module, "_HELPER_MIN_EVENTS", 1)
    streams: list[int] = []
    real = SignatureChecker._stream

    def counting(self: SignatureChecker, *args: object) -> object:
        streams.append(1)
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SignatureChecker, "_stream", counting)
    return streams


def _payments(world: World, count: int) -> list[tuple[object, list[object]]]:
    items: list[tuple[object, list[object]]] = []
    for i in range(count):
        event = world.transfer_event("m1", "m2", 1, event_id=f"p{i}")
        items.append((event, [world.members["m1"]]))
    return items


def test_a_batch_checked_ahead_appends_the_same_entries(tmp_path: Path, ahead: list[int]) -> None:
    world = build_world(tmp_path / "a.db")
    world.issue("m1", 1000)
    results = world.ledger.append_many(_payments(world, 300))  # type: ignore[arg-type]
    assert ahead, "the batch did not go through the helper"
    assert [r.status for r in results] == ["created"] * 300
    assert world.ledger.balance("m2").posted == 300
    world.ledger.verify()


def test_a_bad_signature_in_a_batch_checked_ahead_refuses_the_batch(
    tmp_path: Path, ahead: list[int]
) -> None:
    world = build_world(tmp_path / "a.db")
    world.issue("m1", 1000)
    size = world.ledger.size()
    items = _payments(world, 300)
    event, _ = items[150]
    good = world.ledger.sign(event, world.members["m1"])  # type: ignore[arg-type]
    bad = Signature(key_id=good.key_id, signature=bytes(64))
    items[150] = (event, [bad])
    with pytest.raises(SignatureError) as info:
        world.ledger.append_many(items)  # type: ignore[arg-type]
    assert ahead
    assert good.key_id in str(info.value)
    assert world.ledger.size() == size


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_detected_with_signatures_checked_ahead(
    tmp_path: Path, ahead: list[int], name: str
) -> None:
    world, history = _build(tmp_path / "t.db")
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    try:
        drop_triggers(conn)
        seq = TAMPERS[name](conn, history)
    finally:
        conn.close()
    assert_detected(world.path, seq)
    assert ahead, "the audit did not go through the helper"


def test_a_swapped_public_key_in_the_key_table_does_not_vouch_for_a_forgery(
    tmp_path: Path, ahead: list[int]
) -> None:
    """The file's key table decides what is checked ahead, never what is accepted.

    An attacker replaces m1's public key in the cached ``keys`` table with their own and
    re-signs one of m1's payments: the helper finds that signature valid for the swapped
    key, but the replay derives m1's key from the ``RegisterKey`` entry and checks the
    forged signature itself.
    """
    world, history = _build(tmp_path / "t.db")
    attacker = seeded_signer("attacker")
    victim = world.members["m1"]
    with Ledger.open(world.path) as ledger:
        event = ledger.entry(history.pay).event
        origin = ledger.origin
    forged = attacker.sign(signing_input(origin, event_to_bytes(event)))
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    try:
        drop_triggers(conn)
        conn.execute(
            "UPDATE keys SET public_key = ? WHERE key_id = ?",
            (attacker.public_key, victim.key_id),
        )
        conn.execute(
            "UPDATE signatures SET signature = ? WHERE seq = ? AND key_id = ?",
            (forged, history.pay, victim.key_id),
        )
    finally:
        conn.close()
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    assert ahead
    assert history.pay in report.seqs(), report.to_text()
    codes = {p.code for p in report.problems if p.seq == history.pay}
    assert "rule_broken" in codes, report.to_text()
