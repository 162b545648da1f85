"""The outside investor's share of total profit, year by year over a contract.

Quanxing village's investor takes 70% of overall profit at first, and the share declines
over a 20-year contract. :class:`InvestorSchedule` holds one exact share per contract year.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, PlainValidator, field_validator

from points_ledger.errors import SplitError
from points_ledger.split._checks import describe
from points_ledger.split._model import SplitModel

__all__ = ["YEARS_MAX", "InvestorSchedule"]

YEARS_MAX = 100
"""Longest contract, in years, a schedule may cover."""


def _share_from(value: object) -> Fraction:
    if isinstance(value, str):
        try:
            value = Fraction(value)
        except (ValueError, ZeroDivisionError) as e:
            raise SplitError(f"share {value!r} is not a fraction like '7/10'") from e
        if value.denominator > 10**18 or value.numerator > 10**18:
            raise SplitError(f"share {value} has too many digits")
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise SplitError(f"share must be an int or fractions.Fraction, got {describe(value)}")
    share = Fraction(value)
    if not 0 <= share <= 1:
        raise SplitError(f"share {share} is outside [0, 1]; a share is a part of the profit")
    return share


ShareFraction = Annotated[
    Fraction,
    PlainValidator(_share_from),
    PlainSerializer(lambda share: f"{share.numerator}/{share.denominator}", return_type=str),
]
"""An exact share in ``[0, 1]``; serialised as the string ``"numerator/denominator"``."""


class InvestorSchedule(SplitModel):
    """The investor's exact share of total profit for each contract year 1..N.

    Build one with :meth:`linear` or :meth:`table`. Shares are :class:`Fraction` values in
    ``[0, 1]``; in JSON each is the string ``"numerator/denominator"``.

    Attributes:
        shares_by_year: Share for year 1, year 2, ... year N (N from 1 to :data:`YEARS_MAX`).
        description: How the schedule was made, for people reading the ledger.
    """

    shares_by_year: tuple[ShareFraction, ...] = Field(min_length=1, max_length=YEARS_MAX)
    description: str = Field(default="", max_length=500)

    @field_validator("shares_by_year", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        # JSON has no tuples; accept the list that to_dict() + json.loads() produce.
        return tuple(value) if isinstance(value, list) else value

    @property
    def years(self) -> int:
        """Number of contract years N."""
        return len(self.shares_by_year)

    def share(self, year: int) -> Fraction:
        """Return the investor's share of total profit in contract ``year`` (1-based).

        Raises:
            SplitError: ``year`` is not an int (bools refused) or is outside ``1..N``.
        """
        if isinstance(year, bool) or not isinstance(year, int):
            raise SplitError(f"contract year must be an int, got {describe(year)}")
        if not 1 <= year <= self.years:
            raise SplitError(
                f"contract year {year} is outside the contract (years 1 to {self.years})",
                details={"value": year, "years": self.years},
            )
        return self.shares_by_year[year - 1]

    @classmethod
    def linear(cls, *, start: int | Fraction, end: int | Fraction, years: int) -> InvestorSchedule:
        """Build a schedule moving in equal steps from ``start`` in year 1 to ``end`` in year N.

        ``share(y) = start + (end - start) * (y - 1) / (years - 1)``, exactly. For a
        70% to 10% decline over 20 years, year 11 is ``7/10 - 10 * (6/10) / 19 = 73/190``.

        Args:
            start: Share in year 1, in ``[0, 1]``.
            end: Share in year ``years``, in ``[0, 1]``.
            years: Contract length N, from 1 to :data:`YEARS_MAX`; with N = 1, ``start``
                must equal ``end``.

        Raises:
            SplitError: A share is a float, bool or outside ``[0, 1]``; ``years`` is not an
                int in range; or ``years == 1`` with ``start != end``.
        """
        first = _share_from(start)
        last = _share_from(end)
        if isinstance(years, bool) or not isinstance(years, int):
            raise SplitError(f"years must be an int, got {describe(years)}")
        if not 1 <= years <= YEARS_MAX:
            raise SplitError(f"years {years} must be from 1 to {YEARS_MAX}")
        if years == 1:
            if first != last:
                raise SplitError(
                    f"a 1-year schedule cannot go from {first} to {last}; give start == end"
                )
            shares: tuple[Fraction, ...] = (first,)
        else:
            step = (last - first) / (years - 1)
            shares = tuple(first + step * index for index in range(years))
        return cls(
            shares_by_year=shares,
            description=f"linear from {first} in year 1 to {last} in year {years}",
        )

    @classmethod
    def table(
        cls, shares: Mapping[int, int | Fraction], *, description: str = ""
    ) -> InvestorSchedule:
        """Build a schedule from an explicit ``{year: share}`` table covering years 1..N.

        Raises:
            SplitError: ``shares`` is not a mapping, is empty, its years are not exactly
                ``1..N`` (ints, no gaps), or a share is a float, bool or outside ``[0, 1]``.
        """
        if not isinstance(shares, Mapping) or not shares:
            raise SplitError(
                f"shares must be a non-empty mapping of year to share, got {describe(shares)}"
            )
        if len(shares) > YEARS_MAX:
            raise SplitError(f"{len(shares)} years is beyond the limit of {YEARS_MAX}")
        for year in shares:
            if isinstance(year, bool) or not isinstance(year, int):
                raise SplitError(f"contract year must be an int, got {describe(year)}")
        expected = list(range(1, len(shares) + 1))
        if sorted(shares) != expected:
            raise SplitError(
                f"years must be exactly 1 to {len(shares)} with no gaps, got {sorted(shares)}"
            )
        return cls(
            shares_by_year=tuple(_share_from(shares[year]) for year in expected),
            description=description,
        )
