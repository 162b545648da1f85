"""An expired hold never blocks spending: generic debits release it first."""

from __future__ import annotations

from pathlib import Path

import pytest
from community_world import World, build_world

from points_ledger import (
    Asset,
    AwardPoints,
    ConfirmRedemption,
    HoldExpiredError,
    HoldRedemption,
    ListOffer,
    OverdraftError,
    Posting,
    Reverse,
    Transfer,
)
from points_ledger.reports import outstanding_holds
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
    )  # vol.li has 50 points
    world.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="barber",
        item="Haircut",
        price_points=40,
        stock=1,
    )
    return world


def donate_by_transfer(w: World, points: int) -> Transfer:
    return w.event(
        Transfer,
        postings=(
            Posting(account="vol.li", asset=Asset.PTS, amount=-points),
            Posting(account="pool.charity", asset=Asset.PTS, amount=points),
        ),
    )


def test_pending_hold_blocks_a_transfer_until_it_expires(w: World) -> None:
    hold = w.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.haircut",
        points=40,
        expires_in_hours=1,
    ).entry
    before = w.ledger.size()
    with pytest.raises(OverdraftError):
        w.ledger.append(donate_by_transfer(w, 30), [w.keys["vol.li"]])
    assert w.ledger.size() == before
    assert w.ledger.balance("vol.li", Asset.PTS).pending == 40

    w.clock.advance(hours=2)
    entry = w.ledger.append(donate_by_transfer(w, 30), [w.keys["vol.li"]]).entry
    balance = w.ledger.balance("vol.li", Asset.PTS)
    assert (balance.posted, balance.pending, balance.available) == (20, 0, 20)
    assert outstanding_holds(w.ledger, as_of=w.clock.now) == ()
    voucher = f"V{hold.seq:08d}"
    with pytest.raises(HoldExpiredError):
        w.add(ConfirmRedemption, "barber", voucher=voucher)
    assert entry.seq == w.ledger.size() - 1
    assert w.ledger.audit().ok


def test_reversal_of_an_award_releases_expired_holds_first(w: World) -> None:
    w.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.haircut",
        points=40,
        expires_in_hours=1,
    )
    award_seq = next(e.seq for e in w.ledger.entries() if e.kind == "award_points")
    w.clock.advance(hours=2)
    w.add(Reverse, "admin", target_seq=award_seq, reason="paid twice")
    balance = w.ledger.balance("vol.li", Asset.PTS)
    assert (balance.posted, balance.pending) == (0, 0)
    assert w.ledger.audit().ok
