"""The checks every entry passes (``engine.py``), pinned at their edges on a ledger in
memory: how many signatures an event may carry, the last day an event may be recorded,
how far ahead and back a business date may lie, and what an overdraft reports.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import DAY, World, seeded_signer
from memory_world import memory_world
from points_ledger import (
    Asset,
    EffectiveDateError,
    EventExpiredError,
    LedgerError,
    LimitExceededError,
    OverdraftError,
    Signature,
    SignatureError,
    UnknownKeyError,
    engine,
)
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT


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
