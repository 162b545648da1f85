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
from typing import Any

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


def _child(
    checker: SignatureChecker, queue: multiprocessing.Queue[tuple[list[list[bool]], int | None]]
) -> None:
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
    queue: multiprocessing.Queue[tuple[list[list[bool]], int | None]] = ctx.Queue()
    child = ctx.Process(target=_child, args=(checker, queue))
    child.start()
    got, child_helper = queue.get(timeout=60)
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


def _payments(world: World, count: int, first: int = 0) -> list[tuple[object, list[object]]]:
    items: list[tuple[object, list[object]]] = []
    for i in range(first, first + count):
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
        origin, ledger_id = ledger.origin, bytes.fromhex(ledger.ledger_id)
    forged = attacker.sign(signing_input(origin, ledger_id, event_to_bytes(event)))
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


# -- the pipe stays in step ------------------------------------------------------------


def _interrupt_receive_once(monkeypatch: pytest.MonkeyPatch, on_call: int) -> None:
    """Make the ``on_call``-th read of an answer raise KeyboardInterrupt (as Ctrl-C)."""
    real = sigcheck._receive
    calls = [0]

    def receive(*args: Any) -> bytes:
        calls[0] += 1
        if calls[0] == on_call:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(sigcheck, "_receive", receive)


def test_an_interrupt_while_reading_answers_drops_the_helper(
    checker: SignatureChecker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers left in the pipe by an interrupted call must never reach the next one."""
    valid = [[item] for item in _items(400) if check_one(*item)]
    _interrupt_receive_once(monkeypatch, on_call=2)
    with pytest.raises(KeyboardInterrupt):
        for _ in checker.check_each(valid, lambda group: group):
            pass
    assert checker._proc is None
    forged = [[(pk, msg, bytes(64))] for ((pk, msg, _sig),) in valid]
    got = [flags for _, flags in checker.check_each(forged, lambda group: group)]
    assert got == [[False]] * len(forged)


def test_an_interrupted_verify_does_not_vouch_for_a_later_forgery(
    tmp_path: Path, ahead: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(tmp_path / "a.db")
    world.issue("m1", 1000)
    world.ledger.append_many(_payments(world, 300))  # type: ignore[arg-type]
    _interrupt_receive_once(monkeypatch, on_call=2)
    with pytest.raises(KeyboardInterrupt):
        world.ledger.verify()
    items = _payments(world, 300, first=1000)
    event, _ = items[0]
    signed = world.ledger.sign(event, world.members["m1"])  # type: ignore[arg-type]
    items[0] = (event, [Signature(key_id=signed.key_id, signature=bytes(64))])
    size = world.ledger.size()
    with pytest.raises(SignatureError):
        world.ledger.append_many(items)  # type: ignore[arg-type]
    assert world.ledger.size() == size


def test_a_stream_opened_inside_another_checks_in_process(checker: SignatureChecker) -> None:
    outer = _groups(_items(400))
    inner = _groups(_items(300)[::-1])
    expected_outer = [[check_one(*item) for item in group] for group in outer]
    expected_inner = [[check_one(*item) for item in group] for group in inner]
    got_outer, got_inner = [], []
    for n, (_, flags) in enumerate(checker.check_each(outer, lambda group: group)):
        got_outer.append(flags)
        if n == 5:  # e.g. an append from an audit's progress callback
            got_inner = [f for _, f in checker.check_each(inner, lambda group: group)]
    assert got_outer == expected_outer
    assert got_inner == expected_inner


def test_a_repeated_key_id_with_one_bad_signature_is_reported(
    tmp_path: Path, ahead: list[int]
) -> None:
    """One good signature must not vouch for another row with the same key id."""
    world, history = _build(tmp_path / "t.db")
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    try:
        drop_triggers(conn)
        (key_id,) = conn.execute(
            "SELECT key_id FROM signatures WHERE seq = ? AND idx = 0", (history.pay,)
        ).fetchone()
        conn.execute(
            "INSERT INTO signatures (seq, idx, key_id, signature) VALUES (?, 1, ?, zeroblob(64))",
            (history.pay, key_id),
        )
    finally:
        conn.close()
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    assert ahead
    codes = {p.code for p in report.problems if p.seq == history.pay}
    assert "rule_broken" in codes, report.to_text()


def _sleep_child(ready: Any, done: Any) -> None:
    ready.set()
    done.wait(60)


def test_a_forked_child_does_not_keep_the_parents_helper_alive(
    checker: SignatureChecker,
) -> None:
    assert checker.start()
    proc = checker._proc
    assert proc is not None
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_sleep_child, args=(ready, done))
    child.start()
    try:
        assert ready.wait(60)
        checker.close()  # the child still runs: it must not hold the helper's stdin open
        # A helper that saw end of input exits by itself (0); one killed after the close
        # timeout would report -SIGKILL.
        assert proc.returncode == 0
    finally:
        done.set()
        child.join(60)
