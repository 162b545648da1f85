"""Type and limit checks shared by the split modules.

Value is counted in whole units (fen or points), so amounts are plain ``int``; weights and
shares are ``int`` or :class:`fractions.Fraction`. A ``float`` is refused because it cannot
represent most decimal fractions exactly, and a ``bool`` is refused because ``True`` is an
``int`` to Python but never a deliberate amount.
"""

from __future__ import annotations

from fractions import Fraction

from points_ledger.errors import SplitError
from points_ledger.models.common import AMOUNT_MAX

AMOUNT_ABS_MAX = AMOUNT_MAX
"""Largest absolute amount (in units) any split accepts: the ledger's one amount bound,
``points_ledger.AMOUNT_MAX`` (10**15: 10 trillion yuan in fen)."""

RECIPIENTS_MAX = 1_000_000
"""Most recipients one apportionment accepts."""

WEIGHT_PART_MAX = 10**18
"""Largest numerator or denominator a single weight may have."""

RECIPIENT_ID_LENGTH_MAX = 200
"""Longest recipient or account id, in characters."""


def describe(value: object) -> str:
    """Return ``repr(value)`` with its type, shortened for an error message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_amount(amount: object, *, what: str = "amount") -> int:
    """Return ``amount`` if it is an ``int`` within the limit, else raise.

    Raises:
        SplitError: ``amount`` is a bool, a float or not an int, or too large.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise SplitError(
            f"{what} must be a whole number of units (int), got {describe(amount)}",
            details={"value": repr(amount)},
        )
    if abs(amount) > AMOUNT_ABS_MAX:
        raise SplitError(
            f"{what} {amount} is beyond the limit of {AMOUNT_ABS_MAX} units either way",
            hint="Split the amount into smaller events.",
            details={"value": amount, "limit": AMOUNT_ABS_MAX},
        )
    return amount


def check_weight(weight: object, *, recipient: str) -> int | Fraction:
    """Return ``weight`` if it is a valid non-negative weight (ints stay ints).

    Args:
        weight: The candidate weight.
        recipient: Whose weight it is, named in the error message.

    Raises:
        SplitError: ``weight`` is a bool, float or other non-rational type, is negative,
            or has a numerator or denominator beyond :data:`WEIGHT_PART_MAX`.
    """
    if type(weight) is int and 0 <= weight <= WEIGHT_PART_MAX:
        return weight  # the common case, kept cheap for a million recipients
    what = f"weight for {recipient!r}"
    if isinstance(weight, bool) or not isinstance(weight, int | Fraction):
        raise SplitError(
            f"{what} must be an int or fractions.Fraction, got {describe(weight)}",
            details={"recipient": recipient, "value": repr(weight)},
        )
    value = Fraction(weight)
    if value < 0:
        raise SplitError(
            f"{what} is negative ({value}); weights must be zero or more",
            details={"recipient": recipient, "value": str(value)},
        )
    if value.numerator > WEIGHT_PART_MAX or value.denominator > WEIGHT_PART_MAX:
        raise SplitError(
            f"{what} ({value}) has a numerator or denominator beyond {WEIGHT_PART_MAX}",
            details={"recipient": recipient, "value": str(value), "limit": WEIGHT_PART_MAX},
        )
    return value


def check_recipient(key: object, *, what: str = "recipient id") -> str:
    """Return ``key`` if it is a non-empty string of reasonable length.

    Raises:
        SplitError: ``key`` is not a string, is empty or is too long.
    """
    if not isinstance(key, str):
        raise SplitError(f"{what} must be a string, got {describe(key)}")
    if not key or len(key) > RECIPIENT_ID_LENGTH_MAX:
        raise SplitError(
            f"{what} {key[:60]!r} must have 1 to {RECIPIENT_ID_LENGTH_MAX} characters",
        )
    return key
