"""Business dates are bounded by the day an entry is recorded.

An issuer who could date awards into any month would pass a monthly cap once per month
it invents; a mistyped year would become a permanent entry. ``effective_at`` may be at
most one day after the recording day (Asia/Shanghai) and at most the genesis policy's
``backdate_days_max`` (default 366) days before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from community_world import START, World, build_world

from points_ledger import (
    AccountKind,
    AwardPoints,
    EffectiveDateError,
    InvalidEventError,
    Ledger,
    LedgerError,
    OpenAccount,
)
from points_ledger.canonical import event_from_bytes
from points_ledger.store.memory import MemoryStore


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = build_world(tmp_path, store=MemoryStore())  # rules only: no file needed
    yield world
    world.ledger.close()


def _award(w: World, day: dt.date, task: str, quantity: int = 1) -> Any:
    event = AwardPoints(
        id=f"aw-{task}",
        effective_at=day,
        volunteer="vol.wang",
        service="gas-check",
        quantity=quantity,
        grid_cell="g1",
        task_ref=task,
    )
    return w.ledger.append(event, [w.keys["worker.g1"]])


def test_awards_dated_into_future_months_do_not_pass_the_cap_again(w: World) -> None:
    # gas-check pays 10 points a household, at most 300 a month. The attack: date each
    # batch of 30 households into another month, 120 months ahead.
    size = w.ledger.size()
    first_month = _award(w, w.today, "gas-now", quantity=5)
    assert first_month.created
    for month in range(1, 121):
        day = dt.date(2023 + (5 + month) // 12, (5 + month) % 12 + 1, 1)
        with pytest.raises(EffectiveDateError, match="at most one day ahead"):
            _award(w, day, f"gas-{month}", quantity=5)
    assert w.ledger.size() == size + 1
    assert w.pts("vol.wang") == 50
    w.ledger.verify()


def test_tomorrow_in_shanghai_is_the_latest_date(w: World) -> None:
    # 16:30 UTC on 1 June is 00:30 on 2 June in Chengdu: the 3rd is "tomorrow".
    w.clock.now = dt.datetime(2023, 6, 1, 16, 30, tzinfo=dt.UTC)
    assert _award(w, dt.date(2023, 6, 3), "gas-a").created
    with pytest.raises(EffectiveDateError) as info:
        _award(w, dt.date(2023, 6, 4), "gas-b")
    assert info.value.code == "effective_date_out_of_range"
    assert info.value.details["latest"] == "2023-06-03"
    assert isinstance(info.value, InvalidEventError)
    w.ledger.verify()


def test_a_mistyped_year_is_refused_and_nothing_is_written(w: World) -> None:
    size = w.ledger.size()
    with pytest.raises(EffectiveDateError, match="2035"):
        _award(w, dt.date(2035, 6, 1), "gas-typo")
    with pytest.raises(EffectiveDateError, match="366 days before"):
        _award(w, dt.date(2022, 5, 30), "gas-old")
    assert w.ledger.size() == size
    # 366 days back is still inside the window (late paperwork for last year).
    late = START.date() - dt.timedelta(days=366)
    assert w.add(
        OpenAccount, "admin", account="vol.late", account_kind=AccountKind.MEMBER, effective_at=late
    ).created
    with pytest.raises(EffectiveDateError):
        w.add(
            OpenAccount,
            "admin",
            account="vol.later",
            account_kind=AccountKind.MEMBER,
            effective_at=late - dt.timedelta(days=1),
        )


def test_genesis_sets_a_shorter_window_and_verify_replays_it(tmp_path: Path) -> None:
    from conftest import FixedClock, seeded_signer

    clock = FixedClock(dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC))
    admins = [seeded_signer("dates/a"), seeded_signer("dates/b")]
    with Ledger.create(
        tmp_path / "short.db",
        origin="dates.example/x",
        log_key=seeded_signer("dates/log"),
        admins=admins,
        effective_at=dt.date(2024, 5, 1),
        clock=clock,
        backdate_days_max=30,
    ) as ledger:
        genesis = ledger.entry(0)
        assert b'"backdate_days_max":30' in genesis.event_bytes

        def open_event(account: str, day: dt.date) -> OpenAccount:
            return OpenAccount(
                id=f"open-{account}",
                effective_at=day,
                account=account,
                account_kind=AccountKind.MEMBER,
            )

        ledger.append(open_event("m1", dt.date(2024, 4, 1)), admins)  # 30 days back
        with pytest.raises(EffectiveDateError, match="30 days before"):
            ledger.append(open_event("m2", dt.date(2024, 3, 31)), admins)
        clock.advance(days=40)
        ledger.verify()  # replays with the stored recorded_at, not today's clock
        assert ledger.audit().ok


def test_default_policy_fields_stay_out_of_the_genesis_bytes(w: World) -> None:
    genesis = w.ledger.entry(0)
    assert b"backdate_days_max" not in genesis.event_bytes
    assert b"admin_may_also_hold" not in genesis.event_bytes
    # Writing the default explicitly is not the canonical form: one event, one encoding.
    spelled_out = genesis.event_bytes.replace(b'"admins"', b'"admin_may_also_hold":[],"admins"')
    with pytest.raises(LedgerError, match="canonical"):
        event_from_bytes(spelled_out)
