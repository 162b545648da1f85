"""The community story from the seed articles, end to end, against hand-computed figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from community_world import COMMITTEE, World, build_world

from points_ledger import (
    AppendResult,
    AwardPoints,
    ConfirmRedemption,
    Donate,
    Grant,
    HoldExpiredError,
    HoldRedemption,
    ListOffer,
    SetSettlementRate,
    SettlePartner,
    UpdateOffer,
    VoidRedemption,
)
from points_ledger import reports as r
from points_ledger.models.common import Asset


def _award(
    w: World, worker: str, volunteer: str, service: str, qty: int, cell: str, task: str
) -> AppendResult:
    return w.add(
        AwardPoints,
        worker,
        volunteer=volunteer,
        service=service,
        quantity=qty,
        grid_cell=cell,
        task_ref=task,
    )


@pytest.fixture
def story(tmp_path: Path) -> tuple[World, dict[str, int]]:
    w = build_world(tmp_path)
    seqs: dict[str, int] = {}
    # June: grid workers pay for gas-safety checks and elderly visits in two general grids.
    _award(w, "worker.g1", "vol.li", "gas-check", 3, "g1", "gas-001")  # 30
    _award(w, "worker.g1", "vol.wang", "elder-visit", 2, "g1", "elder-001")  # 40
    w.today = dt.date(2023, 6, 2)
    _award(w, "worker.g2", "vol.zhao", "gas-check", 5, "g2", "gas-002")  # 50
    w.today = dt.date(2023, 6, 3)
    _award(w, "worker.g2", "vol.zhao", "elder-visit", 1, "g2", "elder-002")  # 20
    _award(w, "worker.g1", "vol.li", "elder-visit", 3, "g1", "elder-003")  # 60
    w.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="barber",
        item="Haircut",
        price_points=40,
        stock=2,
    )
    # Li redeems a haircut: hold, then the barber confirms.
    w.today = dt.date(2023, 6, 5)
    held = w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.haircut", points=40)
    seqs["li_hold"] = held.entry.seq
    w.clock.advance(hours=1)
    seqs["li_confirm"] = w.add(
        ConfirmRedemption, "barber", voucher=f"V{held.entry.seq:08d}"
    ).entry.seq
    # Wang holds one and changes his mind.
    held = w.add(HoldRedemption, "vol.wang", member="vol.wang", offer="barber.haircut", points=40)
    seqs["wang_hold"] = held.entry.seq
    seqs["wang_void"] = w.add(
        VoidRedemption, "vol.wang", voucher=f"V{held.entry.seq:08d}", reason="changed my mind"
    ).entry.seq
    # Zhao holds one for a day and never turns up.
    w.today = dt.date(2023, 6, 6)
    held = w.add(
        HoldRedemption,
        "vol.zhao",
        member="vol.zhao",
        offer="barber.haircut",
        points=40,
        expires_in_hours=24,
    )
    seqs["zhao_hold"] = held.entry.seq
    w.clock.advance(days=2)
    w.today = dt.date(2023, 6, 8)
    with pytest.raises(HoldExpiredError):
        w.add(ConfirmRedemption, "barber", voucher=f"V{held.entry.seq:08d}")
    # Donations: Zhao's first releases his expired hold.
    seqs["zhao_donate"] = w.add(
        Donate, "vol.zhao", donor="vol.zhao", pool="pool.charity", points=50
    ).entry.seq
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=10)
    # The committee (two different people) grants a household in difficulty a haircut.
    w.today = dt.date(2023, 6, 10)
    seqs["grant"] = w.add(
        Grant,
        "cm.chen",
        "cm.liu",
        pool="pool.charity",
        beneficiary="hh.0042",
        points=40,
        purpose="haircut for an elderly resident living alone",
    ).entry.seq
    held = w.add(HoldRedemption, "hh.0042", member="hh.0042", offer="barber.haircut", points=40)
    seqs["hh_hold"] = held.entry.seq
    w.today = dt.date(2023, 6, 12)
    seqs["hh_confirm"] = w.add(
        ConfirmRedemption, "barber", voucher=f"V{held.entry.seq:08d}"
    ).entry.seq
    # Settlement: the admins and the committee fix 5 fen per point; the treasurer pays June.
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)
    w.today = dt.date(2023, 6, 30)
    seqs["settle"] = w.add(
        SettlePartner,
        "treasurer",
        partner="barber",
        fund="fund.community",
        period_from=dt.date(2023, 6, 1),
        period_to=dt.date(2023, 6, 30),
    ).entry.seq
    # July: one more award, a restock and a hold still open at the end.
    w.today = dt.date(2023, 7, 1)
    _award(w, "worker.g1", "vol.wang", "gas-check", 2, "g1", "gas-003")  # 20
    w.add(UpdateOffer, "barber", offer="barber.haircut", stock=3)
    seqs["wang_hold2"] = w.add(
        HoldRedemption, "vol.wang", member="vol.wang", offer="barber.haircut", points=40
    ).entry.seq
    return w, seqs


def test_balances(story: tuple[World, dict[str, int]]) -> None:
    w, _ = story
    expected = {
        "vol.li": 90 - 40 - 10,
        "vol.wang": 40 + 20,
        "vol.zhao": 70 - 50,
        "pool.charity": 60 - 40,
        "hh.0042": 0,
        "barber": 0,
        "issuer": -(30 + 40 + 50 + 20 + 60 + 20) + 80,
    }
    assert {a: w.pts(a) for a in expected} == expected
    wang = w.ledger.balance("vol.wang")
    assert (wang.posted, wang.pending, wang.available) == (60, 40, 20)
    assert w.ledger.balance("vol.zhao").pending == 0
    assert w.ledger.balance("barber", Asset.CNY).posted == 400
    assert w.ledger.balance("fund.community", Asset.CNY).posted == 100_000 - 400
    assert w.ledger.audit().ok


def test_reports(story: tuple[World, dict[str, int]]) -> None:
    w, s = story
    assert r.points_issued_by_service_month(w.ledger) == (
        r.ServiceMonthRow("elder-visit", "2023-06", 3, 6, 120),
        r.ServiceMonthRow("gas-check", "2023-06", 2, 8, 80),
        r.ServiceMonthRow("gas-check", "2023-07", 1, 2, 20),
    )
    top = r.top_volunteers_by_grid_cell(
        w.ledger, period_from=dt.date(2023, 6, 1), period_to=dt.date(2023, 6, 30)
    )
    assert top == (
        r.TopVolunteerRow("g1", 1, "vol.li", 90, 2),
        r.TopVolunteerRow("g1", 2, "vol.wang", 40, 1),
        r.TopVolunteerRow("g2", 1, "vol.zhao", 70, 2),
    )
    pool = r.pool_report(w.ledger, "pool.charity")
    assert (pool.inflows, pool.outflows, pool.balance) == (60, 40, 20)
    assert [(x.kind, x.counterparty, x.amount) for x in pool.lines] == [
        ("donate", "vol.zhao", 50),
        ("donate", "vol.li", 10),
        ("grant", "hh.0042", -40),
    ]
    assert pool.lines[2].purpose == "haircut for an elderly resident living alone"
    redemptions = r.partner_redemptions(w.ledger, "barber")
    assert [(x.member, x.status, x.closed_seq, x.settled_seq) for x in redemptions] == [
        ("vol.li", "confirmed", s["li_confirm"], s["settle"]),
        ("vol.wang", "voided", s["wang_void"], None),
        ("vol.zhao", "expired", s["zhao_donate"], None),
        ("hh.0042", "confirmed", s["hh_confirm"], s["settle"]),
        ("vol.wang", "pending", None, None),
    ]
    assert r.partner_redemptions(w.ledger, "teahouse") == ()
    assert r.partner_settlements(w.ledger) == (
        r.SettlementRow(
            seq=s["settle"],
            effective_at=dt.date(2023, 6, 30),
            partner="barber",
            fund="fund.community",
            period_from=dt.date(2023, 6, 1),
            period_to=dt.date(2023, 6, 30),
            redemptions=2,
            points=80,
            fen=400,
        ),
    )
    holds = r.outstanding_holds(w.ledger, as_of=w.clock.now)
    assert [(h.voucher, h.member, h.points, h.expired) for h in holds] == [
        (f"V{s['wang_hold2']:08d}", "vol.wang", 40, False)
    ]
    assert holds[0].expires_at == w.clock.now + dt.timedelta(days=7)
    later = r.outstanding_holds(w.ledger, as_of=w.clock.now + dt.timedelta(days=8))
    assert [h.expired for h in later] == [True]
    statement = r.member_statement(w.ledger, "vol.li")
    assert [line.amount for line in statement.lines] == [30, 60, -40, -10]
    assert (statement.posted, statement.pending, statement.available) == (40, 0, 40)


def test_settlement_statement(story: tuple[World, dict[str, int]]) -> None:
    w, s = story
    st = r.settlement_statement(w.ledger, s["settle"])
    assert (st.partner, st.fund, st.fen_per_point, st.points, st.fen) == (
        "barber",
        "fund.community",
        5,
        80,
        400,
    )
    assert [(x.voucher, x.member, x.item, x.points, x.fen, x.confirm_seq) for x in st.lines] == [
        (f"V{s['li_hold']:08d}", "vol.li", "Haircut", 40, 200, s["li_confirm"]),
        (f"V{s['hh_hold']:08d}", "hh.0042", "Haircut", 40, 200, s["hh_confirm"]),
    ]
    assert st.lines[0].confirmed_on == dt.date(2023, 6, 5)


def test_reopen_and_views(story: tuple[World, dict[str, int]]) -> None:
    w, _ = story
    path = w.ledger.path
    w.ledger.close()
    from points_ledger import Ledger

    with Ledger.open(path) as ledger:
        assert ledger.audit().ok
        rows = ledger.read_only_query(
            "SELECT service, month, points FROM v_points_issued_by_service_month "
            "ORDER BY month, service"
        )
        assert rows == [
            ("elder-visit", "2023-06", 120),
            ("gas-check", "2023-06", 80),
            ("gas-check", "2023-07", 20),
        ]


def test_reversed_award_leaves_reports_and_keeps_task_used(tmp_path: Path) -> None:
    from points_ledger import DuplicateTaskError, Reverse

    w = build_world(tmp_path)
    seq = _award(w, "worker.g1", "vol.li", "gas-check", 2, "g1", "gas-009").entry.seq
    w.add(Reverse, "admin", target_seq=seq, reason="wrong household")
    assert w.pts("vol.li") == 0
    assert r.points_issued_by_service_month(w.ledger) == ()
    with pytest.raises(DuplicateTaskError):
        _award(w, "worker.g1", "vol.li", "gas-check", 2, "g1", "gas-009")
    _award(w, "worker.g1", "vol.li", "gas-check", 2, "g1", "gas-009.fix")
    assert r.points_issued_by_service_month(w.ledger) == (
        r.ServiceMonthRow("gas-check", "2023-06", 1, 2, 20),
    )
    assert w.ledger.audit().ok
