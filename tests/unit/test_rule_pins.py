"""Rules that a single changed line of the rules code must not get past unnoticed.

Each test pins one behaviour that random mutants of ``domain/``, ``policy.py``,
``merkle.py`` and ``split/allocation.py`` showed nothing else held: the account kinds of
donations and grants, joining the alliance twice, the cap on a partner's unsettled
redemptions, settling a period twice, the empty Merkle range, the policy's own
thresholds, the order of refusals in a transfer and the allocation explanation.

The community ledger lives in a :class:`MemoryStore`, so the tests are quick enough for a
mutation run to repeat them for every mutant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from community_world import COMMITTEE, World, build_world, seeded

from conftest import DAY, FixedClock, seat_committee, seeded_signer
from memory_world import memory_world
from points_ledger import (
    AccountExistsError,
    AccountKind,
    Asset,
    AuthorizationError,
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    DelistOffer,
    Donate,
    Event,
    Genesis,
    Grant,
    HoldExpiredError,
    HoldRedemption,
    InvalidEventError,
    JoinAlliance,
    KeySpec,
    Ledger,
    LedgerError,
    LimitExceededError,
    ListOffer,
    OpenAccount,
    OutOfStockError,
    OverdraftError,
    Posting,
    PriceChangedError,
    ProofError,
    RecoverKey,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Transfer,
    UnknownAccountError,
    UpdateOffer,
)
from points_ledger.domain import alliance, settlement
from points_ledger.domain.state import LedgerConfig, Plan
from points_ledger.merkle import subtree_nodes_for_range
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT, BACKDATE_DAYS_LIMIT
from points_ledger.policy import NotOwnedBy, OwnerSignature, Policy, RoleQuorum, all_of
from points_ledger.split import explain_allocation
from points_ledger.store.memory import MemoryStore

ACCOUNTS = ("vol.li", "vol.wang", "hh.0042", "barber", "pool.charity", "fund.community")


@pytest.fixture
def w() -> World:
    """The community world on a memory store; vol.li holds 50 points, the pool 20."""
    world = build_world(Path("unused"), store=MemoryStore())
    world.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.li",
        service="gas-check",
        quantity=5,
        grid_cell="g1",
        task_ref="gas-001",
    )
    world.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)
    return world


def _snapshot(w: World) -> tuple[Any, ...]:
    balances = tuple(
        (w.ledger.balance(a, Asset.PTS), w.ledger.balance(a, Asset.CNY)) for a in ACCOUNTS
    )
    return (w.ledger.size(), balances)


def refused(
    w: World, error: type[LedgerError], cls: type[Event], *signers: str, **fields: Any
) -> LedgerError:
    """Append and expect exactly ``error``, with nothing written."""
    before = _snapshot(w)
    with pytest.raises(error) as info:
        w.add(cls, *signers, **fields)
    assert type(info.value) is error, info.value
    assert _snapshot(w) == before
    return info.value


# --- donations and grants: account kinds ------------------------------------------------


def test_a_donation_goes_to_a_pool_not_to_a_member(w: World) -> None:
    # Otherwise a "donation" is a transfer between members without the checks of one.
    error = refused(
        w, InvalidEventError, Donate, "vol.li", donor="vol.li", pool="vol.wang", points=5
    )
    assert "pool" in str(error)


def test_a_donation_comes_from_a_member(w: World) -> None:
    w.add(Grant, *COMMITTEE, pool="pool.charity", beneficiary="hh.0042", points=5, purpose="rent")
    error = refused(
        w, InvalidEventError, Donate, "hh.0042", donor="hh.0042", pool="pool.charity", points=5
    )
    assert "beneficiary" in str(error)


@pytest.mark.parametrize("recipient", ["barber", "fund.community"])
def test_a_grant_goes_to_a_beneficiary_or_member(w: World, recipient: str) -> None:
    error = refused(
        w,
        InvalidEventError,
        Grant,
        *COMMITTEE,
        pool="pool.charity",
        beneficiary=recipient,
        points=5,
        purpose="rent",
    )
    assert "beneficiary or member" in str(error)


def test_a_grant_comes_from_a_pool_not_from_a_member(w: World) -> None:
    # The committee does not spend a member's points by calling them a pool.
    error = refused(
        w,
        InvalidEventError,
        Grant,
        *COMMITTEE,
        pool="vol.li",
        beneficiary="hh.0042",
        points=5,
        purpose="rent",
    )
    assert "pool" in str(error)


# --- the alliance --------------------------------------------------------------------------


def test_a_partner_joins_the_alliance_once(w: World) -> None:
    second_key = seeded("barber/second")
    refused(
        w,
        AccountExistsError,
        JoinAlliance,
        "admin",
        *COMMITTEE,
        partner="barber",
        name="Another barber",
        public_key=second_key.public_key_b64,
    )


def _confirmed_redemptions(w: World, count: int) -> None:
    w.add(
        ListOffer,
        "barber",
        offer="barber.trim",
        partner="barber",
        item="Trim",
        price_points=1,
        stock=count + 1,
    )
    for _ in range(count):
        seq = w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.trim", points=1)
        w.add(ConfirmRedemption, "barber", voucher=f"V{seq.entry.seq:08d}")


def test_unsettled_redemptions_cap_is_two_thousand() -> None:
    # The published limit: changing it is a decision, not an accident.
    assert alliance.UNSETTLED_PER_PARTNER_MAX == 2000


def test_the_unsettled_cap_refuses_exactly_the_one_over(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alliance, "UNSETTLED_PER_PARTNER_MAX", 3)
    _confirmed_redemptions(w, 3)  # the third reaches the cap and is still accepted
    seq = w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.trim", points=1)
    error = refused(
        w, LimitExceededError, ConfirmRedemption, "barber", voucher=f"V{seq.entry.seq:08d}"
    )
    assert "3 unsettled" in str(error)


def test_settling_the_same_period_twice_pays_once(w: World) -> None:
    _confirmed_redemptions(w, 2)
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)
    settle = {
        "partner": "barber",
        "fund": "fund.community",
        "period_from": dt.date(2023, 6, 1),
        "period_to": dt.date(2023, 6, 30),
    }
    w.add(SettlePartner, "treasurer", **settle)
    assert w.ledger.balance("barber", Asset.CNY).posted == 10
    refused(w, InvalidEventError, SettlePartner, "treasurer", **settle)
    assert w.ledger.balance("barber", Asset.CNY).posted == 10


# --- transfers -----------------------------------------------------------------------------


def test_an_unknown_account_is_named_before_the_signatures_are_judged(w: World) -> None:
    # vol.wang's signature does not authorize spending vol.li's points, but the first
    # thing to fix is the account that does not exist.
    postings = (
        Posting(account="vol.li", asset=Asset.PTS, amount=-5),
        Posting(account="vol.nobody", asset=Asset.PTS, amount=5),
    )
    error = refused(w, UnknownAccountError, Transfer, "vol.wang", postings=postings)
    assert "vol.nobody" in str(error)


# --- pure rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [(0, 0), (4, 4), (8, 8), (5, 4)])
def test_an_empty_or_backwards_range_has_no_subtrees(start: int, end: int) -> None:
    with pytest.raises(ProofError, match="empty"):
        subtree_nodes_for_range(start, end)


@pytest.mark.parametrize("threshold", [0, 33, 40])
def test_a_policy_refuses_thresholds_out_of_range(threshold: int) -> None:
    with pytest.raises(InvalidEventError, match="1 to 32"):
        Policy(admin_threshold=threshold)
    with pytest.raises(InvalidEventError, match="1 to 32"):
        Policy(committee_threshold=threshold)


@pytest.mark.parametrize("threshold", [1, 32])
def test_a_policy_accepts_thresholds_at_the_bounds(threshold: int) -> None:
    policy = Policy(admin_threshold=threshold, committee_threshold=threshold)
    assert policy.admins().threshold == threshold
    assert policy.committee().threshold == threshold


def test_the_explanation_states_the_sum_of_floors_and_the_leftover() -> None:
    text = explain_allocation(11, {"b": 2, "a": 1}).to_text(yuan=False)
    assert "Sum of floors: 10; leftover units: 1." in text.splitlines()
    text = explain_allocation(12, {"b": 2, "a": 1}).to_text(yuan=False)
    assert "Sum of floors: 12; leftover units: 0." in text.splitlines()


def test_an_account_kind_is_what_was_opened(w: World) -> None:
    # The fixture's accounts have the kinds the tests above rely on.
    kinds = {a: w.ledger.account(a).kind for a in ACCOUNTS}
    assert kinds == {
        "vol.li": AccountKind.MEMBER,
        "vol.wang": AccountKind.MEMBER,
        "hh.0042": AccountKind.BENEFICIARY,
        "barber": AccountKind.PARTNER,
        "pool.charity": AccountKind.POOL,
        "fund.community": AccountKind.FUND,
    }


# --- expired holds, reversals, the committee ----------------------------------------------


def _expired_hold(w: World, member: str, offer: str, points: int) -> None:
    w.add(
        ListOffer,
        "barber",
        offer=offer,
        partner="barber",
        item="Shave",
        price_points=points,
        stock=1,
    )
    w.add(HoldRedemption, member, member=member, offer=offer, points=points, expires_in_hours=1)
    w.clock.advance(hours=2)


def test_a_members_expired_hold_frees_their_points_for_a_donation(w: World) -> None:
    _expired_hold(w, "vol.li", "barber.shave", 30)  # all of vol.li's 30 points
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=30)
    assert w.pts("vol.li") == 0


def test_an_expired_hold_frees_the_offers_stock(w: World) -> None:
    _expired_hold(w, "vol.li", "barber.shave", 30)
    w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.wang",
        service="gas-check",
        quantity=3,
        grid_cell="g1",
        task_ref="gas-002",
    )
    w.add(HoldRedemption, "vol.wang", member="vol.wang", offer="barber.shave", points=30)


def test_reversing_a_gift_to_the_pool_needs_the_committee(w: World) -> None:
    postings = (  # one point: a reversal's smallest debit still counts
        Posting(account="vol.li", asset=Asset.PTS, amount=-1),
        Posting(account="pool.charity", asset=Asset.PTS, amount=1),
    )
    seq = w.add(Transfer, "vol.li", postings=postings).entry.seq
    fields = {"target_seq": seq, "reason": "entered twice"}
    refused(w, AuthorizationError, Reverse, "admin", **fields)
    w.add(Reverse, "admin", *COMMITTEE, **fields)
    assert w.pts("pool.charity") == 20


def test_the_seated_committee_cannot_be_revoked_below_its_quorum(w: World) -> None:
    w.add(RevokeKey, "admin", *COMMITTEE, key_id=w.keys["cm.sun"].key_id, reason="moved away")
    refused(
        w,
        LimitExceededError,
        RevokeKey,
        "admin",
        *COMMITTEE,
        key_id=w.keys["cm.liu"].key_id,
        reason="moved away",
    )


def test_only_committee_keys_seat_the_committee() -> None:
    world = memory_world()
    seat_committee(world.ledger, world.quorum, people=("cm:0001",))
    world.add_member("m3")  # a member key is not a second committee member
    # Not yet seated, so the admins alone still register the second committee key.
    seat_committee(world.ledger, world.quorum, people=("cm:0002",))
    # Now it is: a third needs the committee too.
    with pytest.raises(AuthorizationError):
        seat_committee(world.ledger, world.quorum, people=("cm:0003",))


def test_policy_defaults_and_backdating_bounds() -> None:
    assert Policy().committee_threshold == 2
    assert Policy().admin_threshold == 1
    for days in (0, BACKDATE_DAYS_LIMIT):
        assert Policy(backdate_days_max=days).backdate_days_max == days
    for days in (-1, BACKDATE_DAYS_LIMIT + 1):
        with pytest.raises(InvalidEventError, match="backdate_days_max"):
            Policy(backdate_days_max=days)


def test_a_members_expired_hold_frees_their_points_for_a_transfer(w: World) -> None:
    _expired_hold(w, "vol.li", "barber.shave", 30)
    postings = (
        Posting(account="vol.li", asset=Asset.PTS, amount=-30),
        Posting(account="vol.wang", asset=Asset.PTS, amount=30),
    )
    w.add(Transfer, "vol.li", postings=postings)
    assert w.pts("vol.wang") == 30


def test_new_points_need_every_requirement_not_only_the_first(w: World) -> None:
    postings = (
        Posting(account="issuer", asset=Asset.PTS, amount=-10),
        Posting(account="vol.li", asset=Asset.PTS, amount=10),
    )
    refused(w, AuthorizationError, Transfer, "admin", postings=postings)
    refused(w, AuthorizationError, Transfer, *COMMITTEE, postings=postings)
    w.add(Transfer, "admin", *COMMITTEE, postings=postings)
    assert w.pts("vol.li") == 40


def test_a_key_for_an_account_whose_keys_are_all_revoked_needs_recovery(w: World) -> None:
    w.add(RevokeKey, "admin", key_id=w.keys["vol.zhao"].key_id, reason="phone lost")
    spec = KeySpec(
        public_key=seeded("vol.zhao/new").public_key_b64, roles=(Role.MEMBER,), owner="vol.zhao"
    )
    error = refused(w, AuthorizationError, RegisterKey, "admin", *COMMITTEE, key=spec)
    assert "was revoked" in str(error)


def test_closing_one_hold_keeps_the_members_other_holds_in_view(w: World) -> None:
    w.add(
        ListOffer,
        "barber",
        offer="barber.trim",
        partner="barber",
        item="Trim",
        price_points=10,
        stock=1,
    )
    seq = w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.trim", points=10)
    _expired_hold(w, "vol.li", "barber.shave", 20)
    w.add(ConfirmRedemption, "barber", voucher=f"V{seq.entry.seq:08d}")
    # The expired hold is still found through vol.li and released for the donation.
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=20)
    assert w.pts("vol.li") == 0


def _key(name: str, role: Role, owner: str | None) -> KeySpec:
    return KeySpec(public_key=seeded(name).public_key_b64, roles=(role,), owner=owner)


def test_a_committee_key_names_its_person(w: World) -> None:
    error = refused(
        w,
        InvalidEventError,
        RegisterKey,
        "admin",
        *COMMITTEE,
        key=_key("cm.x", Role.COMMITTEE, None),
    )
    assert "must name the account of the person" in str(error)


def test_a_new_admin_key_is_registered_unless_its_person_sits_on_the_committee(w: World) -> None:
    w.add(OpenAccount, "admin", account="adm.new", account_kind=AccountKind.MEMBER)
    w.add(RegisterKey, "admin", *COMMITTEE, key=_key("adm.new", Role.ADMIN, "adm.new"))
    error = refused(
        w,
        InvalidEventError,
        RegisterKey,
        "admin",
        *COMMITTEE,
        key=_key("adm.sun", Role.ADMIN, "cm.sun"),
    )
    assert "may not hold both" in str(error)


def test_all_of_one_requirement_is_that_requirement() -> None:
    requirement = Policy().admins()
    assert all_of([requirement]) is requirement


@pytest.mark.parametrize(
    ("after", "accepted"),
    [(dt.timedelta(hours=1, microseconds=-1), True), (dt.timedelta(hours=1), False)],
)
def test_a_hold_expires_exactly_its_hours_after_it_was_recorded(
    w: World, after: dt.timedelta, accepted: bool
) -> None:
    w.add(
        ListOffer,
        "barber",
        offer="barber.shave",
        partner="barber",
        item="Shave",
        price_points=5,
        stock=1,
    )
    seq = w.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.shave",
        points=5,
        expires_in_hours=1,
    ).entry.seq
    w.clock.now += after
    if accepted:
        w.add(ConfirmRedemption, "barber", voucher=f"V{seq:08d}")
    else:
        refused(w, HoldExpiredError, ConfirmRedemption, "barber", voucher=f"V{seq:08d}")


def test_a_service_is_active_on_its_last_day(w: World) -> None:
    w.today = dt.date(2023, 12, 31)  # elder-visit runs to the end of 2023
    w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.wang",
        service="elder-visit",
        quantity=1,
        grid_cell="g1",
        task_ref="visit-001",
    )
    assert w.pts("vol.wang") == 20


def test_system_accounts_are_opened_by_the_genesis_entry(w: World) -> None:
    assert w.ledger.account("issuer").opened_seq == 0
    assert w.ledger.account("external").opened_seq == 0


def test_a_plan_cannot_be_changed_after_it_is_made() -> None:
    plan = Plan(requirement=Policy().admins())
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.postings = ()  # type: ignore[misc]


def _pool_to(account: str, points: int) -> tuple[Posting, ...]:
    return (
        Posting(account="pool.charity", asset=Asset.PTS, amount=-points),
        Posting(account=account, asset=Asset.PTS, amount=points),
    )


def test_the_committee_moves_the_pool_but_not_to_its_own_members(w: World) -> None:
    refused(w, AuthorizationError, Transfer, "admin", postings=_pool_to("hh.0042", 5))
    refused(w, AuthorizationError, Transfer, *COMMITTEE, postings=_pool_to("cm.chen", 1))
    w.add(Transfer, *COMMITTEE, postings=_pool_to("hh.0042", 5))
    assert w.pts("hh.0042") == 5


def test_open_hold_limits_are_published() -> None:
    assert alliance.HOLDS_PER_MEMBER_MAX == 20
    assert alliance.HOLDS_PER_OFFER_MAX == 500


def test_the_open_hold_limits_refuse_exactly_the_one_over(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alliance, "HOLDS_PER_MEMBER_MAX", 2)
    monkeypatch.setattr(alliance, "HOLDS_PER_OFFER_MAX", 3)
    w.add(
        ListOffer,
        "barber",
        offer="barber.trim",
        partner="barber",
        item="Trim",
        price_points=1,
        stock=9,
    )
    hold = {"offer": "barber.trim", "points": 1}
    w.add(HoldRedemption, "vol.li", member="vol.li", **hold)
    w.add(HoldRedemption, "vol.li", member="vol.li", **hold)
    error = refused(w, LimitExceededError, HoldRedemption, "vol.li", member="vol.li", **hold)
    assert "'vol.li' already has 2 open holds" in str(error)
    w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.wang",
        service="gas-check",
        quantity=1,
        grid_cell="g1",
        task_ref="gas-003",
    )
    w.add(HoldRedemption, "vol.wang", member="vol.wang", **hold)  # the offer's third
    error = refused(w, LimitExceededError, HoldRedemption, "vol.wang", member="vol.wang", **hold)
    assert "'barber.trim' has 3 open holds" in str(error)


def test_requirements_are_frozen() -> None:
    for requirement in (
        RoleQuorum(Role.ADMIN),
        OwnerSignature("vol.li"),
        NotOwnedBy("vol.li"),
        Policy(),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            requirement.__setattr__("role", Role.MEMBER)


def test_a_period_of_one_day_covers_that_days_confirmations(w: World) -> None:
    _confirmed_redemptions(w, 1)
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)
    day = dt.date(2023, 6, 1)
    w.add(
        SettlePartner,
        "treasurer",
        partner="barber",
        fund="fund.community",
        period_from=day,
        period_to=day,
    )
    assert w.ledger.balance("barber", Asset.CNY).posted == 5


def test_a_service_is_not_active_before_its_first_day(w: World) -> None:
    w.add(
        DefineService,
        "admin",
        *COMMITTEE,
        code="tree-care",
        name="Tree care",
        points_per_unit=5,
        unit=ServiceUnit.HOUR,
        points_per_day_max=20,
        active_from=dt.date(2023, 7, 1),
    )
    award = {"volunteer": "vol.wang", "service": "tree-care", "quantity": 1, "grid_cell": "g1"}
    error = refused(w, InvalidEventError, AwardPoints, "worker.g1", task_ref="tree-1", **award)
    assert "(active from 2023-07-01 to open end)" in str(error)
    w.today = dt.date(2023, 7, 1)
    w.add(AwardPoints, "worker.g1", task_ref="tree-2", **award)
    assert w.pts("vol.wang") == 5


def test_a_lost_key_is_recovered_by_admins_and_committee(w: World) -> None:
    spec = _key("vol.zhao/new", Role.MEMBER, "vol.zhao")
    w.add(RecoverKey, "admin", *COMMITTEE, key=spec, reason="phone lost")
    assert w.ledger.key(w.keys["vol.zhao"].key_id).revoked_at_seq is not None


def test_recovery_cannot_take_the_committee_below_its_quorum(w: World) -> None:
    w.add(RevokeKey, "admin", *COMMITTEE, key_id=w.keys["cm.sun"].key_id, reason="moved away")
    spec = _key("cm.liu/new", Role.MEMBER, "cm.liu")
    refused(w, LimitExceededError, RecoverKey, "admin", *COMMITTEE, key=spec, reason="lost")


def test_a_partner_updates_and_delists_an_offer(w: World) -> None:
    _confirmed_redemptions(w, 0)  # lists barber.trim at 1 point, stock 1
    w.add(UpdateOffer, "barber", offer="barber.trim", price_points=7)
    hold = {"member": "vol.li", "offer": "barber.trim"}
    refused(w, PriceChangedError, HoldRedemption, "vol.li", points=1, **hold)
    w.add(UpdateOffer, "barber", offer="barber.trim", stock=0)
    refused(w, OutOfStockError, HoldRedemption, "vol.li", points=7, **hold)
    w.add(UpdateOffer, "barber", offer="barber.trim", stock=1)
    w.add(DelistOffer, "barber", offer="barber.trim")
    refused(w, InvalidEventError, HoldRedemption, "vol.li", points=7, **hold)
    refused(w, InvalidEventError, DelistOffer, "barber", offer="barber.trim")


def test_award_caps_count_the_first_award_of_a_day_and_a_month(w: World) -> None:
    w.add(
        DefineService,
        "admin",
        *COMMITTEE,
        code="sweeping",
        name="Sweeping the lane",
        points_per_unit=1,
        unit=ServiceUnit.HOUR,
        points_per_day_max=3,
        points_per_month_max=5,
        active_from=dt.date(2023, 1, 1),
    )
    award = {"volunteer": "vol.wang", "service": "sweeping", "grid_cell": "g1"}
    error = refused(
        w, LimitExceededError, AwardPoints, "worker.g1", quantity=4, task_ref="s1", **award
    )
    assert (
        str(error) == "'vol.wang' would earn 4 points from 'sweeping' on 2023-06-01; the cap is 3"
    )
    w.add(AwardPoints, "worker.g1", quantity=3, task_ref="s2", **award)
    w.today = dt.date(2023, 6, 2)
    error = refused(
        w, LimitExceededError, AwardPoints, "worker.g1", quantity=3, task_ref="s3", **award
    )
    assert str(error) == "'vol.wang' would earn 6 points from 'sweeping' in 2023-06; the cap is 5"


def test_an_admin_key_is_revoked_down_to_the_threshold_and_no_further(w: World) -> None:
    w.add(OpenAccount, "admin", account="adm.new", account_kind=AccountKind.MEMBER)
    w.keys["adm.new"] = seeded("adm.new")
    w.add(RegisterKey, "admin", *COMMITTEE, key=_key("adm.new", Role.ADMIN, "adm.new"))
    w.add(RevokeKey, "adm.new", *COMMITTEE, key_id=w.keys["admin"].key_id, reason="retired")
    key_id = w.keys["adm.new"].key_id
    refused(w, LimitExceededError, RevokeKey, "adm.new", *COMMITTEE, key_id=key_id, reason="x")
    # Nor may a recovery replace the last admin's key by one without the role.
    spec = _key("adm.new/2", Role.MEMBER, "adm.new")
    refused(w, LimitExceededError, RecoverKey, "adm.new", *COMMITTEE, key=spec, reason="lost")


def test_the_genesis_admin_keys_are_valid_from_the_genesis_entry(w: World) -> None:
    key = w.ledger.key(w.keys["admin"].key_id)
    assert (key.valid_from_seq, key.revoked_at_seq) == (0, None)


def test_a_quorum_says_in_plain_words_what_it_needs() -> None:
    assert RoleQuorum(Role.ADMIN).describe() == "needs a signature from a key with the admin role"
    assert (
        RoleQuorum(Role.COMMITTEE, 2).describe()
        == "needs signatures from 2 different people with the committee role"
    )


@pytest.mark.parametrize(("amount_max", "accepted"), [(10, True), (9, False)])
def test_a_settlement_may_reach_the_amount_limit_but_not_pass_it(
    w: World, monkeypatch: pytest.MonkeyPatch, amount_max: int, accepted: bool
) -> None:
    monkeypatch.setattr(settlement, "AMOUNT_MAX", amount_max)
    _confirmed_redemptions(w, 2)
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)  # 10 fen in all
    settle = {
        "partner": "barber",
        "fund": "fund.community",
        "period_from": dt.date(2023, 6, 1),
        "period_to": dt.date(2023, 6, 1),
    }
    if accepted:
        w.add(SettlePartner, "treasurer", **settle)
    else:
        refused(w, LimitExceededError, SettlePartner, "treasurer", **settle)


@pytest.mark.parametrize("backdate_days_max", [0, BACKDATE_DAYS_DEFAULT])
def test_the_backdating_limit_chosen_at_genesis_holds(backdate_days_max: int) -> None:
    clock = FixedClock()
    admin = seeded("admin")
    ledger = Ledger.create(
        MemoryStore(),
        origin="test.example/backdating",
        log_key=seeded("log"),
        admins=[admin],
        threshold=1,
        effective_at=clock().date(),
        backdate_days_max=backdate_days_max,
        clock=clock,
    )
    yesterday = OpenAccount(
        id="open-1",
        effective_at=clock().date() - dt.timedelta(days=1),
        account="m1",
        account_kind=AccountKind.MEMBER,
    )
    if backdate_days_max:
        ledger.append(yesterday, [admin])
    else:
        with pytest.raises(InvalidEventError):
            ledger.append(yesterday, [admin])


def test_a_one_point_transfer_needs_the_spenders_signature(w: World) -> None:
    postings = (
        Posting(account="vol.li", asset=Asset.PTS, amount=-1),
        Posting(account="vol.wang", asset=Asset.PTS, amount=1),
    )
    refused(w, AuthorizationError, Transfer, "vol.wang", postings=postings)
    w.add(Transfer, "vol.li", postings=postings)
    assert w.pts("vol.wang") == 1


def test_an_owner_signature_says_in_plain_words_what_it_needs() -> None:
    assert (
        OwnerSignature("vol.li", frozenset({Role.MEMBER})).describe()
        == "needs a signature from a member key owned by account 'vol.li'"
    )
    assert (
        OwnerSignature("vol.li").describe()
        == "needs a signature from a key owned by account 'vol.li'"
    )


def test_an_award_can_be_reversed(w: World) -> None:
    seq = w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.wang",
        service="gas-check",
        quantity=2,
        grid_cell="g1",
        task_ref="gas-004",
    ).entry.seq
    w.add(Reverse, "admin", target_seq=seq, reason="the check was not done")
    assert w.pts("vol.wang") == 0


def test_a_donation_cannot_be_reversed(w: World) -> None:
    seq = w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=5).entry.seq
    error = refused(
        w, InvalidEventError, Reverse, "admin", *COMMITTEE, target_seq=seq, reason="by mistake"
    )
    assert "cannot be reversed" in str(error)


@pytest.mark.parametrize(
    "cls", [LedgerConfig, Plan, RoleQuorum, OwnerSignature, NotOwnedBy, Policy]
)
def test_rule_records_are_frozen_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    params = vars(cls)["__dataclass_params__"]
    assert params.frozen


@pytest.mark.parametrize("may_also_hold", [(), (Role.TREASURER,)])
def test_an_admin_may_also_be_treasurer_only_where_genesis_says_so(
    may_also_hold: tuple[Role, ...],
) -> None:
    clock = FixedClock()
    admin = seeded("admin")
    ledger = Ledger.create(
        MemoryStore(),
        origin="test.example/separation",
        log_key=seeded("log"),
        admins=[admin],
        threshold=1,
        effective_at=clock().date(),
        admin_may_also_hold=may_also_hold,
        clock=clock,
    )
    day = clock().date()
    ledger.append(
        OpenAccount(id="open-1", effective_at=day, account="a1", account_kind=AccountKind.MEMBER),
        [admin],
    )
    key = KeySpec(
        public_key=seeded("a1").public_key_b64, roles=(Role.ADMIN, Role.TREASURER), owner="a1"
    )
    register = RegisterKey(id="key-1", effective_at=day, key=key)
    if may_also_hold:
        ledger.append(register, [admin])
    else:
        with pytest.raises(InvalidEventError, match="may not hold both"):
            ledger.append(register, [admin])


def test_a_hold_is_released_at_the_very_moment_it_expires(w: World) -> None:
    _confirmed_redemptions(w, 0)  # barber.trim at 1 point
    w.add(UpdateOffer, "barber", offer="barber.trim", price_points=30)
    w.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.trim",
        points=30,
        expires_in_hours=1,
    )
    w.clock.advance(hours=1)
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=30)
    assert w.pts("vol.li") == 0


def test_an_account_whose_postings_cancel_out_neither_spends_nor_receives(w: World) -> None:
    # cm.chen's and vol.wang's postings cancel out: they neither sign as spenders nor
    # count as receivers.
    postings = (
        Posting(account="cm.chen", asset=Asset.PTS, amount=-1),
        Posting(account="cm.chen", asset=Asset.PTS, amount=1),
        Posting(account="pool.charity", asset=Asset.PTS, amount=-3),
        Posting(account="hh.0042", asset=Asset.PTS, amount=3),
    )
    w.add(Transfer, *COMMITTEE, postings=postings)
    postings = (
        Posting(account="vol.wang", asset=Asset.PTS, amount=-1),
        Posting(account="vol.wang", asset=Asset.PTS, amount=1),
        Posting(account="vol.li", asset=Asset.PTS, amount=-3),
        Posting(account="hh.0042", asset=Asset.PTS, amount=3),
    )
    w.add(Transfer, "vol.li", postings=postings)
    assert w.pts("hh.0042") == 6


def test_reversing_a_payment_from_the_pool_is_for_the_admins(w: World) -> None:
    seq = w.add(Transfer, *COMMITTEE, postings=_pool_to("hh.0042", 5)).entry.seq
    w.add(Reverse, "admin", target_seq=seq, reason="paid to the wrong household")
    assert w.pts("pool.charity") == 20


def test_a_committee_key_may_be_revoked_before_the_committee_is_seated() -> None:
    world = memory_world()
    (signer,) = seat_committee(world.ledger, world.quorum, people=("cm:0001",))
    revoke = RevokeKey(id="rev-1", effective_at=DAY, key_id=signer.key_id, reason="stood down")
    world.ledger.append(revoke, world.quorum)
    assert world.ledger.key(signer.key_id).revoked_at_seq is not None


def _genesis(owners: tuple[str | None, str | None]) -> tuple[Genesis, list[Any]]:
    admins = [seeded_signer(f"admin/{i}") for i in range(2)]
    genesis = Genesis(
        id="genesis",
        effective_at=DAY,
        origin="test.example/core",
        nonce="0" * 32,
        log_key=seeded_signer("log").public_key_b64,
        admins=tuple(
            KeySpec(public_key=a.public_key_b64, roles=(Role.ADMIN,), owner=owner)
            for a, owner in zip(admins, owners, strict=True)
        ),
        admin_threshold=2,
    )
    return genesis, admins


def test_genesis_admin_keys_cannot_name_an_owner_account() -> None:
    # Ledger.create never names one, so only a genesis event made by hand reaches the rule:
    # no account exists yet for the key to belong to.
    ledger = Ledger(MemoryStore(), clock=FixedClock())
    genesis, admins = _genesis(owners=(None, "m1"))
    with pytest.raises(InvalidEventError, match="cannot name an owner account"):
        ledger.append(genesis, admins)
    assert ledger.size() == 0
    genesis, admins = _genesis(owners=(None, None))
    assert ledger.append(genesis, admins).entry.seq == 0
    assert ledger.key(admins[0].key_id).owner is None


def test_a_hold_beyond_the_available_points_says_what_it_needs(w: World) -> None:
    # vol.li has 30 points; a hold moves none yet but reserves 40 of them.
    w.add(
        ListOffer,
        "barber",
        offer="barber.perm",
        partner="barber",
        item="Perm",
        price_points=40,
        stock=1,
    )
    error = refused(
        w, OverdraftError, HoldRedemption, "vol.li", member="vol.li", offer="barber.perm", points=40
    )
    assert error.details == {"account": "vol.li", "asset": "PTS", "available": 30, "needed": 40}
