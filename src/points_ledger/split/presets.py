"""Ready-made policies for the distribution rules in the source articles.

* :data:`THREE_THREE_THREE_ONE`: Quanxing village's 3:3:3:1 split of collective income.
* :data:`COMMUNITY_FUND_FIVE_PERCENT`: 5% of shared-space proceeds to the community fund.
* :data:`PROPERTY_MANAGER_FIFTEEN_PERCENT`: a trust-style property manager keeps 15% of fees.
* :data:`MICRO_FUND_THIRTY_PERCENT`: 30% of the manager's remuneration donated to the
  community micro-fund.

Account ids in the presets are placeholders equal to the bucket names; use
:meth:`SplitPolicy.with_accounts` to point them at a community's real accounts.
"""

from __future__ import annotations

from fractions import Fraction

from points_ledger.errors import SplitError
from points_ledger.split._checks import describe
from points_ledger.split.policy import Bucket, SplitPolicy

__all__ = [
    "COMMUNITY_FUND_FIVE_PERCENT",
    "MICRO_FUND_THIRTY_PERCENT",
    "PROPERTY_MANAGER_FIFTEEN_PERCENT",
    "THREE_THREE_THREE_ONE",
    "percentage_split",
]


def percentage_split(
    name: str,
    percent: int | Fraction,
    *,
    to_account: str,
    rest_account: str,
    to_bucket: str = "percentage",
    rest_bucket: str = "rest",
    description: str = "",
) -> SplitPolicy:
    """Build a two-bucket policy: ``percent`` % to one account, the rest to another.

    The bucket weights are integers in the ratio ``percent : 100 - percent`` (a fractional
    percent such as ``Fraction(25, 2)`` gives weights 25 and 175).

    Args:
        name: Policy name.
        percent: Strictly between 0 and 100, an int or Fraction.
        to_account: Account receiving ``percent`` %.
        rest_account: Account receiving the rest.
        to_bucket: Name of the ``percent`` bucket.
        rest_bucket: Name of the rest bucket.
        description: Free text for the policy.

    Raises:
        SplitError: ``percent`` is a float, bool, not strictly between 0 and 100, or any
            other argument makes an invalid policy.
    """
    if isinstance(percent, bool) or not isinstance(percent, int | Fraction):
        raise SplitError(f"percent must be an int or fractions.Fraction, got {describe(percent)}")
    exact = Fraction(percent)
    if not 0 < exact < 100:
        raise SplitError(f"percent {exact} must be strictly between 0 and 100")
    taken = exact.numerator
    rest = 100 * exact.denominator - exact.numerator
    return SplitPolicy(
        name=name,
        description=description,
        buckets=(
            Bucket(name=to_bucket, weight=taken, mode="account", account=to_account),
            Bucket(name=rest_bucket, weight=rest, mode="account", account=rest_account),
        ),
    )


THREE_THREE_THREE_ONE = SplitPolicy(
    name="3331",
    description=(
        "Quanxing village (Chongzhou) collective income: 3 parts to shareholding villagers "
        "pro rata by shares, 3 to the village public-welfare fund, 3 to the project reserve "
        "fund, 1 to all villagers per capita. Rounded by largest remainder among the buckets, "
        "then within each bucket."
    ),
    buckets=(
        Bucket(name="shareholders", weight=3, mode="pro_rata", description="入股群众"),
        Bucket(
            name="public_welfare_fund",
            weight=3,
            mode="account",
            account="public_welfare_fund",
            description="村级公益金",
        ),
        Bucket(
            name="project_reserve_fund",
            weight=3,
            mode="account",
            account="project_reserve_fund",
            description="项目储备金",
        ),
        Bucket(name="villagers", weight=1, mode="per_capita", description="所有村民群众"),
    ),
)
"""The 3:3:3:1 split. Pass ``shares={"shareholders": {...}}`` and
``members={"villagers": [...]}`` to :meth:`SplitPolicy.apply`."""

COMMUNITY_FUND_FIVE_PERCENT = percentage_split(
    "shared space: 5% to community fund",
    5,
    to_account="community_fund",
    rest_account="shared_space_operator",
    to_bucket="community_fund",
    rest_bucket="shared_space_operator",
    description=(
        "Shared spaces let at a symbolic rent pay 5% of their proceeds to the community fund."
    ),
)
"""5 : 95 of shared-space proceeds between the community fund and the space's operator."""

PROPERTY_MANAGER_FIFTEEN_PERCENT = percentage_split(
    "property fees: manager keeps 15%",
    15,
    to_account="property_manager",
    rest_account="property_service_fund",
    to_bucket="property_manager",
    rest_bucket="property_service_fund",
    description="A trust-style property manager keeps 15% of fees as remuneration.",
)
"""15 : 85 of property fees between the manager and the fund that pays for services."""

MICRO_FUND_THIRTY_PERCENT = percentage_split(
    "manager remuneration: 30% donated to micro-fund",
    30,
    to_account="community_micro_fund",
    rest_account="property_manager",
    to_bucket="community_micro_fund",
    rest_bucket="property_manager",
    description="The property manager donates 30% of its remuneration to the community micro-fund.",
)
"""30 : 70 of the manager's remuneration between the micro-fund and the manager."""
