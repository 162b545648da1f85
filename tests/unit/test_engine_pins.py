"""The checks every entry passes (``engine.py``), pinned at their edges on a ledger in
memory: how many signatures an event may carry, the last day an event may be recorded,
how far ahead and back a business date may lie, and what an overdraft reports.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from community_world import build_world

from conftest import DAY, World, seeded_signer
from memory_world import memory_world
from points_ledger import (
    Asset,
    AwardPoints,
    EffectiveDateError,
    EventExpiredError,
    HoldRedemption,
    IntegrityError,
    LedgerError,
    LimitExceededError,
    ListOffer,
    OverdraftError,
    Posting,
    Signature,
    SignatureError,
    Transfer,
    UnknownKeyError,
    UpdateOffer,
    engine,
)
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT
from points_ledger.store.memory import MemoryStore


@pytest.fixture
def world() -> World:
    """Two admins, members m1 (10 points) and m2, the committee seated; recorded on DAY."""
    world = memory_world()
    world.issue("m1", 10)
    return world


def _refused(
    world: World, error: type[LedgerError], *args: object, **kwargs: object
) -> LedgerError:
    size = world.ledger.size()
    with pytest.raises(error) as info:
        world.ledger.append(*args, **kwargs)  # type: ignore[arg-type]
    assert type(info.value) is error, info.value
    assert world.ledger.size() == size
    return info.value


def test_an_event_carries_at_most_sixteen_signatures(world: World) -> None:
    strangers = [seeded_signer(f"stranger/{i}") for i in range(17)]
    event = world.transfer_event("m1", "m2", 1)
    error = _refused(world, LimitExceededError, event, strangers)
    assert "at most 16 signatures" in str(error)
    # Sixteen pass that check and meet the next one: keys nobody registered.
    _refused(world, UnknownKeyError, event, strangers[:16])


def test_an_event_may_be_recorded_on_its_last_day_and_not_after(world: World) -> None:
    late = world.transfer_event("m1", "m2", 1).model_copy(
        update={"not_after": DAY - dt.timedelta(days=1)}
    )
    error = _refused(world, EventExpiredError, late, [world.members["m1"]])
    assert error.details == {"not_after": "2024-04-30"}
    on_time = world.transfer_event("m1", "m2", 1).model_copy(update={"not_after": DAY})
    world.ledger.append(on_time, [world.members["m1"]])
    assert world.ledger.balance("m2", Asset.PTS).posted == 1


@pytest.mark.parametrize(
    ("days", "accepted"),
    [
        (1, True),
        (2, False),
        (-BACKDATE_DAYS_DEFAULT, True),
        (-BACKDATE_DAYS_DEFAULT - 1, False),
    ],
)
def test_a_business_date_lies_within_a_day_ahead_and_the_backdating_window(
    world: World, days: int, accepted: bool
) -> None:
    event = world.transfer_event("m1", "m2", 1, effective_at=DAY + dt.timedelta(days=days))
    if accepted:
        world.ledger.append(event, [world.members["m1"]])
        return
    error = _refused(world, EffectiveDateError, event, [world.members["m1"]])
    edge = DAY + dt.timedelta(days=1 if days > 0 else -BACKDATE_DAYS_DEFAULT)
    assert error.details["latest" if days > 0 else "earliest"] == edge.isoformat()


def test_an_overdraft_says_what_is_available_and_what_is_needed(world: World) -> None:
    error = _refused(
        world, OverdraftError, world.transfer_event("m1", "m2", 11), [world.members["m1"]]
    )
    assert error.details == {"account": "m1", "asset": "PTS", "available": 10, "needed": 11}
    world.pay("m1", "m2", 10)


def test_a_signature_not_checked_ahead_is_checked_in_line(world: World) -> None:
    # Checked ahead, only a signature that verifies may skip the check in the rules; this
    # one (m1's key over other bytes) is not, and the rules must refuse it.
    m1 = world.members["m1"]
    forged = Signature(key_id=m1.key_id, signature=m1.sign(b"some other message"))
    error = _refused(world, SignatureError, world.transfer_event("m1", "m2", 1), [forged])
    assert error.details == {"key_id": m1.key_id}


def test_the_published_limits_of_an_entry() -> None:
    # Changing them is a decision, not an accident; only a distribution to a roster of
    # thousands comes near the postings limit, too slow to build here.
    assert engine.SIGNATURES_MAX == 16
    assert engine.POSTINGS_MAX == 10_000


def test_only_signatures_that_verify_are_marked_as_checked_ahead() -> None:
    good, other = seeded_signer("ahead/good"), seeded_signer("ahead/other")
    message = b"the signing input"
    signatures = [
        Signature(key_id=good.key_id, signature=good.sign(message)),
        Signature(key_id=other.key_id, signature=other.sign(b"another input")),
        Signature(key_id="0123456789abcdef", signature=good.sign(message)),
    ]
    keys = {good.key_id: good.public_key, other.key_id: other.public_key}
    assert engine.verified_keys(message, signatures, keys.get) == {good.key_id: good.public_key}


def test_a_key_counts_as_checked_ahead_only_if_all_its_signatures_were_valid() -> None:
    a, b = seeded_signer("ahead/a"), seeded_signer("ahead/b")
    keys = {a.key_id: a.public_key, b.key_id: b.public_key}
    sig_a = Signature(key_id=a.key_id, signature=a.sign(b"x"))
    sig_b = Signature(key_id=b.key_id, signature=b.sign(b"x"))
    assert engine.keys_checked_ahead([sig_a, sig_b], [True, False], keys) == {
        a.key_id: a.public_key
    }
    assert engine.keys_checked_ahead([sig_a, sig_b], [True, True], keys) == keys
    assert engine.keys_checked_ahead([sig_a, sig_a], [True, False], keys) == {}
    # Results that do not line up with the signatures count for nothing.
    assert engine.keys_checked_ahead([sig_a, sig_b], [True], keys) == {}
    assert engine.keys_checked_ahead([sig_a], [True, True], keys) == {}


def test_postings_must_sum_to_zero_per_asset() -> None:
    engine.check_zero_sum(
        [
            Posting(account="a", asset=Asset.PTS, amount=-5),
            Posting(account="b", asset=Asset.PTS, amount=5),
        ]
    )
    unbalanced = [
        Posting(account="a", asset=Asset.PTS, amount=-5),
        Posting(account="b", asset=Asset.PTS, amount=4),
        Posting(account="c", asset=Asset.CNY, amount=1),
    ]
    with pytest.raises(IntegrityError, match="do not sum to zero for CNY, PTS") as info:
        engine.check_zero_sum(unbalanced, seq=7)
    assert info.value.seq == 7


def test_an_entry_may_have_exactly_the_postings_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "POSTINGS_MAX", 4)
    world.issue("m2", 10)

    def spread(count: int) -> Transfer:
        half = count // 2
        return Transfer(
            id=f"spread-{count}",
            effective_at=DAY,
            postings=(
                *(Posting(account="m1", asset=Asset.PTS, amount=-1) for _ in range(half)),
                *(Posting(account="m2", asset=Asset.PTS, amount=1) for _ in range(half)),
            ),
        )

    error = _refused(world, LimitExceededError, spread(6), [world.members["m1"]])
    assert "at most 4 postings" in str(error)
    world.ledger.append(spread(4), [world.members["m1"]])


def test_a_balance_may_reach_the_limit_but_not_pass_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # m1 holds 10 points and the issuer account is at -10; with a limit of 15 both may
    # reach 15 either way, and one point more is refused whichever account passes it.
    monkeypatch.setattr(engine, "BALANCE_ABS_MAX", 15)
    world.issue("m1", 5)
    assert world.ledger.balance("issuer", Asset.PTS).posted == -15
    error = _refused(
        world,
        LimitExceededError,
        world.transfer_event("issuer", "m2", 1),
        [*world.quorum, *world.committee],
    )
    assert error.details == {"account": "issuer", "asset": "PTS", "limit": 15}


def test_points_held_may_reach_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit bounds the amount held against an account as it bounds the balance: a
    # hold of all of a member's points, exactly the limit, is accepted; one point more
    # held is refused, by the limit before the member's available points are counted.
    w = build_world(Path("unused"), store=MemoryStore())
    w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.li",
        service="gas-check",
        quantity=3,
        grid_cell="g1",
        task_ref="gas-001",
    )
    points = w.pts("vol.li")
    monkeypatch.setattr(engine, "BALANCE_ABS_MAX", points)
    w.add(
        ListOffer,
        "barber",
        offer="barber.shave",
        partner="barber",
        item="Shave",
        price_points=points,
        stock=2,
    )
    w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.shave", points=points)
    balance = w.ledger.balance("vol.li", Asset.PTS)
    assert (balance.posted, balance.pending) == (points, points)
    w.add(UpdateOffer, "barber", offer="barber.shave", price_points=1)
    with pytest.raises(LimitExceededError) as info:
        w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.shave", points=1)
    assert info.value.details == {"account": "vol.li", "asset": "PTS", "limit": points}
    assert w.ledger.balance("vol.li", Asset.PTS).pending == points
