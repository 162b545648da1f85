"""The settlement rule the handler and the settlement statement share."""

from __future__ import annotations

import datetime as dt

import pytest

from points_ledger.domain.settlement import settlement_covers, settlement_fen

MARCH_FROM, MARCH_TO = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


@pytest.mark.parametrize(
    ("confirmed_on", "covered"),
    [
        ("2026-02-28", False),
        ("2026-03-01", True),
        ("2026-03-15", True),
        ("2026-03-31", True),
        ("2026-04-01", False),
        (None, False),
    ],
)
def test_a_settlement_covers_confirmations_inside_its_period_ends_included(
    confirmed_on: str | None, covered: bool
) -> None:
    assert settlement_covers(confirmed_on, MARCH_FROM, MARCH_TO) is covered


def test_a_settlement_pays_the_points_at_the_rate() -> None:
    assert settlement_fen(37, 5) == 185
    assert settlement_fen(0, 5) == 0
