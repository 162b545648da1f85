"""Exact, traceable splitting of whole amounts: apportionment, policies, investor schedules.

Pure: no I/O, no clock, no floats. Amounts are ``int`` units (fen or points); weights and
shares are ``int`` or :class:`fractions.Fraction`. Every refusal is a
:class:`~points_ledger.errors.SplitError`.

Modules:

* :mod:`.allocation`: :func:`allocate` (largest remainder) and its traced twin
  :func:`explain_allocation`.
* :mod:`.policy`: :class:`SplitPolicy` and :class:`Bucket`, storable as JSON.
* :mod:`.presets`: the 3:3:3:1 split and the percentage rules from the articles.
* :mod:`.schedule`: :class:`InvestorSchedule`, the investor's share by contract year.
* :mod:`.distribute`: :func:`distribute` and :func:`explain` for a village distribution.
* :mod:`.distribution`: the :class:`Distribution` result and its :class:`DistributionTrace`.
* :mod:`.text`: :func:`format_fen` and friends for printed traces.
"""

from points_ledger.split._checks import AMOUNT_ABS_MAX, RECIPIENTS_MAX
from points_ledger.split.allocation import (
    AllocationStep,
    RecipientLine,
    allocate,
    explain_allocation,
)
from points_ledger.split.distribute import distribute, explain
from points_ledger.split.distribution import Distribution, DistributionTrace, format_trace
from points_ledger.split.policy import Bucket, BucketMode, SplitPolicy
from points_ledger.split.presets import (
    COMMUNITY_FUND_FIVE_PERCENT,
    MICRO_FUND_THIRTY_PERCENT,
    PROPERTY_MANAGER_FIFTEEN_PERCENT,
    THREE_THREE_THREE_ONE,
    percentage_split,
)
from points_ledger.split.schedule import InvestorSchedule
from points_ledger.split.text import format_decimal, format_fen, format_fraction, format_units

__all__ = [
    "AMOUNT_ABS_MAX",
    "COMMUNITY_FUND_FIVE_PERCENT",
    "MICRO_FUND_THIRTY_PERCENT",
    "PROPERTY_MANAGER_FIFTEEN_PERCENT",
    "RECIPIENTS_MAX",
    "THREE_THREE_THREE_ONE",
    "AllocationStep",
    "Bucket",
    "BucketMode",
    "Distribution",
    "DistributionTrace",
    "InvestorSchedule",
    "RecipientLine",
    "SplitPolicy",
    "allocate",
    "distribute",
    "explain",
    "explain_allocation",
    "format_decimal",
    "format_fen",
    "format_fraction",
    "format_trace",
    "format_units",
    "percentage_split",
]
