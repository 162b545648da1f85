"""Attacks by the holders of the admin keys on the rules that bound them.

Each test plays one attack through the public API (or ``sqlite3`` on the file, as whoever
runs the server can) and checks that it is refused, or that ``verify()`` notices it.
"""

from __future__ import annotations

import sqlite3

import pytest

from conftest import DAY, World, seeded_signer
from points_ledger import (
    AccountKind,
    Asset,
    AuthorizationError,
    DefineService,
    Genesis,
    IntegrityError,
    InvalidEventError,
    JoinAlliance,
    KeySpec,
    RegisterKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
)


def _join(world: World, partner: str) -> None:
    world.ledger.append(world.open_account_event(partner, AccountKind.PARTNER), world.quorum)
    till = seeded_signer(f"till/{partner}")
    event = JoinAlliance(
        id=world.new_id("join"),
        effective_at=DAY,
        partner=partner,
        name="corner shop",
        public_key=till.public_key_b64,
    )
    world.ledger.append(event, world.quorum)


def test_admins_cannot_add_a_key_to_a_partner_account(world: World) -> None:
    _join(world, "p:shop")
    world.issue("m1", 100)
    world.pay("m1", "p:shop", 100)
    thief = seeded_signer("thief")
    spec = KeySpec(public_key=thief.public_key_b64, roles=(Role.PARTNER,), owner="p:shop")
    with pytest.raises(AuthorizationError, match="p:shop"):
        world.ledger.append(
            RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec), world.quorum
        )
    assert world.ledger.balance("p:shop", Asset.PTS).posted == 100
    world.ledger.verify()


def test_verify_notices_the_committee_unseated_in_the_state_table(world: World) -> None:
    world.committee  # noqa: B018 - seats it
    world.ledger.close()
    conn = sqlite3.connect(world.path)
    with conn:
        conn.execute("DELETE FROM state WHERE namespace = 'ledger' AND key = 'committee_seated'")
    conn.close()
    world.reopen()
    world.add_member("cm:fake")
    fake = seeded_signer("fake-committee")
    spec = KeySpec(public_key=fake.public_key_b64, roles=(Role.COMMITTEE,), owner="cm:fake")
    try:
        world.ledger.append(
            RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec),
            [*world.quorum, world.members["cm:fake"]],
        )
    except AuthorizationError:
        return
    with pytest.raises(IntegrityError):
        world.ledger.verify()


def test_joining_the_alliance_does_not_add_a_key_to_an_account_without_it(world: World) -> None:
    world.ledger.append(world.open_account_event("p:shop", AccountKind.PARTNER), world.quorum)
    owner = seeded_signer("shop-owner")
    spec = KeySpec(public_key=owner.public_key_b64, roles=(Role.PARTNER,), owner="p:shop")
    world.ledger.append(
        RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec), world.quorum
    )
    till = seeded_signer("till/p:shop")
    event = JoinAlliance(
        id=world.new_id("join"),
        effective_at=DAY,
        partner="p:shop",
        name="corner shop",
        public_key=till.public_key_b64,
    )
    with pytest.raises(AuthorizationError, match="p:shop"):
        world.ledger.append(event, world.quorum)
    world.ledger.append(event, [*world.quorum, owner])
    world.ledger.verify()


@pytest.mark.parametrize(
    "extra", [Role.COMMITTEE, Role.TREASURER, Role.ISSUER, Role.MEMBER, Role.PARTNER]
)
def test_genesis_keys_hold_only_the_admin_role(extra: Role) -> None:
    """Owner-less genesis keys with committee roles would make the admins the committee."""
    admins = [seeded_signer(f"admin/{i}") for i in range(2)]
    with pytest.raises(InvalidEventError, match="only the admin role"):
        Genesis(
            id="genesis",
            effective_at=DAY,
            origin="test.example/core",
            nonce="0" * 32,
            log_key=seeded_signer("log").public_key_b64,
            admins=tuple(
                KeySpec(public_key=a.public_key_b64, roles=(Role.ADMIN, extra)) for a in admins
            ),
            admin_threshold=2,
            admin_may_also_hold=(Role.COMMITTEE, Role.TREASURER),
        )


# -- pricing and paying out: once seated, the committee agrees ------------------------------


def _service(world: World, points: int) -> DefineService:
    return DefineService(
        id=world.new_id("svc"),
        effective_at=DAY,
        code="visit",
        name="home visit",
        points_per_unit=points,
        unit=ServiceUnit.VISIT,
        active_from=DAY,
    )


def test_admins_alone_cannot_price_a_service_once_the_committee_is_seated(world: World) -> None:
    """The drain: a 10,000-point service awarded to people the admins enrol, then settled."""
    seated = world.committee
    size = world.ledger.size()
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(_service(world, 10_000), world.quorum)
    assert world.ledger.size() == size
    world.ledger.append(_service(world, 10), [*world.quorum, *seated])


def test_before_the_committee_is_seated_the_admins_define_the_catalogue(world: World) -> None:
    world.ledger.append(_service(world, 10), world.quorum)
    assert world.ledger.entry(world.ledger.size() - 1).kind == "define_service"


def test_admins_alone_cannot_set_the_settlement_rate_once_seated(world: World) -> None:
    seated = world.committee
    rate = SetSettlementRate(id=world.new_id("rate"), effective_at=DAY, fen_per_point=100_000)
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(rate, world.quorum)
    world.ledger.append(rate, [*world.quorum, *seated])


def test_admins_alone_cannot_appoint_a_treasurer_once_seated(world: World) -> None:
    seated = world.committee
    world.add_member("staff:1")
    treasurer = seeded_signer("treasurer/staff:1")
    spec = KeySpec(public_key=treasurer.public_key_b64, roles=(Role.TREASURER,), owner="staff:1")
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(event, [*world.quorum, world.members["staff:1"]])
    world.ledger.append(event, [*world.quorum, world.members["staff:1"], *seated])


def test_first_key_of_an_account_that_holds_value_needs_the_committee(world: World) -> None:
    """A beneficiary granted care has no key; the admins must not give it one and spend."""
    world.ledger.append(world.open_account_event("ben:1", AccountKind.BENEFICIARY), world.quorum)
    world.issue("ben:1", 500)
    thief = seeded_signer("thief/ben:1")
    spec = KeySpec(public_key=thief.public_key_b64, roles=(Role.MEMBER,), owner="ben:1")
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(event, world.quorum)
    assert world.ledger.balance("ben:1", Asset.PTS).posted == 500
    # The committee agrees (the household collects its own card): then it is registered.
    world.ledger.append(event, [*world.quorum, *world.committee])
    world.ledger.verify()


def test_first_key_of_an_empty_account_needs_only_the_admins(world: World) -> None:
    world.ledger.append(world.open_account_event("ben:2", AccountKind.BENEFICIARY), world.quorum)
    card = seeded_signer("card/ben:2")
    spec = KeySpec(public_key=card.public_key_b64, roles=(Role.MEMBER,), owner="ben:2")
    world.ledger.append(
        RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec), world.quorum
    )
