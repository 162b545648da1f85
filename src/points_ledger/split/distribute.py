"""Village distribution: the investor's share first, then a split policy on the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from points_ledger.errors import SplitError
from points_ledger.split._checks import check_amount, check_recipient
from points_ledger.split.allocation import AllocationStep, explain_allocation
from points_ledger.split.distribution import Distribution, DistributionTrace, build_distribution
from points_ledger.split.policy import SplitPolicy
from points_ledger.split.schedule import InvestorSchedule
from points_ledger.split.text import format_decimal, format_fraction

__all__ = ["distribute", "explain"]

INVESTOR_KEY = "investor"
VILLAGE_KEY = "village"


def distribute(
    amount: int,
    policy: SplitPolicy,
    *,
    investor_schedule: InvestorSchedule | None = None,
    contract_year: int | None = None,
    investor_account: str = "investor",
    shares: Mapping[str, Mapping[str, int | Fraction]] | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> Distribution:
    """Distribute a village's profit: investor's share first, then ``policy`` on the rest.

    With a schedule, the investor part is ``allocate(amount, {"investor": s, "village":
    1 - s})["investor"]`` where ``s = investor_schedule.share(contract_year)``: exact
    largest-remainder rounding (on an exact half the investor, whose key sorts first, gets
    the unit). The village part is then divided by ``policy`` as in
    :meth:`SplitPolicy.apply`. Every level is traced and adds up exactly.

    Args:
        amount: Whole units (fen) of profit; may be negative (a reversal).
        policy: How the village part is divided.
        investor_schedule: The investor's share by contract year, or ``None`` for no investor.
        contract_year: The contract year (1-based); required with a schedule, refused without.
        investor_account: Account id credited with the investor part.
        shares: Rosters of the policy's ``pro_rata`` buckets (member id to holding).
        members: Rosters of the policy's ``per_capita`` buckets (list of member ids).

    Returns:
        The :class:`Distribution`; ``investor_amount`` holds the investor part.

    Raises:
        SplitError: ``amount`` is invalid; a schedule is given without a year or a year
            without a schedule; the year is outside the contract or not an int;
            ``investor_account`` is invalid; or the policy refuses its rosters.
    """
    checked = check_amount(amount)
    if not isinstance(policy, SplitPolicy):
        raise SplitError(f"policy must be a SplitPolicy, got {type(policy).__name__}")
    notes: list[str] = []
    steps: list[AllocationStep] = []
    investor: tuple[str, int] | None = None
    village_amount = checked
    if investor_schedule is None:
        if contract_year is not None:
            raise SplitError(
                f"contract_year {contract_year!r} was given without an investor_schedule"
            )
    else:
        if contract_year is None:
            raise SplitError("an investor_schedule needs the contract_year to apply")
        account = check_recipient(investor_account, what="investor_account")
        share = investor_schedule.share(contract_year)
        step = explain_allocation(
            checked,
            {INVESTOR_KEY: share, VILLAGE_KEY: 1 - share},
            label=f"investor share for contract year {contract_year}",
        )
        steps.append(step)
        parts = step.amounts
        investor = (account, parts[INVESTOR_KEY])
        village_amount = parts[VILLAGE_KEY]
        notes.append(
            f"Contract year {contract_year} of {investor_schedule.years}: the investor "
            f"({account}) takes {format_fraction(share)} = {format_decimal(share * 100, 4)}% "
            "of the profit, rounded by largest remainder; the village keeps the rest."
        )
    notes.append(policy.rounding_note())
    policy_steps, by_bucket = policy.allocate_levels(village_amount, shares=shares, members=members)
    steps.extend(policy_steps)
    summary: list[tuple[str, int]] = []
    if investor is not None:
        summary.append((f"investor {investor[0]}", investor[1]))
    summary.extend((f"bucket {name}", sum(parts.values())) for name, parts in by_bucket.items())
    title = f"Distribution by policy {policy.name!r}"
    if contract_year is not None:
        title += f", contract year {contract_year}"
    trace = DistributionTrace(
        title=title,
        amount=checked,
        notes=tuple(notes),
        steps=tuple(steps),
        summary=tuple(summary),
    )
    return build_distribution(amount=checked, investor=investor, by_bucket=by_bucket, trace=trace)


def explain(
    amount: int,
    policy: SplitPolicy,
    *,
    investor_schedule: InvestorSchedule | None = None,
    contract_year: int | None = None,
    investor_account: str = "investor",
    shares: Mapping[str, Mapping[str, int | Fraction]] | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> DistributionTrace:
    """Return the step-by-step working of :func:`distribute` for the same arguments.

    Print it with ``explain(...).to_text()`` or :func:`format_trace`.

    Raises:
        SplitError: As :func:`distribute`.
    """
    return distribute(
        amount,
        policy,
        investor_schedule=investor_schedule,
        contract_year=contract_year,
        investor_account=investor_account,
        shares=shares,
        members=members,
    ).trace
