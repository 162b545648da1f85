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
    Genesis,
    IntegrityError,
    InvalidEventError,
    JoinAlliance,
    KeySpec,
    RegisterKey,
    Role,
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
