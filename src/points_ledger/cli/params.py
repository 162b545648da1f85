"""Click parameter types for the values people type: dates, yuan, points, shares.

Each type turns the text into the exact value the library wants (``datetime.date``, an
``int`` of fen or points, a :class:`fractions.Fraction`) without ever going through a
float, and reports a bad value as a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction
from typing import Any

import click

from points_ledger.cli.dates import parse_date
from points_ledger.cli.ledger_cmds import parse_amount
from points_ledger.errors import InvalidEventError
from points_ledger.models import Asset

__all__ = ["DATE", "POINTS", "SHARE", "YUAN", "DateType", "PointsType", "ShareType", "YuanType"]

_SHARE = re.compile(r"^\d{1,6}(?:\.\d{1,6})?%?$|^\d{1,9}/\d{1,9}$")


class DateType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A business date written ``YYYY-MM-DD``."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the ``datetime.date``; fail with a usage error otherwise."""
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


class YuanType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """Money typed in yuan with at most two decimals (``12.5``), returned as integer fen."""

    name = "YUAN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the amount in fen (``12.5`` → 1250); fail with a usage error otherwise."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            fen = parse_amount(str(value), Asset.CNY)
        except InvalidEventError as e:
            self.fail(e.message, param, ctx)
        if fen <= 0:
            self.fail(f"{value!r} must be more than 0 yuan", param, ctx)
        return fen


class PointsType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A positive whole number of points (``30``; thousands separators allowed)."""

    name = "POINTS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the points as ``int``; fail with a usage error otherwise."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            points = parse_amount(str(value), Asset.PTS)
        except InvalidEventError as e:
            self.fail(e.message, param, ctx)
        if points <= 0:
            self.fail(f"{value!r} must be at least 1 point", param, ctx)
        return points


class ShareType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A share of profit: ``70%``, ``12.5%``, ``0.7`` or ``7/10``, kept as an exact Fraction."""

    name = "SHARE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the exact share in ``[0, 1]``; fail with a usage error otherwise."""
        if isinstance(value, Fraction):
            return value
        text = str(value).strip()
        if not _SHARE.fullmatch(text):
            self.fail(f"{value!r} is not a share (write 70%, 0.7 or 7/10)", param, ctx)
        if text.endswith("%"):
            share = Fraction(text[:-1]) / 100
        else:
            numerator, _, denominator = text.partition("/")
            if denominator and int(denominator) == 0:
                self.fail(f"{value!r} divides by zero", param, ctx)
            share = Fraction(numerator) / Fraction(denominator or "1")
        if not 0 <= share <= 1:
            self.fail(f"{value!r} is not between 0% and 100%", param, ctx)
        return share


DATE: DateType = DateType()
"""Parameter type for ``YYYY-MM-DD`` dates."""
YUAN: YuanType = YuanType()
"""Parameter type for positive amounts of money in yuan (returns fen)."""
POINTS: PointsType = PointsType()
"""Parameter type for positive whole points."""
SHARE: ShareType = ShareType()
"""Parameter type for exact shares (``70%``, ``7/10``)."""
