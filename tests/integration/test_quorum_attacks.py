"""The admin quorum alone cannot move what belongs to a pool, a fund or a member.

Each test plays an attack through the public API as the holders of the admin keys would
try it, and checks that the ledger refuses it (and that ``verify()`` still passes on what
was accepted). The honest path next to each attack shows the rule is not a blanket ban.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import DAY, FixedClock, World, seeded_signer
from memory_world import memory_world
from points_ledger import (
    AccountKind,
    Asset,
    AuthorizationError,
    AwardPoints,
    DefineService,
    Grant,
    InvalidEventError,
    KeySpec,
    Ledger,
    NotFoundError,
    RecoverKey,
    RegisterKey,
    Role,
    ServiceUnit,
    Signer,
)


@pytest.fixture
def world() -> Iterator[World]:
    """The conftest world on a memory store: these are tests of the rules, not of a file."""
    made = memory_world()
    yield made
    made.ledger.close()


def _key(
    world: World,
    name: str,
    roles: tuple[Role, ...],
    owner: str | None,
    also: tuple[Signer, ...] = (),
) -> Signer:
    """Register a key for ``name`` signed by the admin quorum (and ``also``)."""
    signer = seeded_signer(f"key/{name}")
    spec = KeySpec(public_key=signer.public_key_b64, roles=roles, owner=owner)
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    world.ledger.append(event, [*world.quorum, *also])
    return signer


def _pool_with(world: World, account: str, kind: AccountKind, points: int) -> None:
    world.ledger.append(world.open_account_event(account, kind), world.quorum)
    world.issue(account, points)


def _committee(world: World, *people: str) -> list[Signer]:
    """Open a member account per person and register a committee key owned by it."""
    signers = []
    for person in people:
        world.add_member(person)
        owner_key = world.members[person]
        signer = seeded_signer(f"committee/{person}")
        spec = KeySpec(public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=person)
        event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
        # Once seated, the committee agrees to each new member.
        seated = world.committee if world.committee_seated else []
        world.ledger.append(event, [*world.quorum, owner_key, *seated])
        signers.append(signer)
    return signers


@pytest.mark.parametrize("kind", [AccountKind.POOL, AccountKind.FUND])
def test_no_key_may_own_a_pool_or_fund(world: World, kind: AccountKind) -> None:
    _pool_with(world, "pool:charity", kind, 500)
    with pytest.raises(InvalidEventError, match="which no key may own"):
        _key(world, "thief", (Role.MEMBER,), "pool:charity")
    assert world.ledger.balance("pool:charity", Asset.PTS).posted == 500
    world.ledger.verify()


@pytest.mark.parametrize("account", ["issuer", "external"])
def test_no_key_may_own_a_system_account(world: World, account: str) -> None:
    with pytest.raises(InvalidEventError, match="which no key may own"):
        _key(world, "thief", (Role.PARTNER,), account)


def test_only_the_committee_quorum_transfers_out_of_a_pool(world: World) -> None:
    _pool_with(world, "pool:charity", AccountKind.POOL, 500)
    out = world.transfer_event("pool:charity", "m1", 200)
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(out, world.quorum)
    chen, liu = _committee(world, "cm.chen", "cm.liu")
    world.ledger.append(out, [chen, liu])
    assert world.ledger.balance("pool:charity", Asset.PTS).posted == 300
    assert world.ledger.balance("m1", Asset.PTS).posted == 200
    world.ledger.verify()


def test_committee_member_cannot_transfer_pool_money_to_themselves(world: World) -> None:
    _pool_with(world, "pool:charity", AccountKind.POOL, 500)
    chen, liu, _ = _committee(world, "cm.chen", "cm.liu", "cm.wu")
    with pytest.raises(AuthorizationError, match=r"cm\.chen"):
        world.ledger.append(world.transfer_event("pool:charity", "cm.chen", 100), [chen, liu])
    assert world.ledger.balance("pool:charity", Asset.PTS).posted == 500


def test_reversing_money_out_of_a_fund_needs_the_committee_too(world: World) -> None:
    world.ledger.append(world.open_account_event("fund:coop", AccountKind.FUND), world.quorum)
    income = world.issue("fund:coop", 10_000, asset=Asset.CNY)
    with pytest.raises(AuthorizationError, match="committee"):
        world.reverse(income.entry.seq)
    chen, liu = _committee(world, "cm.chen", "cm.liu")
    world.ledger.append(world.reverse_event(income.entry.seq), [*world.quorum, chen, liu])
    assert world.ledger.balance("fund:coop", Asset.CNY).posted == 0


def test_admins_cannot_add_a_key_to_a_members_account(world: World) -> None:
    world.issue("m1", 300)
    with pytest.raises(AuthorizationError, match="owned by account 'm1'"):
        _key(world, "thief", (Role.MEMBER,), "m1")
    # The member agrees to a second phone: then it is registered.
    phone = seeded_signer("second-phone/m1")
    spec = KeySpec(public_key=phone.public_key_b64, roles=(Role.MEMBER,), owner="m1")
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    world.ledger.append(event, [*world.quorum, world.members["m1"]])
    world.ledger.append(world.transfer_event("m1", "m2", 10), [phone])
    assert world.ledger.balance("m1", Asset.PTS).posted == 290


def test_admins_cannot_revoke_a_members_key_and_register_their_own(world: World) -> None:
    from points_ledger import RevokeKey

    world.issue("m1", 300)
    revoke = RevokeKey(
        id=world.new_id("rk"),
        effective_at=DAY,
        key_id=world.members["m1"].key_id,
        reason="phone lost",
    )
    world.ledger.append(revoke, world.quorum)
    with pytest.raises(AuthorizationError, match="recovery quorum"):
        _key(world, "thief", (Role.MEMBER,), "m1")
    assert world.ledger.balance("m1", Asset.PTS).posted == 300


def _recover(
    world: World, owner: str, roles: tuple[Role, ...] = (Role.MEMBER,)
) -> tuple[RecoverKey, Signer]:
    phone = seeded_signer(f"new-phone/{owner}")
    spec = KeySpec(public_key=phone.public_key_b64, roles=roles, owner=owner)
    event = RecoverKey(id=world.new_id("rec"), effective_at=DAY, key=spec, reason="phone lost")
    return event, phone


def test_a_lost_phone_is_recovered_by_admins_and_committee(world: World) -> None:
    world.issue("m1", 300)
    old_phone = world.members["m1"]
    event, phone = _recover(world, "m1")
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(event, world.quorum)
    chen, liu = _committee(world, "cm.chen", "cm.liu")
    with pytest.raises(AuthorizationError, match="admin"):
        world.ledger.append(event, [chen, liu])
    entry = world.ledger.append(event, [*world.quorum, chen, liu]).entry
    assert entry.kind == "recover_key"
    # The old phone no longer signs; the new one does.
    with pytest.raises(Exception, match="revoked"):
        world.ledger.append(world.transfer_event("m1", "m2", 10), [old_phone])
    world.ledger.append(world.transfer_event("m1", "m2", 10), [phone])
    assert world.ledger.balance("m1", Asset.PTS).posted == 290
    world.ledger.verify()


def test_recovery_of_a_committee_members_own_account_needs_others(world: World) -> None:
    from points_ledger import LimitExceededError

    chen, liu = _committee(world, "cm.chen", "cm.liu")
    event, _ = _recover(world, "cm.chen", (Role.MEMBER, Role.COMMITTEE))
    with pytest.raises(AuthorizationError, match=r"cm\.chen"):
        world.ledger.append(event, [*world.quorum, chen, liu])
    # A recovery that drops the committee role would leave the committee below its quorum.
    event, _ = _recover(world, "cm.chen")
    with pytest.raises(LimitExceededError, match="committee threshold"):
        world.ledger.append(event, [*world.quorum, liu])


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.TREASURER, Role.ISSUER])
def test_office_keys_must_name_their_person(world: World, role: Role) -> None:
    with pytest.raises(InvalidEventError, match="must name the account of the person"):
        _key(world, "anon", (role,), None)


def test_two_committee_keys_of_one_person_do_not_make_a_quorum(world: World) -> None:
    _pool_with(world, "pool:charity", AccountKind.POOL, 500)
    world.ledger.append(world.open_account_event("ben:1", AccountKind.BENEFICIARY), world.quorum)
    (chen,) = _committee(world, "cm.chen")
    second = seeded_signer("committee/cm.chen/2")
    spec = KeySpec(public_key=second.public_key_b64, roles=(Role.COMMITTEE,), owner="cm.chen")
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    world.ledger.append(event, [*world.quorum, world.members["cm.chen"], *world.committee])
    grant = Grant(
        id="g1",
        effective_at=DAY,
        pool="pool:charity",
        beneficiary="ben:1",
        points=100,
        purpose="winter coats",
    )
    with pytest.raises(AuthorizationError, match="2 different people"):
        world.ledger.append(grant, [chen, second])


def test_committee_member_cannot_grant_to_themselves(world: World) -> None:
    _pool_with(world, "pool:charity", AccountKind.POOL, 500)
    chen, liu = _committee(world, "cm.chen", "cm.liu")
    grant = Grant(
        id="g1",
        effective_at=DAY,
        pool="pool:charity",
        beneficiary="cm.chen",
        points=100,
        purpose="winter coats",
    )
    with pytest.raises(AuthorizationError, match=r"cm\.chen"):
        world.ledger.append(grant, [chen, liu])


def test_issuer_cannot_award_their_own_account(world: World) -> None:
    service = DefineService(
        id="svc",
        effective_at=DAY,
        code="visit",
        name="Home visit",
        points_per_unit=5,
        unit=ServiceUnit.VISIT,
        active_from=DAY,
    )
    world.ledger.append(service, world.quorum)
    issuer = _key(world, "worker", (Role.ISSUER,), "m2", also=(world.members["m2"],))
    award = AwardPoints(
        id="aw",
        effective_at=DAY,
        volunteer="m2",
        service="visit",
        task_ref="t1",
        quantity=1,
        grid_cell="g1",
    )
    with pytest.raises(AuthorizationError, match="'m2'"):
        world.ledger.append(award, [issuer])


def test_one_person_cannot_be_admin_and_committee(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    with pytest.raises(InvalidEventError, match="both the admin and the committee role"):
        _key(world, "both", (Role.ADMIN, Role.COMMITTEE), "m1", also=(world.members["m1"],))
    # m1 becomes a committee member, then cannot also get an admin key (nor treasurer
    # then admin, the other way round).
    _committee(world, "cm.chen")
    spec = KeySpec(
        public_key=seeded_signer("admin/cm.chen").public_key_b64,
        roles=(Role.ADMIN,),
        owner="cm.chen",
    )
    event = RegisterKey(id=world.new_id("key"), effective_at=DAY, key=spec)
    with pytest.raises(InvalidEventError, match="both the admin and the committee role"):
        world.ledger.append(event, [*world.quorum, world.members["cm.chen"]])


def test_transfer_out_of_a_members_account_still_needs_the_member(world: World) -> None:
    world.issue("m1", 300)
    with pytest.raises(AuthorizationError, match="owned by account 'm1'"):
        world.ledger.append(world.transfer_event("m1", "m2", 300), world.quorum)
    world.pay("m1", "m2", 300)
    assert world.ledger.balance("m2", Asset.PTS).posted == 300


def test_a_one_admin_ledger_is_asked_for_and_audit_lists_it(tmp_path: Path) -> None:
    admin, log = seeded_signer("solo/admin"), seeded_signer("solo/log")
    common = {"origin": "solo.example/x", "log_key": log, "effective_at": DAY}
    with pytest.raises(InvalidEventError, match="act alone") as refused:
        Ledger.create(tmp_path / "a.db", admins=[admin], clock=FixedClock(), **common)  # type: ignore[arg-type]
    assert "threshold=1" in refused.value.hint
    assert not (tmp_path / "a.db").exists()
    with Ledger.create(
        tmp_path / "a.db",
        admins=[admin],
        threshold=1,
        clock=FixedClock(),
        **common,  # type: ignore[arg-type]
    ) as ledger:
        report = ledger.audit()
    assert report.ok and [f.code for f in report.findings] == ["single_admin"]
    two = [admin, seeded_signer("solo/admin-2")]
    with Ledger.create(tmp_path / "b.db", admins=two, clock=FixedClock(), **common) as ledger:  # type: ignore[arg-type]
        assert ledger.audit().findings == ()
        assert ledger.entry(0).event.admin_threshold == 2  # type: ignore[attr-defined]


# -- the admins cannot mint, nor pack the committee that would have to agree ---------------


def test_admins_alone_cannot_mint_points_out_of_the_issuer_account(world: World) -> None:
    mint = world.transfer_event("issuer", "m1", 5_000)
    size = world.ledger.size()
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(mint, world.quorum)
    assert world.ledger.size() == size
    assert world.ledger.balance("m1", Asset.PTS).posted == 0
    # With the committee's agreement (opening balances from a paper register) it is recorded.
    world.ledger.append(mint, [*world.quorum, *world.committee])
    assert world.ledger.balance("m1", Asset.PTS).posted == 5_000
    world.ledger.verify()


def test_admins_alone_cannot_bring_money_in_from_external(world: World) -> None:
    world.ledger.append(world.open_account_event("fund:coop", AccountKind.FUND), world.quorum)
    income = world.transfer_event("external", "fund:coop", 1_000_000, asset=Asset.CNY)
    with pytest.raises(AuthorizationError, match="committee"):
        world.ledger.append(income, world.quorum)
    assert world.ledger.balance("fund:coop", Asset.CNY).posted == 0
    world.ledger.append(income, [*world.quorum, *world.committee])
    assert world.ledger.balance("fund:coop", Asset.CNY).posted == 1_000_000


def test_committee_cannot_mint_points_for_one_of_its_signers(world: World) -> None:
    first, second = world.committee
    with pytest.raises(AuthorizationError, match=r"cm:0001"):
        world.ledger.append(
            world.transfer_event("issuer", "cm:0001", 100), [*world.quorum, first, second]
        )
    assert world.ledger.balance("cm:0001", Asset.PTS).posted == 0


def test_admins_cannot_seat_committee_members_once_it_is_seated(world: World) -> None:
    seated = world.committee
    world.add_member("cm:fake")
    with pytest.raises(AuthorizationError, match="committee"):
        _key(
            world, "fake-committee", (Role.COMMITTEE,), "cm:fake", also=(world.members["cm:fake"],)
        )
    # Two admin-made "committee members" would otherwise sign a pool transfer.
    with pytest.raises(NotFoundError):
        world.ledger.key(seeded_signer("key/fake-committee").key_id)
    # The committee agrees to a new member: then it is registered.
    _key(
        world, "new-member", (Role.COMMITTEE,), "cm:fake", also=(world.members["cm:fake"], *seated)
    )
    world.ledger.verify()


def test_admins_cannot_revoke_the_committee_below_its_quorum(world: World) -> None:
    from points_ledger import LimitExceededError, RevokeKey

    seated = world.committee
    revoke = RevokeKey(
        id=world.new_id("rk"), effective_at=DAY, key_id=seated[0].key_id, reason="removed"
    )
    size = world.ledger.size()
    with pytest.raises(LimitExceededError, match="committee threshold of 2"):
        world.ledger.append(revoke, world.quorum)
    assert world.ledger.size() == size
    # With a third member seated (by the committee), one key can be revoked, not two.
    world.add_member("cm:0003")
    third = _key(
        world, "cm3", (Role.COMMITTEE,), "cm:0003", also=(world.members["cm:0003"], *seated)
    )
    world.ledger.append(revoke, world.quorum)
    again = RevokeKey(id=world.new_id("rk"), effective_at=DAY, key_id=third.key_id, reason="x")
    with pytest.raises(LimitExceededError, match="committee"):
        world.ledger.append(again, world.quorum)
    world.ledger.verify()


def test_before_the_committee_is_seated_the_admins_seat_it(world: World) -> None:
    """The documented bootstrap: the first committee_threshold people need only the admins."""
    world.add_member("cm:a")
    world.add_member("cm:b")
    a = _key(world, "cm-a", (Role.COMMITTEE,), "cm:a", also=(world.members["cm:a"],))
    b = _key(world, "cm-b", (Role.COMMITTEE,), "cm:b", also=(world.members["cm:b"],))
    world.add_member("cm:c")
    with pytest.raises(AuthorizationError, match="committee"):
        _key(world, "cm-c", (Role.COMMITTEE,), "cm:c", also=(world.members["cm:c"],))
    _key(world, "cm-c", (Role.COMMITTEE,), "cm:c", also=(world.members["cm:c"], a, b))
