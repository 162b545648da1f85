"""What the working of an apportionment says, pinned where a single changed line of
``split/allocation.py`` could otherwise go unnoticed: the sign of a zero amount, the
printed table, the reasons given for each leftover unit and for the next in line.
"""

from __future__ import annotations

import pytest

from points_ledger.split import RECIPIENTS_MAX, allocate, explain_allocation


def test_a_zero_amount_is_not_a_negative_one() -> None:
    step = explain_allocation(0, {"a": 1, "b": 2})
    assert step.negated is False
    assert step.amounts == {"a": 0, "b": 0}
    assert "negative" not in step.to_text()
    assert explain_allocation(-1, {"a": 1}).negated is True


@pytest.mark.slow
def test_the_largest_number_of_recipients_is_accepted() -> None:
    weights = dict.fromkeys((f"r{i:07d}" for i in range(RECIPIENTS_MAX)), 1)
    parts = allocate(RECIPIENTS_MAX + 1, weights)
    assert len(parts) == RECIPIENTS_MAX
    assert parts["r0000000"] == 2
    assert parts["r0000001"] == 1
