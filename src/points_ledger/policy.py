"""Who must sign what: small requirement objects that compose.

A requirement is checked against the set of *valid* keys that signed an event (every
signature already verified and every key registered and unrevoked at that entry). It
raises :class:`~points_ledger.errors.AuthorizationError` with a plain description of
what is missing, or returns ``None``.

Quorums count people, not keys: two keys with the same owner count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from points_ledger.errors import AuthorizationError, InvalidEventError
from points_ledger.models.common import Role
from points_ledger.models.entries import KeyRecord
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT, BACKDATE_DAYS_LIMIT

__all__ = [
    "AllOf",
    "AnyOf",
    "NotOwnedBy",
    "OwnerSignature",
    "Policy",
    "Requirement",
    "RoleQuorum",
]


class Requirement(Protocol):
    """Something the signers of an event must satisfy."""

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise ``AuthorizationError`` unless ``signers`` satisfy this requirement."""

    def describe(self) -> str:
        """Say in plain words what is required."""


@dataclass(frozen=True)
class RoleQuorum:
    """At least ``threshold`` different people holding ``role`` must sign."""

    role: Role
    threshold: int = 1

    def __post_init__(self) -> None:
        if type(self.threshold) is not int or not 1 <= self.threshold <= 32:
            raise InvalidEventError("a quorum threshold must be a whole number from 1 to 32")

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise ``AuthorizationError`` unless enough distinct role holders signed."""
        people = {key.person for key in signers if self.role in key.roles}
        if len(people) < self.threshold:
            raise AuthorizationError(
                f"{self.describe()}; got {len(people)}",
                details={"role": self.role.value, "needed": self.threshold, "got": len(people)},
            )

    def describe(self) -> str:
        """Say in plain words what is required."""
        if self.threshold == 1:
            return f"needs a signature from a key with the {self.role.value} role"
        return (
            f"needs signatures from {self.threshold} different people with the "
            f"{self.role.value} role"
        )


@dataclass(frozen=True)
class OwnerSignature:
    """A key owned by ``account`` (optionally with one of ``roles``) must sign."""

    account: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise ``AuthorizationError`` unless a key owned by the account signed."""
        for key in signers:
            if key.owner == self.account and (not self.roles or self.roles & set(key.roles)):
                return
        raise AuthorizationError(self.describe(), details={"account": self.account})

    def describe(self) -> str:
        """Say in plain words what is required."""
        if self.roles:
            names = " or ".join(sorted(r.value for r in self.roles))
            return f"needs a signature from a {names} key owned by account {self.account!r}"
        return f"needs a signature from a key owned by account {self.account!r}"


@dataclass(frozen=True)
class NotOwnedBy:
    """No key owned by ``account`` may sign (e.g. nobody awards points to themselves)."""

    account: str

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise ``AuthorizationError`` if a key owned by the account signed."""
        if any(key.owner == self.account for key in signers):
            raise AuthorizationError(
                f"account {self.account!r} may not authorise this event for itself",
                details={"account": self.account},
            )

    def describe(self) -> str:
        """Say in plain words what is required."""
        return f"must not be signed by a key owned by account {self.account!r}"


class AllOf:
    """Every one of the given requirements must hold. ``AllOf()`` of nothing is an error."""

    def __init__(self, *requirements: Requirement) -> None:
        if not requirements:
            raise InvalidEventError("AllOf() needs at least one requirement")
        self.requirements = requirements

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise the first failing requirement's ``AuthorizationError``."""
        for requirement in self.requirements:
            requirement.check(signers)

    def describe(self) -> str:
        """Say in plain words what is required."""
        return "; and ".join(r.describe() for r in self.requirements)


class AnyOf:
    """At least one of the given requirements must hold. ``AnyOf()`` of nothing is an error."""

    def __init__(self, *requirements: Requirement) -> None:
        if not requirements:
            raise InvalidEventError("AnyOf() needs at least one requirement")
        self.requirements = requirements

    def check(self, signers: Sequence[KeyRecord]) -> None:
        """Raise ``AuthorizationError`` unless one of the requirements holds."""
        for requirement in self.requirements:
            try:
                requirement.check(signers)
            except AuthorizationError:
                continue
            return
        raise AuthorizationError(self.describe())

    def describe(self) -> str:
        """Say in plain words what is required."""
        return "either " + ", or ".join(r.describe() for r in self.requirements)


@dataclass(frozen=True)
class Policy:
    """The ledger's signing thresholds and limits, fixed at genesis.

    Attributes:
        admin_threshold: How many different admins must sign administrative events.
        committee_threshold: How many different committee members must sign grants,
            split policies, rosters, distributions and transfers out of pools and funds.
        backdate_days_max: How many days before its recording day (Asia/Shanghai) an
            entry's ``effective_at`` may lie.
        admin_may_also_hold: Roles (committee, treasurer) a person with an admin key may
            also hold; none unless the genesis entry says so.
    """

    admin_threshold: int = 1
    committee_threshold: int = 2
    backdate_days_max: int = BACKDATE_DAYS_DEFAULT
    admin_may_also_hold: frozenset[Role] = frozenset()

    def __post_init__(self) -> None:
        # Building both quorums validates both thresholds (whole numbers, 1 to 32).
        self.admins()
        self.committee()
        if type(self.backdate_days_max) is not int or not (
            0 <= self.backdate_days_max <= BACKDATE_DAYS_LIMIT
        ):
            raise InvalidEventError(
                f"backdate_days_max must be a whole number from 0 to {BACKDATE_DAYS_LIMIT}"
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """Rebuild the policy from the genesis configuration record.

        Keys added after the first release fall back to their defaults, so a record
        written before them reads as the policy it stood for.

        Raises:
            InvalidEventError: if a value is out of range.
            KeyError: if a threshold is missing (a damaged record; callers wrap it).
        """
        return cls(
            admin_threshold=config["admin_threshold"],
            committee_threshold=config["committee_threshold"],
            backdate_days_max=config.get("backdate_days_max", BACKDATE_DAYS_DEFAULT),
            admin_may_also_hold=frozenset(Role(r) for r in config.get("admin_may_also_hold", ())),
        )

    def admins(self) -> RoleQuorum:
        """The admin quorum requirement."""
        return RoleQuorum(Role.ADMIN, self.admin_threshold)

    def committee(self) -> RoleQuorum:
        """The committee quorum requirement."""
        return RoleQuorum(Role.COMMITTEE, self.committee_threshold)


def all_of(requirements: Iterable[Requirement]) -> Requirement:
    """Combine requirements; a single one is returned as it is."""
    items = tuple(requirements)
    return items[0] if len(items) == 1 else AllOf(*items)
