"""Revenue events: adopt a split policy, record a roster, record revenue, distribute it.

All four are signed by the ``committee`` quorum (k-of-n distinct people). The split
arithmetic lives in :mod:`points_ledger.split`; these models only carry the facts the
committee signs: the policy and its accounts, who holds how many shares, how much money came
in, and which period's money is paid out under which policy and roster.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints, model_validator

from points_ledger.errors import SplitError
from points_ledger.models.common import AMOUNT_MAX, AccountId, FrozenModel
from points_ledger.models.events import Event
from points_ledger.split import InvestorSchedule, SplitPolicy
from points_ledger.split.policy import BUCKETS_MAX

__all__ = [
    "SHAREHOLDERS_MAX",
    "SHARES_MAX",
    "VILLAGERS_MAX",
    "AdoptSplitPolicy",
    "Distribute",
    "Holding",
    "InvestorTerms",
    "RecordRevenue",
    "RecordRoster",
]

SHAREHOLDERS_MAX: Final = 4_000
"""Most shareholders one roster may list."""

VILLAGERS_MAX: Final = 4_000
"""Most villagers one roster may list (with the shareholders, one entry stays under the
10,000-posting limit)."""

SHARES_MAX: Final = 10**9
"""Largest holding of one shareholder."""

POLICY_VERSION_MAX: Final = 1_000
"""Highest version number of one policy id."""

RecordId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9._:-]{1,64}$")]
"""Id of a policy or roster: 1-64 of ``a-z 0-9 . _ : -``."""

PeriodLabel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,32}$")]
"""Label of a revenue period, e.g. ``2026`` or ``2026-H1``: 1-32 of ``A-Z a-z 0-9 . _ : -``."""

Year = Annotated[int, Field(ge=1900, le=9999)]
"""A calendar year."""

PositiveAmount = Annotated[int, Field(ge=1, le=AMOUNT_MAX)]
"""A strictly positive amount in fen."""


class InvestorTerms(FrozenModel):
    """The outside investor's contract: who is paid, by which schedule, from which year.

    Attributes:
        account: The investor's account (kind ``investor``).
        schedule: The investor's share of total profit for contract years 1..N.
        contract_start_year: The fiscal year that is contract year 1.
    """

    account: AccountId
    schedule: InvestorSchedule
    contract_start_year: Year

    def contract_year(self, fiscal_year: int) -> int:
        """Return the contract year (1-based) that ``fiscal_year`` falls in.

        The result may lie outside the schedule; :meth:`InvestorSchedule.share` refuses it.
        """
        return fiscal_year - self.contract_start_year + 1


class AdoptSplitPolicy(Event):
    """Adopt version ``version`` of split policy ``policy_id``, in force from ``effective_from``.

    The policy's ``account`` buckets pay the accounts in ``accounts`` (bucket name to account
    id); a bucket left out of ``accounts`` pays the account its policy already names. A later
    version of the same id supersedes the earlier ones from its own ``effective_from`` on;
    every version stays in the ledger state.

    Attributes:
        policy_id: The policy's stable id, e.g. ``quanxing-3331``.
        version: 1 for the first adoption, then exactly one more than the last version.
        effective_from: First business date a distribution may use this version.
        policy: The buckets and their weights.
        accounts: Bucket name to account id, for ``account`` buckets only.
        investor: The investor's terms, paid before the policy applies; ``None`` for none.
    """

    type: Literal["adopt_split_policy"] = "adopt_split_policy"
    policy_id: RecordId
    version: Annotated[int, Field(ge=1, le=POLICY_VERSION_MAX)]
    effective_from: dt.date
    policy: SplitPolicy
    accounts: Annotated[dict[str, AccountId], Field(max_length=BUCKETS_MAX)] = Field(
        default_factory=dict
    )
    investor: InvestorTerms | None = None

    @model_validator(mode="after")
    def _accounts_name_account_buckets(self) -> AdoptSplitPolicy:
        self.resolved_policy()
        return self

    def resolved_policy(self) -> SplitPolicy:
        """Return the policy with ``accounts`` applied to its ``account`` buckets.

        Raises:
            SplitError: ``accounts`` names a bucket that is not an ``account`` bucket.
        """
        return self.policy.with_accounts(self.accounts)


class Holding(FrozenModel):
    """One shareholder's holding in a roster.

    Attributes:
        account: The shareholder's account (kind ``shareholder``).
        shares: A whole number of shares, from 1 to :data:`SHARES_MAX`.
    """

    account: AccountId
    shares: int

    @model_validator(mode="after")
    def _positive(self) -> Holding:
        if not 1 <= self.shares <= SHARES_MAX:
            raise SplitError(
                f"shareholder {self.account!r} holds {self.shares} shares; a holding must be "
                f"a whole number from 1 to {SHARES_MAX:,}",
                hint="Leave people without shares out of the shareholder list.",
                details={"account": self.account, "shares": self.shares},
            )
        return self


class RecordRoster(Event):
    """Record who takes part in distributions: shareholders with shares, and villagers.

    A roster is a dated snapshot; a later change is a new roster with a new id.

    Attributes:
        roster_id: The roster's id, unique in the ledger.
        as_of: The date the roster describes.
        shareholders: Paid by ``pro_rata`` buckets, in proportion to their shares.
        villagers: Paid by ``per_capita`` buckets, equally.
    """

    type: Literal["record_roster"] = "record_roster"
    roster_id: RecordId
    as_of: dt.date
    shareholders: Annotated[tuple[Holding, ...], Field(max_length=SHAREHOLDERS_MAX)] = ()
    villagers: Annotated[tuple[AccountId, ...], Field(max_length=VILLAGERS_MAX)] = ()

    @model_validator(mode="after")
    def _no_repeats(self) -> RecordRoster:
        seen: set[str] = set()
        for holding in self.shareholders:
            if holding.account in seen:
                raise SplitError(f"shareholder {holding.account!r} is listed twice")
            seen.add(holding.account)
        if len(set(self.villagers)) != len(self.villagers):
            repeated = sorted({v for v in self.villagers if self.villagers.count(v) > 1})
            raise SplitError(f"villager {repeated[0]!r} is listed twice")
        return self


class RecordRevenue(Event):
    """Record collective income: ``amount`` fen (CNY) from ``external`` into a fund account.

    Attributes:
        account: The collective's revenue account (kind ``fund``).
        period: The period the income belongs to, e.g. ``2026``.
        fiscal_year: The fiscal year of the period (fixes the investor's contract year).
        amount: Fen received, at least 1.
    """

    type: Literal["record_revenue"] = "record_revenue"
    account: AccountId
    period: PeriodLabel
    fiscal_year: Year
    amount: PositiveAmount


class Distribute(Event):
    """Pay out ``amount`` fen of a period's revenue by an adopted policy and a roster.

    The postings are not in the event: the ledger derives them from the policy version in
    force on ``effective_at``, the roster and the amount, in one entry debiting the period's
    revenue account.

    Attributes:
        period: A period with recorded revenue.
        policy_id: The adopted split policy.
        amount: Fen to distribute, at least 1.
        roster_id: The recorded roster; may be left out only when the policy has no
            ``pro_rata`` or ``per_capita`` bucket.
    """

    type: Literal["distribute"] = "distribute"
    period: PeriodLabel
    policy_id: RecordId
    amount: PositiveAmount
    roster_id: RecordId | None = None
