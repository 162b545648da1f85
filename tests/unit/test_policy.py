"""Policy objects: quorums count people, not keys; empty combinators are errors."""

from __future__ import annotations

import pytest

from points_ledger import AuthorizationError, InvalidEventError, KeyRecord, Role
from points_ledger.policy import AllOf, AnyOf, NotOwnedBy, OwnerSignature, Policy, RoleQuorum


def key(n: int, *roles: Role, owner: str | None = None) -> KeyRecord:
    return KeyRecord(
        key_id=f"{n:016x}",
        public_key=bytes(32),
        roles=roles or (Role.ADMIN,),
        owner=owner,
        valid_from_seq=0,
    )


def test_quorum_counts_people_not_keys() -> None:
    quorum = RoleQuorum(Role.ADMIN, 2)
    same_person = [key(1, owner="alice"), key(2, owner="alice")]
    with pytest.raises(AuthorizationError) as info:
        quorum.check(same_person)
    assert info.value.code == "not_authorized"
    assert info.value.details == {"role": "admin", "needed": 2, "got": 1}
    quorum.check([key(1, owner="alice"), key(2, owner="bob")])
    quorum.check([key(1), key(2)])  # unowned keys count as separate people
    quorum.check([key(1, owner="alice"), key(2)])


def test_quorum_ignores_keys_without_the_role() -> None:
    quorum = RoleQuorum(Role.COMMITTEE, 1)
    with pytest.raises(AuthorizationError):
        quorum.check([key(1, Role.ADMIN), key(2, Role.MEMBER, owner="m1")])
    quorum.check([key(3, Role.ADMIN, Role.COMMITTEE)])
    with pytest.raises(AuthorizationError):
        quorum.check([])


@pytest.mark.parametrize("threshold", [0, -1])
def test_quorum_threshold_must_be_positive(threshold: int) -> None:
    with pytest.raises(InvalidEventError):
        RoleQuorum(Role.ADMIN, threshold)


def test_empty_combinators_are_errors() -> None:
    with pytest.raises(InvalidEventError):
        AllOf()
    with pytest.raises(InvalidEventError):
        AnyOf()


def test_allof_needs_every_requirement() -> None:
    requirement = AllOf(RoleQuorum(Role.ADMIN), OwnerSignature("m1"))
    with pytest.raises(AuthorizationError, match="m1"):
        requirement.check([key(1)])
    with pytest.raises(AuthorizationError):
        requirement.check([key(2, Role.MEMBER, owner="m1")])
    requirement.check([key(1), key(2, Role.MEMBER, owner="m1")])
    assert "admin" in requirement.describe() and "m1" in requirement.describe()


def test_anyof_needs_one_requirement() -> None:
    requirement = AnyOf(RoleQuorum(Role.ADMIN, 2), OwnerSignature("m1"))
    with pytest.raises(AuthorizationError):
        requirement.check([key(1)])
    requirement.check([key(2, Role.MEMBER, owner="m1")])
    requirement.check([key(1), key(3)])


def test_owner_signature_with_roles_and_not_owned_by() -> None:
    partner_only = OwnerSignature("shop", frozenset({Role.PARTNER}))
    with pytest.raises(AuthorizationError):
        partner_only.check([key(1, Role.MEMBER, owner="shop")])
    partner_only.check([key(1, Role.PARTNER, owner="shop")])
    with pytest.raises(AuthorizationError):
        OwnerSignature("m1").check([key(1, Role.MEMBER, owner="m2")])
    with pytest.raises(AuthorizationError):
        NotOwnedBy("m1").check([key(1), key(2, Role.ISSUER, owner="m1")])
    NotOwnedBy("m1").check([key(1), key(2, Role.ISSUER, owner="m2")])


def test_policy_thresholds() -> None:
    policy = Policy(admin_threshold=2, committee_threshold=3)
    assert policy.admins() == RoleQuorum(Role.ADMIN, 2)
    assert policy.committee() == RoleQuorum(Role.COMMITTEE, 3)
    with pytest.raises(InvalidEventError):
        Policy(admin_threshold=0).admins()


@pytest.mark.parametrize("threshold", [0, 33, True, 1.0])
def test_quorum_thresholds_are_whole_numbers_within_limits(threshold: object) -> None:
    with pytest.raises(InvalidEventError):
        RoleQuorum(Role.COMMITTEE, threshold)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        Policy(committee_threshold=threshold)  # type: ignore[arg-type]
