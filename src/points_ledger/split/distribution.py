"""Results of applying a split policy: :class:`Distribution` and its :class:`DistributionTrace`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from points_ledger.errors import SplitError
from points_ledger.split.allocation import AllocationStep
from points_ledger.split.text import format_fen, format_units

__all__ = ["Distribution", "DistributionTrace", "format_trace"]


@dataclass(frozen=True, slots=True)
class DistributionTrace:
    """Step-by-step working of a distribution, one :class:`AllocationStep` per rounding level.

    Attributes:
        title: What was distributed (policy name, contract year).
        amount: The whole amount distributed.
        notes: Plain-language facts about the method (investor share, rounding levels).
        steps: Every apportionment in the order it was done.
        summary: ``(label, amount)`` lines: investor part and bucket subtotals.
    """

    title: str
    amount: int
    notes: tuple[str, ...]
    steps: tuple[AllocationStep, ...]
    summary: tuple[tuple[str, int], ...]

    def to_text(self, *, yuan: bool = True) -> str:
        """Render the whole working as printable plain text.

        Args:
            yuan: When true, amounts are fen and totals are also shown in yuan.
        """

        def money(units: int) -> str:
            if yuan:
                return f"{format_fen(units)} yuan ({format_units(units)} fen)"
            return f"{format_units(units)} units"

        out = [f"# {self.title}", f"Amount distributed: {money(self.amount)}"]
        out.extend(f"- {note}" for note in self.notes)
        for number, step in enumerate(self.steps, start=1):
            out.append("")
            out.append(f"Step {number} of {len(self.steps)}")
            out.append(step.to_text(yuan=yuan))
        out.append("")
        out.append("Summary")
        width = max((len(label) for label, _ in self.summary), default=0)
        out.extend(f"  {label.ljust(width)}  {money(units)}" for label, units in self.summary)
        total = sum(units for _, units in self.summary)
        out.append(f"  {'total'.ljust(width)}  {money(total)}")
        return "\n".join(out)


def format_trace(trace: DistributionTrace | AllocationStep, *, yuan: bool = True) -> str:
    """Render a distribution trace or a single allocation step as printable text.

    Same as ``trace.to_text(yuan=yuan)``.
    """
    return trace.to_text(yuan=yuan)


@dataclass(frozen=True, slots=True)
class Distribution:
    """Who gets what from one distribution, with subtotals and the full working.

    Guarantees: ``sum(amounts.values()) == amount``,
    ``investor_amount + sum(bucket_totals.values()) == amount`` and, for every bucket,
    ``sum(by_bucket[name].values()) == bucket_totals[name]``.

    Attributes:
        amount: The whole amount distributed (fen or points).
        amounts: Account id to total received (read-only, ascending id order). An account
            in several buckets gets the sum of its parts.
        bucket_totals: Bucket name to subtotal, in policy order (read-only).
        by_bucket: Bucket name to that bucket's parts per account (read-only).
        investor_amount: The investor's part before the policy applied (0 without a schedule).
        trace: The step-by-step working.
    """

    amount: int
    amounts: Mapping[str, int]
    bucket_totals: Mapping[str, int]
    by_bucket: Mapping[str, Mapping[str, int]]
    investor_amount: int
    trace: DistributionTrace

    def to_text(self, *, yuan: bool = True) -> str:
        """Render the trace; same as ``self.trace.to_text(yuan=yuan)``."""
        return self.trace.to_text(yuan=yuan)


def build_distribution(
    *,
    amount: int,
    investor: tuple[str, int] | None,
    by_bucket: Mapping[str, Mapping[str, int]],
    trace: DistributionTrace,
) -> Distribution:
    """Assemble a :class:`Distribution` and check that every level conserves the amount.

    Raises:
        SplitError: The parts do not add up (a bug: the apportionment guarantees they do).
    """
    totals: dict[str, int] = {}
    bucket_totals = {name: sum(parts.values()) for name, parts in by_bucket.items()}
    for parts in by_bucket.values():
        for account, part in parts.items():
            totals[account] = totals.get(account, 0) + part
    investor_amount = 0
    if investor is not None:
        account, investor_amount = investor
        totals[account] = totals.get(account, 0) + investor_amount
    if sum(totals.values()) != amount or investor_amount + sum(bucket_totals.values()) != amount:
        raise SplitError(
            f"internal error: parts add up to {sum(totals.values())}, not {amount}",
            hint="This is a bug in points_ledger; please report it with the inputs.",
        )
    return Distribution(
        amount=amount,
        amounts=MappingProxyType(dict(sorted(totals.items()))),
        bucket_totals=MappingProxyType(bucket_totals),
        by_bucket=MappingProxyType(
            {name: MappingProxyType(dict(parts)) for name, parts in by_bucket.items()}
        ),
        investor_amount=investor_amount,
        trace=trace,
    )
