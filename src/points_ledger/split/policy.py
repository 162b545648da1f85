"""Split policies: named buckets with integer weights, and how each bucket is paid out.

A :class:`SplitPolicy` is a fact that can be stored in a signed ledger event: frozen,
strict, and round-trips through a plain JSON-able dict (:meth:`SplitPolicy.to_dict`,
:meth:`SplitPolicy.from_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from points_ledger.errors import SplitError
from points_ledger.split._checks import check_amount, check_recipient, describe
from points_ledger.split._model import SplitModel
from points_ledger.split.allocation import AllocationStep, explain_allocation
from points_ledger.split.distribution import Distribution, DistributionTrace, build_distribution

__all__ = ["BUCKETS_MAX", "Bucket", "BucketMode", "SplitPolicy"]

BucketMode = Literal["account", "pro_rata", "per_capita"]
"""How a bucket's subtotal is paid out:

* ``account``: all of it to one fixed account id;
* ``pro_rata``: among members in proportion to their holdings (shares);
* ``per_capita``: equally among members.
"""

BUCKETS_MAX = 64
"""Most buckets one policy may have."""

BUCKET_WEIGHT_MAX = 10**9
"""Largest integer weight of a bucket."""


class Bucket(SplitModel):
    """One named part of a split policy.

    Attributes:
        name: Bucket name, unique within the policy (1 to 64 characters).
        weight: Integer weight, from 1 to 10**9; a bucket gets
            ``weight / sum of weights`` of the amount, rounded by largest remainder.
        mode: ``"account"``, ``"pro_rata"`` or ``"per_capita"`` (see :data:`BucketMode`).
        account: The account paid, required for mode ``account`` and absent otherwise.
        description: Free text for people reading the policy.
    """

    name: str = Field(min_length=1, max_length=64)
    weight: int = Field(ge=1, le=BUCKET_WEIGHT_MAX)
    mode: BucketMode
    account: str | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _account_matches_mode(self) -> Bucket:
        if self.mode == "account" and self.account is None:
            raise SplitError(f"bucket {self.name!r} has mode 'account' but names no account")
        if self.mode != "account" and self.account is not None:
            raise SplitError(
                f"bucket {self.name!r} has mode {self.mode!r}, so it pays members, not "
                f"account {self.account!r}; remove the account"
            )
        return self


class SplitPolicy(SplitModel):
    """A named way to divide an amount among buckets, and each bucket among its payees.

    Rounding happens at each level with :func:`~points_ledger.split.allocate`: first the
    amount is split among the buckets by their weights, then each ``pro_rata`` or
    ``per_capita`` bucket's subtotal is split among its members. So a member's part is
    rounded from the bucket's (already rounded) subtotal, not from the whole amount, and
    every level adds up exactly.

    Attributes:
        name: Policy name (1 to 200 characters).
        buckets: 1 to 64 buckets with distinct names, in the order they are reported.
        description: Free text: where the rule comes from, what it is for.
    """

    name: str = Field(min_length=1, max_length=200)
    buckets: tuple[Bucket, ...] = Field(min_length=1, max_length=BUCKETS_MAX)
    description: str = Field(default="", max_length=2000)

    @field_validator("buckets", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        # JSON has no tuples; accept the list that to_dict() + json.loads() produce.
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _distinct_names(self) -> SplitPolicy:
        seen: set[str] = set()
        for bucket in self.buckets:
            if bucket.name in seen:
                raise SplitError(f"policy {self.name!r} has two buckets named {bucket.name!r}")
            seen.add(bucket.name)
        return self

    def bucket(self, name: str) -> Bucket:
        """Return the bucket called ``name``.

        Raises:
            SplitError: There is no such bucket.
        """
        for bucket in self.buckets:
            if bucket.name == name:
                return bucket
        raise SplitError(f"policy {self.name!r} has no bucket {name!r}")

    def with_accounts(self, accounts: Mapping[str, str]) -> SplitPolicy:
        """Return a copy whose ``account`` buckets pay the given account ids.

        Args:
            accounts: Bucket name to account id, for ``account`` buckets only.

        Raises:
            SplitError: A name is not an ``account`` bucket of this policy, or an id is invalid.
        """
        for name in accounts:
            if self.bucket(name).mode != "account":
                raise SplitError(f"bucket {name!r} is not an 'account' bucket")
        buckets = tuple(
            Bucket(**{**bucket.model_dump(), "account": accounts[bucket.name]})
            if bucket.name in accounts
            else bucket
            for bucket in self.buckets
        )
        return SplitPolicy(name=self.name, buckets=buckets, description=self.description)

    def apply(
        self,
        amount: int,
        *,
        shares: Mapping[str, Mapping[str, int | Fraction]] | None = None,
        members: Mapping[str, Sequence[str]] | None = None,
    ) -> Distribution:
        """Divide ``amount`` by this policy.

        Args:
            amount: Whole units (fen or points) to divide; may be negative (a reversal),
                in which case every part is the exact negative of the positive split.
            shares: For each ``pro_rata`` bucket, member id to holding (int or Fraction).
            members: For each ``per_capita`` bucket, the member ids (a list or tuple).

        Returns:
            The :class:`Distribution`, with one trace step per rounding level.

        Raises:
            SplitError: ``amount`` is invalid; a ``pro_rata`` bucket lacks shares or a
                ``per_capita`` bucket lacks members; a roster names an unknown bucket or a
                bucket of another mode; a member list repeats an id; or a roster is empty,
                all zero, or holds a float, bool or negative holding.
        """
        checked = check_amount(amount)
        steps, by_bucket = self.allocate_levels(checked, shares=shares, members=members)
        trace = DistributionTrace(
            title=f"Distribution by policy {self.name!r}",
            amount=checked,
            notes=(self.rounding_note(),),
            steps=tuple(steps),
            summary=tuple(
                (f"bucket {name}", sum(parts.values())) for name, parts in by_bucket.items()
            ),
        )
        return build_distribution(amount=checked, investor=None, by_bucket=by_bucket, trace=trace)

    def rounding_note(self) -> str:
        """Return the plain-language sentence saying how this policy rounds."""
        weights = ":".join(str(bucket.weight) for bucket in self.buckets)
        return (
            f"Policy {self.name!r} splits {weights} among buckets "
            f"{', '.join(bucket.name for bucket in self.buckets)}; rounding happens at each "
            "level by largest remainder: first among buckets, then within each bucket."
        )

    def allocate_levels(
        self,
        amount: int,
        *,
        shares: Mapping[str, Mapping[str, int | Fraction]] | None = None,
        members: Mapping[str, Sequence[str]] | None = None,
        label_prefix: str = "",
    ) -> tuple[list[AllocationStep], dict[str, dict[str, int]]]:
        """Do the apportionments of :meth:`apply` and return the raw steps and parts.

        Building block for :func:`~points_ledger.split.distribute`; most callers want
        :meth:`apply`.

        Returns:
            The steps in order, and bucket name to ``{account: part}`` in policy order.

        Raises:
            SplitError: As :meth:`apply`.
        """
        share_rosters = self._rosters(shares, "pro_rata", "shares")
        member_rosters = self._rosters(members, "per_capita", "members")
        top = explain_allocation(
            amount,
            {bucket.name: bucket.weight for bucket in self.buckets},
            label=f"{label_prefix}policy {self.name}: amount among buckets",
        )
        steps = [top]
        subtotals = top.amounts
        by_bucket: dict[str, dict[str, int]] = {}
        for bucket in self.buckets:
            subtotal = subtotals[bucket.name]
            if bucket.mode == "account":
                if bucket.account is None:  # Bucket's validator forbids this; narrows the type
                    raise SplitError(f"bucket {bucket.name!r} names no account")
                by_bucket[bucket.name] = {bucket.account: subtotal}
                continue
            if bucket.mode == "pro_rata":
                weights: Mapping[str, int | Fraction] = share_rosters[bucket.name]
                how = "pro rata by shares"
            else:
                weights = _per_capita_weights(bucket.name, member_rosters[bucket.name])
                how = "per capita, equal weights"
            try:
                step = explain_allocation(
                    subtotal, weights, label=f"{label_prefix}bucket {bucket.name} ({how})"
                )
            except SplitError as e:
                raise SplitError(f"bucket {bucket.name!r}: {e.message}", details=e.details) from e
            steps.append(step)
            by_bucket[bucket.name] = step.amounts
        return steps, by_bucket

    def _rosters(
        self, rosters: Mapping[str, Any] | None, mode: str, argument: str
    ) -> Mapping[str, Any]:
        given: Mapping[str, Any] = {} if rosters is None else rosters
        if not isinstance(given, Mapping):
            raise SplitError(f"{argument} must map bucket names to rosters, got {describe(given)}")
        wanted = {bucket.name for bucket in self.buckets if bucket.mode == mode}
        for name in given:
            if name not in wanted:
                raise SplitError(
                    f"{argument} names bucket {name!r}, which is not a {mode!r} bucket of "
                    f"policy {self.name!r}"
                )
        for name in sorted(wanted):
            if name not in given:
                raise SplitError(f"bucket {name!r} is {mode!r}: pass its roster in {argument}=")
        return given


def _per_capita_weights(bucket: str, members: object) -> dict[str, int]:
    if isinstance(members, str | bytes) or not isinstance(members, Sequence):
        raise SplitError(
            f"members of bucket {bucket!r} must be a list or tuple of ids, got {describe(members)}"
        )
    weights: dict[str, int] = {}
    for member in members:
        key = check_recipient(member, what=f"member id in bucket {bucket!r}")
        if key in weights:
            raise SplitError(f"member {key!r} appears twice in bucket {bucket!r}")
        weights[key] = 1
    return weights
