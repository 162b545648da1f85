"""Report rows are read column by field and checked against each field's type.

A store answers the named report queries with plain rows; the reports module turns them into
typed rows. A value of the wrong type, or a row of the wrong length (say a view an operator
replaced), is refused as an integrity problem instead of being shown.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest

from points_ledger import reports
from points_ledger.errors import IntegrityError
from points_ledger.ledger import Ledger


class _Rows:
    """Stands in for a ledger: answers every report query with the same rows."""

    def __init__(self, *rows: tuple[object, ...]) -> None:
        self.rows = list(rows)
        self.asked: list[tuple[str, tuple[object, ...]]] = []

    def report_rows(self, name: str, *params: object) -> list[tuple[object, ...]]:
        self.asked.append((name, params))
        return self.rows


def _ledger(*rows: tuple[object, ...]) -> Ledger:
    return cast(Ledger, _Rows(*rows))


def test_each_column_is_read_as_its_field_type() -> None:
    service = ("visit", "Visit the elderly", 10, "visit", None, 200, "2026-01-01", None, 7)
    (row,) = reports.services(_ledger(service))
    assert row == reports.ServiceRow(
        code="visit",
        name="Visit the elderly",
        points_per_unit=10,
        unit="visit",
        points_per_day_max=None,
        points_per_month_max=200,
        active_from=dt.date(2026, 1, 1),
        active_to=None,
        defined_seq=7,
    )
    (offer,) = reports.offers(_ledger(("o1", "p1", "rice", 50, 3, 0, 9)))
    assert offer.active is False and offer.stock == 3
    (account,) = reports.accounts(_ledger(("vol:1", "member", '["wuhou", "g1"]', 4)))
    assert account.grid == ("wuhou", "g1")
    (key,) = reports.registered_keys(_ledger(("k1", '["admin"]', None, 0, 12)))
    assert key.owner is None and key.roles == ("admin",) and key.revoked_at_seq == 12


def test_a_row_of_another_length_is_refused() -> None:
    with pytest.raises(IntegrityError) as caught:
        reports.offers(_ledger(("o1", "p1", "rice", 50, 3, 1)))
    assert caught.value.code == "integrity_failure"
    assert "OfferRow report row should have 7 values, found 6" in caught.value.message


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (("o1", "p1", "rice", "50", 3, 1, 9), "should be a whole number"),
        (("o1", 2, "rice", 50, 3, 1, 9), "should be text"),
        (("o1", "p1", "rice", 50, 3, None, 9), "should be a whole number"),
    ],
)
def test_a_value_of_another_type_is_refused(row: tuple[object, ...], says: str) -> None:
    with pytest.raises(IntegrityError, match=says):
        reports.offers(_ledger(row))


def test_dates_and_lists_are_checked() -> None:
    with pytest.raises(IntegrityError, match="should be a date"):
        reports.partner_settlements(
            _ledger((5, "2026-02-30", "p1", "f1", "2026-01-01", "2026-01-31", 1, 10, 100))
        )
    with pytest.raises(IntegrityError, match="should be a list of text"):
        reports.accounts(_ledger(("vol:1", "member", "[1]", 4)))
