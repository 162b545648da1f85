"""Number formatting for printed split traces: fen as yuan, fractions as decimals.

Everything here is integer arithmetic, so what is printed is exactly what was computed.
"""

from __future__ import annotations

from fractions import Fraction

from points_ledger.errors import SplitError
from points_ledger.split._checks import describe

__all__ = ["format_decimal", "format_fen", "format_fraction", "format_units"]

FEN_PER_YUAN = 100


def format_units(units: int) -> str:
    """Format a whole number of units with thousands separators, e.g. ``61,578,947``.

    Raises:
        SplitError: ``units`` is not an int (or is a bool).
    """
    if isinstance(units, bool) or not isinstance(units, int):
        raise SplitError(f"units must be an int, got {describe(units)}")
    return f"{units:,}"


def format_fen(fen: int) -> str:
    """Format an amount of fen as yuan with two decimals, e.g. ``100000001`` -> ``1,000,000.01``.

    Negative amounts keep their sign in front: ``-5`` -> ``-0.05``.

    Raises:
        SplitError: ``fen`` is not an int (floats and bools are refused).
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise SplitError(f"fen must be an int, got {describe(fen)}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan:,}.{cents:02d}"


def format_fraction(value: Fraction) -> str:
    """Format an exact fraction in lowest terms: ``73/190``, or ``3`` when it is whole."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def format_decimal(value: Fraction, places: int = 6) -> str:
    """Format a fraction as a decimal with thousands separators, cut (not rounded) at ``places``.

    A trailing ``…`` marks that digits were cut off, so ``1/3`` prints as ``0.333333…`` and
    ``1/4`` as ``0.25``; the printed digits are always a true prefix of the exact value.

    Raises:
        SplitError: ``places`` is not an int between 0 and 30.
    """
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 30:
        raise SplitError(f"places must be an int from 0 to 30, got {describe(places)}")
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    digits = []
    for _ in range(places):
        if rest == 0:
            break
        digit, rest = divmod(rest * 10, magnitude.denominator)
        digits.append(str(digit))
    text = f"{sign}{whole:,}"
    if digits:
        text += "." + "".join(digits)
    if rest != 0:
        text += "…"
    return text
