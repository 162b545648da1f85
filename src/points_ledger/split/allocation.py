"""Largest-remainder (Hamilton) apportionment of a whole amount by exact weights.

:func:`allocate` returns the parts; :func:`explain_allocation` returns the same parts with
every intermediate figure, as an :class:`AllocationStep` that can be printed.

Guarantees, for every accepted input:

* the parts sum exactly to ``amount``;
* each part is the floor or the ceiling of its exact quota ``amount * weight / total``;
* the units left over after flooring go one each to the largest fractional remainders, and
  equal remainders are ordered by recipient id (ascending, Python string order), so the
  result never depends on the order of the input mapping;
* a recipient with weight zero gets zero;
* a negative amount is split as its absolute value and every part negated, so
  ``allocate(-a, w) == {k: -v for k, v in allocate(a, w).items()}``;
* the result is a new ``dict`` whose keys are in ascending order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from points_ledger.errors import SplitError
from points_ledger.split._checks import (
    RECIPIENT_ID_LENGTH_MAX,
    RECIPIENTS_MAX,
    check_amount,
    check_recipient,
    check_weight,
    describe,
)
from points_ledger.split.text import format_decimal, format_fen, format_fraction, format_units

__all__ = ["AllocationStep", "RecipientLine", "allocate", "explain_allocation"]


@dataclass(frozen=True, slots=True)
class RecipientLine:
    """One recipient's row in an apportionment.

    Quota, floor and remainder are those of the absolute amount; see
    :attr:`AllocationStep.negated`.

    Attributes:
        recipient: The recipient id.
        weight: The weight given for this recipient.
        quota: Exact share ``|amount| * weight / total_weight``.
        floor: Whole units of the quota.
        remainder: ``quota - floor``, in ``[0, 1)``.
        leftover_rank: 1 for the recipient that took the first leftover unit, 2 for the
            second, ...; ``None`` if it took none.
        amount: The recipient's final part, with the sign of the amount split.
    """

    recipient: str
    weight: Fraction
    quota: Fraction
    floor: int
    remainder: Fraction
    leftover_rank: int | None
    amount: int


@dataclass(frozen=True, slots=True)
class AllocationStep:
    """The full working of one apportionment, as returned by :func:`explain_allocation`.

    Attributes:
        label: What was split, for the printed trace (e.g. ``"bucket shareholders"``).
        amount: The amount split (may be negative).
        total_weight: Sum of all weights.
        lines: One row per recipient, in ascending recipient id order.
        leftover: Units handed out one by one after flooring (``|amount| - sum of floors``).
        negated: ``True`` when ``amount`` was negative: the rows were computed for
            ``|amount|`` and every part negated.
    """

    label: str
    amount: int
    total_weight: Fraction
    lines: tuple[RecipientLine, ...]
    leftover: int
    negated: bool

    @property
    def amounts(self) -> dict[str, int]:
        """The parts, as a new dict in ascending recipient id order."""
        return {line.recipient: line.amount for line in self.lines}

    def to_text(self, *, yuan: bool = True) -> str:
        """Render the working as plain text a village accountant can check by hand.

        Args:
            yuan: When true, amounts are fen and the amount split is also shown in yuan.

        Returns:
            Multi-line text: the amount, a table of weight, exact quota (fraction and
            decimal), floor, remainder and final amount per recipient, then who received
            each leftover unit and why.
        """
        magnitude = abs(self.amount)
        out = [f"== {self.label} =="]
        amount_text = f"{format_units(self.amount)} units"
        if yuan:
            amount_text = f"{format_fen(self.amount)} yuan ({format_units(self.amount)} fen)"
        out.append(f"Amount to split: {amount_text}")
        if self.negated:
            out.append(
                f"The amount is negative: it is split as {format_units(magnitude)} and every "
                "part is then negated, so refunds mirror payments exactly."
            )
        out.append(
            f"Total weight: {format_fraction(self.total_weight)}; each quota is "
            f"{format_units(magnitude)} x weight / {format_fraction(self.total_weight)}."
        )
        header = (
            "recipient",
            "weight",
            "exact quota",
            "quota (decimal)",
            "floor",
            "remainder",
            "extra",
            "amount",
        )
        rows = [header]
        for line in self.lines:
            rows.append(
                (
                    line.recipient,
                    format_fraction(line.weight),
                    format_fraction(line.quota),
                    format_decimal(line.quota),
                    format_units(line.floor),
                    format_fraction(line.remainder),
                    "+1" if line.leftover_rank is not None else "",
                    format_units(line.amount),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            out.append("  " + "  ".join(cells).rstrip())
        floors = sum(line.floor for line in self.lines)
        out.append(
            f"Sum of floors: {format_units(floors)}; leftover units: {format_units(self.leftover)}."
        )
        out.extend(self._leftover_reasons())
        total = sum(line.amount for line in self.lines)
        out.append(
            f"Check: parts add up to {format_units(total)} = amount {format_units(self.amount)}."
        )
        return "\n".join(out)

    def _leftover_reasons(self) -> list[str]:
        if self.leftover == 0:
            return ["No leftover units: every quota's floor already adds up to the amount."]
        ranked = sorted(
            (line for line in self.lines if line.leftover_rank is not None),
            key=lambda line: line.leftover_rank or 0,
        )
        remainder_counts: dict[Fraction, int] = {}
        for line in self.lines:
            remainder_counts[line.remainder] = remainder_counts.get(line.remainder, 0) + 1
        out = [
            "Leftover units go one each to the largest remainders; equal remainders are "
            "served in recipient id order (A to Z)."
        ]
        for line in ranked:
            reason = (
                f"remainder {format_fraction(line.remainder)} ({format_decimal(line.remainder)})"
            )
            ties = remainder_counts[line.remainder] - 1
            if ties:
                reason += f", tied with {ties} other(s), earlier id first"
            out.append(f"  unit {line.leftover_rank}: {line.recipient} - {reason}")
        passed = [line for line in self.lines if line.leftover_rank is None]
        if passed:
            best = max(passed, key=lambda line: line.remainder)
            first = min(
                (line for line in passed if line.remainder == best.remainder),
                key=lambda line: line.recipient,
            )
            out.append(
                f"  next in line, received none: {first.recipient} - remainder "
                f"{format_fraction(first.remainder)} ({format_decimal(first.remainder)})"
            )
        return out


def _checked_weights(weights: object) -> dict[str, int | Fraction]:
    if not isinstance(weights, Mapping):
        raise SplitError(
            f"weights must be a mapping of recipient id to weight, got {describe(weights)}"
        )
    if not weights:
        raise SplitError("weights is empty: there must be at least one recipient")
    if len(weights) > RECIPIENTS_MAX:
        raise SplitError(
            f"{len(weights)} recipients is beyond the limit of {RECIPIENTS_MAX}",
            details={"value": len(weights), "limit": RECIPIENTS_MAX},
        )
    for key in weights:
        if type(key) is not str or not 0 < len(key) <= RECIPIENT_ID_LENGTH_MAX:
            check_recipient(key)
    checked: dict[str, int | Fraction] = {}
    for key in sorted(weights):
        checked[key] = check_weight(weights[key], recipient=key)
    if not any(checked.values()):
        raise SplitError(
            f"all {len(checked)} weights are zero: there is nobody to give the amount to"
        )
    return checked


def _apportion(
    magnitude: int, weights: Mapping[str, int | Fraction]
) -> tuple[list[int], list[int], int, list[int]]:
    """Apportion a non-negative amount among already-checked weights in key order.

    Returns floors, remainder numerators (over the common total), the common total and
    the leftover rank of each recipient (0 for none). Integer arithmetic throughout:
    weights are scaled to integers by their common denominator.
    """
    values = list(weights.values())
    denominator = math.lcm(*(value.denominator for value in values))
    if denominator == 1:
        scaled = [int(value) for value in values]
    else:
        scaled = [value.numerator * (denominator // value.denominator) for value in values]
    total = sum(scaled)
    floors: list[int] = []
    remainders: list[int] = []
    for weight in scaled:
        floor, remainder = divmod(magnitude * weight, total)
        floors.append(floor)
        remainders.append(remainder)
    leftover = magnitude - sum(floors)
    ranks = [0] * len(scaled)
    # Indices follow ascending key order, so sorting on (-remainder, index) breaks ties by key.
    order = sorted(range(len(scaled)), key=lambda i: (-remainders[i], i))
    for rank, index in enumerate(order[:leftover], start=1):
        ranks[index] = rank
    return floors, remainders, total, ranks


def allocate(amount: int, weights: Mapping[str, int | Fraction]) -> dict[str, int]:
    """Split ``amount`` whole units among recipients in proportion to ``weights``.

    Uses the largest-remainder (Hamilton) method with exact rational arithmetic; see the
    module docstring for the guarantees.

    Args:
        amount: Whole units to split (fen or points); may be negative or zero.
        weights: Recipient id to weight (``int`` or ``Fraction``, zero or more).

    Returns:
        Recipient id to part, keys in ascending order, parts summing to ``amount``.

    Raises:
        SplitError: ``amount`` is not an int (float, bool, ...) or beyond
            ``10**15`` either way; ``weights`` is not a mapping, is empty, has more than
            1,000,000 recipients, a non-string or empty id, a weight that is a float, bool,
            negative or too large, or only zero weights.
    """
    checked_amount = check_amount(amount)
    checked = _checked_weights(weights)
    floors, _, _, ranks = _apportion(abs(checked_amount), checked)
    sign = -1 if checked_amount < 0 else 1
    return {
        key: sign * (floor + (1 if rank else 0))
        for key, floor, rank in zip(checked, floors, ranks, strict=True)
    }


def explain_allocation(
    amount: int, weights: Mapping[str, int | Fraction], *, label: str = "allocation"
) -> AllocationStep:
    """Do what :func:`allocate` does and return every figure of the working.

    ``explain_allocation(a, w).amounts == allocate(a, w)`` always.

    Args:
        amount: Whole units to split; may be negative or zero.
        weights: Recipient id to weight.
        label: Heading for the printed trace.

    Returns:
        The :class:`AllocationStep` with quotas, floors, remainders and leftover ranks.

    Raises:
        SplitError: For the same inputs as :func:`allocate`.
    """
    checked_amount = check_amount(amount)
    checked = _checked_weights(weights)
    magnitude = abs(checked_amount)
    floors, remainders, total, ranks = _apportion(magnitude, checked)
    sign = -1 if checked_amount < 0 else 1
    total_weight = Fraction(sum(checked.values()))
    lines = tuple(
        RecipientLine(
            recipient=key,
            weight=Fraction(weight),
            quota=Fraction(floor * total + remainder, total),
            floor=floor,
            remainder=Fraction(remainder, total),
            leftover_rank=rank or None,
            amount=sign * (floor + (1 if rank else 0)),
        )
        for (key, weight), floor, remainder, rank in zip(
            checked.items(), floors, remainders, ranks, strict=True
        )
    )
    return AllocationStep(
        label=label,
        amount=checked_amount,
        total_weight=total_weight,
        lines=lines,
        leftover=magnitude - sum(floors),
        negated=checked_amount < 0,
    )
