"""Every community refusal: a specific LedgerError and nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from community_world import COMMITTEE, World, build_world

from points_ledger import (
    AccountKind,
    AuthorizationError,
    AwardPoints,
    ConfirmRedemption,
    Donate,
    DuplicateTaskError,
    Event,
    Grant,
    HoldClosedError,
    HoldExpiredError,
    HoldRedemption,
    InvalidEventError,
    LedgerError,
    LimitExceededError,
    ListOffer,
    NotFoundError,
    OpenAccount,
    OutOfStockError,
    OverdraftError,
    PriceChangedError,
    SetSettlementRate,
    SettlePartner,
    VoidRedemption,
)
from points_ledger.store import STATE_TABLES
from points_ledger.store.memory import MemoryStore


@pytest.fixture
def w(tmp_path: Path) -> World:
    world = build_world(tmp_path, store=MemoryStore())  # rules only: no file needed
    world.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.li",
        service="gas-check",
        quantity=5,
        grid_cell="g1",
        task_ref="gas-001",
    )
    world.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="barber",
        item="Haircut",
        price_points=40,
        stock=1,
    )
    world.add(
        ListOffer,
        "teahouse",
        offer="tea.pot",
        partner="teahouse",
        item="Pot of tea",
        price_points=10,
        stock=10,
    )
    return world


def _snapshot(w: World) -> tuple[Any, ...]:
    """The log's head and every state row, through the store protocol."""
    store = w.ledger._store
    return (store.head(), *(tuple(store.state.table_rows(t)) for t in STATE_TABLES))


def refused(
    w: World, error: type[LedgerError], cls: type[Event], *signers: str, **fields: Any
) -> LedgerError:
    before = _snapshot(w)
    with pytest.raises(error) as info:
        w.add(cls, *signers, **fields)
    assert type(info.value) is error, info.value
    assert _snapshot(w) == before
    return info.value


def award(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "volunteer": "vol.wang",
        "service": "gas-check",
        "quantity": 1,
        "grid_cell": "g1",
        "task_ref": "gas-100",
    }
    return fields | overrides


def test_award_to_oneself(w: World) -> None:
    refused(w, AuthorizationError, AwardPoints, "worker.g1", **award(volunteer="worker.g1"))


def test_award_without_issuer_role(w: World) -> None:
    refused(w, AuthorizationError, AwardPoints, "vol.li", **award())


def test_unknown_service(w: World) -> None:
    refused(w, NotFoundError, AwardPoints, "worker.g1", **award(service="dance-class"))


def test_service_not_active(w: World) -> None:
    w.today = dt.date(2024, 1, 2)
    refused(w, InvalidEventError, AwardPoints, "worker.g1", **award(service="elder-visit"))


def test_over_day_cap(w: World) -> None:
    error = refused(w, LimitExceededError, AwardPoints, "worker.g1", **award(volunteer="vol.li"))
    assert error.details["cap"] == 50


def test_over_month_cap(w: World) -> None:
    for day in range(2, 8):  # 6 days x 50 points = the 300 a month allows
        w.today = dt.date(2023, 6, day)
        w.add(AwardPoints, "worker.g1", **award(quantity=5, task_ref=f"gas-2{day}"))
    w.today = dt.date(2023, 6, 8)
    error = refused(w, LimitExceededError, AwardPoints, "worker.g1", **award())
    assert error.details["cap"] == 300
    w.today = dt.date(2023, 7, 1)
    w.add(AwardPoints, "worker.g1", **award())  # a new month


def test_duplicate_task(w: World) -> None:
    refused(w, DuplicateTaskError, AwardPoints, "worker.g2", **award(task_ref="gas-001"))


def test_redeem_more_than_available(w: World) -> None:
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)  # li has 30
    refused(
        w, OverdraftError, HoldRedemption, "vol.li", member="vol.li", offer="tea.pot", **_pts(4)
    )


def _pts(quantity: int) -> dict[str, int]:
    return {"quantity": quantity, "points": 10 * quantity}


def test_two_holds_exceeding_available(w: World) -> None:
    w.add(HoldRedemption, "vol.li", member="vol.li", offer="tea.pot", **_pts(3))  # 30 of 50
    refused(
        w, OverdraftError, HoldRedemption, "vol.li", member="vol.li", offer="tea.pot", **_pts(3)
    )
    refused(w, OverdraftError, Donate, "vol.li", donor="vol.li", pool="pool.charity", points=21)


def test_two_holds_exceeding_stock(w: World) -> None:
    w.add(AwardPoints, "worker.g1", **award(quantity=5))
    w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.haircut", points=40)
    refused(
        w,
        OutOfStockError,
        HoldRedemption,
        "vol.wang",
        member="vol.wang",
        offer="barber.haircut",
        points=40,
    )


