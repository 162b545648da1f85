"""A signature is good for one ledger only, and only for as long as its signers allow.

The attacks here are the ones an operator can mount with signatures it has seen: replay
a member's signed spend on another ledger of the same origin (a training ledger, a
re-created one, a fork), or keep a signed event that was refused and submit it again
months later. Format 1 files, whose signatures bound only the origin, are refused with
a message that says what to do.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FixedClock, World, seeded_signer
from points_ledger import (
    EventExpiredError,
    Ledger,
    OverdraftError,
    SchemaVersionError,
    SignatureError,
)


def test_two_ledgers_with_the_same_origin_and_keys_have_different_ids(
    make_world: Callable[..., World],
) -> None:
    real = make_world("real.db")
    training = make_world("training.db")
    assert real.ledger.origin == training.ledger.origin
    assert real.ledger.ledger_id != training.ledger.ledger_id
    assert len(bytes.fromhex(real.ledger.ledger_id)) == 32


def test_a_signature_for_one_ledger_is_refused_on_another_with_the_same_origin(
    make_world: Callable[..., World],
) -> None:
    real = make_world("real.db")
    training = make_world("training.db")  # same origin, same admins, same member keys
    for world in (real, training):
        world.issue("m1", 50, event_id="award-1")
    spend = training.transfer_event("m1", "m2", 40, event_id="spend-1")
    signed_on_training = training.ledger.sign(spend, training.members["m1"])
    training.ledger.append(spend, [signed_on_training])
    with pytest.raises(SignatureError, match="another ledger"):
        real.ledger.append(spend, [signed_on_training])
    assert real.ledger.balance("m1").posted == 50


def test_a_refused_event_cannot_be_replayed_after_its_not_after_date(
    make_world: Callable[..., World],
) -> None:
    clock = FixedClock(dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC))
    world = make_world(clock=clock)
    spend = world.transfer_event("m1", "m2", 30, event_id="spend-1").model_copy(
        update={"not_after": dt.date(2024, 5, 3)}
    )
    signature = world.ledger.sign(spend, world.members["m1"])
    with pytest.raises(OverdraftError):
        world.ledger.append(spend, [signature])  # m1 has nothing yet: refused, not stored
    world.issue("m1", 100)
    clock.advance(days=3)  # 2024-05-04 08:00 UTC: 16:00 on 4 May in Chengdu
    with pytest.raises(EventExpiredError, match="2024-05-03"):
        world.ledger.append(spend, [signature])
    assert world.ledger.balance("m1").posted == 100
    world.ledger.verify()


def test_not_after_is_the_date_in_chengdu_and_verify_replays_the_same_decision(
    make_world: Callable[..., World],
) -> None:
    # 15:59 UTC on 3 May is 23:59 on 3 May in Chengdu: still allowed.
    clock = FixedClock(dt.datetime(2024, 5, 3, 15, 59, tzinfo=dt.UTC))
    world = make_world(clock=clock)
    world.issue("m1", 100)
    last_day = world.transfer_event("m1", "m2", 30, event_id="spend-1").model_copy(
        update={"not_after": dt.date(2024, 5, 3)}
    )
    world.ledger.append(last_day, [world.members["m1"]])
    clock.advance(minutes=1)  # 00:00 on 4 May in Chengdu
    too_late = world.transfer_event("m1", "m2", 30, event_id="spend-2").model_copy(
        update={"not_after": dt.date(2024, 5, 3)}
    )
    with pytest.raises(EventExpiredError):
        world.ledger.append(too_late, [world.members["m1"]])
    world.ledger.verify()
    assert world.ledger.entry(world.ledger.size() - 1).event.not_after == dt.date(2024, 5, 3)


def test_a_format_1_file_is_refused_with_what_to_do(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.ledger.close()
    conn = sqlite3.connect(world.path)
    with conn:
        # What an earlier version wrote: every schema step but the format 2 and 3 marks.
        conn.execute("DELETE FROM _sqlite_migrations WHERE name LIKE 'm00%_format_%'")
    conn.close()
    with pytest.raises(SchemaVersionError, match="format 1") as raised:
        Ledger.open(world.path)
    assert "new ledger" in raised.value.hint


def test_a_format_2_file_is_refused_before_its_history_is_replayed(
    make_world: Callable[..., World],
) -> None:
    """Written before the committee rules: admin-only minting there would not replay."""
    world = make_world()
    world.ledger.close()
    conn = sqlite3.connect(world.path)
    with conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_format_3'")
    conn.close()
    with pytest.raises(SchemaVersionError, match="format 2") as raised:
        Ledger.open(world.path)
    assert "committee" in raised.value.message and "new ledger" in raised.value.hint


def test_genesis_business_date_defaults_to_the_date_in_chengdu(tmp_path: Path) -> None:
    late_evening_utc = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 1 Dec, 01:00 there
    world_clock = FixedClock(late_evening_utc)
    with Ledger.create(
        tmp_path / "l.db",
        origin="test.example/date",
        log_key=seeded_signer("log"),
        admins=[seeded_signer("admin/0")],
        threshold=1,
        clock=world_clock,
    ) as ledger:
        assert ledger.entry(0).event.effective_at == dt.date(2026, 12, 1)
