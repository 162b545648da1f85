"""What an application developer meets: short reprs, the logger, a Ledger in another thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from conftest import World
from points_ledger import IntegrityError, Ledger, LedgerError, LogRecord, StorageError
from points_ledger.errors import WrongThreadError
from points_ledger.repl import LedgerConsole


def test_append_result_repr_is_one_short_line(world: World) -> None:
    result = world.issue("m1", 30, event_id="award-1")
    seq = result.entry.seq
    text = repr(result)
    assert text == f"AppendResult(status='created', seq={seq}, kind='transfer', event_id='award-1')"
    assert str(result) == text
    entry_text = repr(result.entry)
    assert entry_text.startswith(
        f"Entry(seq={seq}, kind='transfer', event_id='award-1', recorded_at="
    )
    assert len(entry_text) < 200 and "\n" not in entry_text
    assert "b'" not in entry_text  # no bytes literal: the hash is base64


def test_repl_echoes_an_entry_on_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    seq = world.issue("m1", 30, event_id="award-1").entry.seq
    console = LedgerConsole(world.ledger)
    capsys.readouterr()
    console.push(f"ledger.entry({seq})")
    echoed = capsys.readouterr().out.strip()
    assert echoed.startswith(f"Entry(seq={seq}, kind='transfer'") and "\n" not in echoed


def test_logger_records_appends_checkpoints_and_verify(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="points_ledger")
    first = world.issue("m1", 30, event_id="award-1").entry.seq
    minting = [*world.quorum, *world.committee]
    world.ledger.append_many(
        [(world.transfer_event("issuer", "m2", 5, event_id=f"b-{n}"), minting) for n in (1, 2)]
    )
    world.ledger.checkpoint(world.log_key, LogRecord.open(tmp_path / "log.record"))
    world.ledger.verify()
    size = world.ledger.size()
    messages = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    appended = f"appended 1 entries to {world.path} (seq {first} to {first})"
    assert ("points_ledger.ledger", "INFO", appended) in messages
    batch = f"appended 2 entries to {world.path} (seq {first + 1} to {first + 2})"
    assert any(m == batch for _, _, m in messages)
    one = f"entry {first + 1} transfer id=b-1: created"
    assert any(m == one for _, lvl, m in messages if lvl == "DEBUG")
    signed = f"checkpoint of test.example/core signed at size {size}"
    assert any(m.startswith(signed) for *_, m in messages)
    assert any(m.startswith(f"verify of {world.path} passed: {size} entries") for *_, m in messages)


def test_logger_warns_of_verify_problems(world: World, caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    seq = world.issue("m1", 30).entry.seq
    world.ledger.close()
    conn = sqlite3.connect(world.path)
    with conn:
        conn.execute("DROP TRIGGER postings_no_update")
        conn.execute("UPDATE postings SET amount = 999 WHERE seq = ? AND amount > 0", (seq,))
    conn.close()
    caplog.set_level(logging.INFO, logger="points_ledger")
    with Ledger.open(world.path) as ledger:
        with pytest.raises(IntegrityError):
            ledger.verify()
        report = ledger.audit()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith(f"verify of {world.path} failed at entry {seq}") for w in warnings)
    assert f"audit of {world.path} found {report.problems_total} problems" in warnings


def test_library_prints_nothing_without_a_handler(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    handlers = logging.getLogger("points_ledger").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    world.issue("m1", 30)
    assert capsys.readouterr() == ("", "")


def test_a_ledger_used_in_another_thread_is_a_clear_error(world: World) -> None:
    caught: list[BaseException] = []

    def use() -> None:
        try:
            world.ledger.size()
        except BaseException as e:
            caught.append(e)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(caught) == 1
    error = caught[0]
    assert isinstance(error, WrongThreadError) and isinstance(error, StorageError)
    assert isinstance(error, LedgerError) and error.code == "wrong_thread"
    assert "opened in another thread" in error.message and "per thread" in error.hint
    # A Ledger per thread works: both see the same file.
    sizes: list[int] = []

    def own() -> None:
        with Ledger.open(world.path, read_only=True) as mine:
            sizes.append(mine.size())

    thread = threading.Thread(target=own)
    thread.start()
    thread.join()
    assert sizes == [world.ledger.size()]


@pytest.mark.parametrize("size", [3, 300], ids=["small batch", "batch checked by the helper"])
def test_a_refused_batch_names_the_event(world: World, size: int) -> None:
    events = [world.transfer_event("issuer", "m1", 1, event_id=f"b-{n}") for n in range(size)]
    events[size - 2] = world.transfer_event("m2", "m1", 5, event_id="overdraw")
    minting = [*world.quorum, *world.committee]
    before = world.ledger.size()
    with pytest.raises(LedgerError) as caught:
        world.ledger.append_many([(event, minting) for event in events])
    assert caught.value.code in ("insufficient_balance", "not_authorized")
    assert caught.value.details["batch_index"] == size - 2
    assert caught.value.details["event_id"] == "overdraw"
    assert world.ledger.size() == before
    # A lone append keeps its details as they were.
    with pytest.raises(LedgerError) as alone:
        world.ledger.append(events[size - 2], minting)
    assert "batch_index" not in alone.value.details