def test_price_changed(w: World) -> None:
    refused(
        w,
        PriceChangedError,
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.haircut",
        points=30,
    )


def test_hold_for_someone_else(w: World) -> None:
    refused(
        w,
        AuthorizationError,
        HoldRedemption,
        "vol.wang",
        member="vol.li",
        offer="tea.pot",
        **_pts(1),
    )


def _hold(w: World, hours: int = 168) -> str:
    seq = w.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.haircut",
        points=40,
        expires_in_hours=hours,
    ).entry.seq
    return f"V{seq:08d}"


def test_confirm_by_another_partner(w: World) -> None:
    voucher = _hold(w)
    refused(w, AuthorizationError, ConfirmRedemption, "teahouse", voucher=voucher)


def test_confirm_unknown_voucher(w: World) -> None:
    refused(w, NotFoundError, ConfirmRedemption, "barber", voucher="V99999999")


def test_confirm_after_expiry(w: World) -> None:
    voucher = _hold(w, hours=2)
    w.clock.advance(hours=2)
    refused(w, HoldExpiredError, ConfirmRedemption, "barber", voucher=voucher)
    # After expiry anyone with a registered key may void it; the member's points return.
    w.add(VoidRedemption, "worker.g2", voucher=voucher, reason="expired")
    assert w.ledger.balance("vol.li").pending == 0
    # Still refused as expired: the release does not turn it into another kind of close.
    refused(w, HoldExpiredError, ConfirmRedemption, "barber", voucher=voucher)


def test_void_by_stranger_before_expiry(w: World) -> None:
    voucher = _hold(w)
    refused(w, AuthorizationError, VoidRedemption, "vol.wang", voucher=voucher, reason="no")


def test_confirm_after_void(w: World) -> None:
    voucher = _hold(w)
    w.add(VoidRedemption, "barber", voucher=voucher, reason="closed today")
    error = refused(w, HoldClosedError, ConfirmRedemption, "barber", voucher=voucher)
    assert error.details["status"] == "voided"
    refused(w, HoldClosedError, VoidRedemption, "vol.li", voucher=voucher, reason="again")


def test_confirm_twice(w: World) -> None:
    voucher = _hold(w)
    w.add(ConfirmRedemption, "barber", voucher=voucher)
    refused(w, HoldClosedError, ConfirmRedemption, "barber", voucher=voucher)


def _grant(points: int = 5) -> dict[str, Any]:
    return {"pool": "pool.charity", "beneficiary": "hh.0042", "points": points, "purpose": "rent"}


def test_grant_with_one_signature(w: World) -> None:
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)
    refused(w, AuthorizationError, Grant, "cm.chen", **_grant())


def test_grant_with_two_keys_of_one_person(w: World) -> None:
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)
    refused(w, AuthorizationError, Grant, "cm.chen", "cm.chen.2", **_grant())


def test_grant_more_than_the_pool(w: World) -> None:
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)
    refused(w, OverdraftError, Grant, "cm.chen", "cm.liu", **_grant(21))
    w.add(Grant, "cm.chen", "cm.liu", **_grant(20))
    assert w.pts("pool.charity") == 0


def test_settlement_refusals(w: World) -> None:
    voucher = _hold(w)
    w.add(ConfirmRedemption, "barber", voucher=voucher)
    settle = {
        "partner": "barber",
        "fund": "fund.community",
        "period_from": dt.date(2023, 6, 1),
        "period_to": dt.date(2023, 6, 30),
    }
    refused(w, NotFoundError, SettlePartner, "treasurer", **settle)
    # The committee is seated: the admins alone may not fix what a point is worth.
    refused(w, AuthorizationError, SetSettlementRate, "admin", fen_per_point=5)
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)
    refused(w, AuthorizationError, SettlePartner, "admin", **settle)
    refused(w, AuthorizationError, SetSettlementRate, "treasurer", fen_per_point=6)
    july = settle | {"period_from": dt.date(2023, 7, 1), "period_to": dt.date(2023, 7, 31)}
    refused(w, InvalidEventError, SettlePartner, "treasurer", **july)
    w.add(OpenAccount, "admin", account="fund.empty", account_kind=AccountKind.FUND)
    refused(w, OverdraftError, SettlePartner, "treasurer", **settle | {"fund": "fund.empty"})
    w.add(SettlePartner, "treasurer", **settle)
    assert w.ledger.balance("barber", "CNY").posted == 200


def test_refusals_leave_audit_clean(w: World) -> None:
    test_confirm_after_void(w)
    assert w.ledger.audit().ok
