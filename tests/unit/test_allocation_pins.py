"""What the working of an apportionment says, pinned where a single changed line of
``split/allocation.py`` could otherwise go unnoticed: the sign of a zero amount, the
printed table, the reasons given for each leftover unit and for the next in line.
"""

from __future__ import annotations

import dataclasses

import pytest

from points_ledger.split import RECIPIENTS_MAX, allocate, explain_allocation


def test_a_zero_amount_is_not_a_negative_one() -> None:
    step = explain_allocation(0, {"a": 1, "b": 2})
    assert step.negated is False
    assert step.amounts == {"a": 0, "b": 0}
    assert "negative" not in step.to_text()
    one = explain_allocation(-1, {"a": 1, "b": 2})
    assert one.negated is True
    assert one.amounts == allocate(-1, {"a": 1, "b": 2}) == {"a": 0, "b": -1}


@pytest.mark.slow
def test_the_largest_number_of_recipients_is_accepted() -> None:
    weights = dict.fromkeys((f"r{i:07d}" for i in range(RECIPIENTS_MAX)), 1)
    parts = allocate(RECIPIENTS_MAX + 1, weights)
    assert len(parts) == RECIPIENTS_MAX
    assert parts["r0000000"] == 2
    assert parts["r0000001"] == 1


def test_the_working_in_yuan_names_each_leftover_unit_and_its_ties() -> None:
    # Checked by hand: 10 fen in three equal parts is 3 1/3 each; the one fen left over
    # goes to the first id of the three tied remainders, and b is next in line.
    text = explain_allocation(10, {"c": 1, "a": 1, "b": 1}, label="three households").to_text()
    assert text.splitlines() == [
        "== three households ==",
        "Amount to split: 0.10 yuan (10 fen)",
        "Total weight: 3; each quota is 10 x weight / 3.",
        "  recipient  weight  exact quota  quota (decimal)  floor  remainder  extra  amount",
        "  a               1         10/3        3.333333…      3        1/3     +1       4",
        "  b               1         10/3        3.333333…      3        1/3              3",
        "  c               1         10/3        3.333333…      3        1/3              3",
        "Sum of floors: 9; leftover units: 1.",
        "Leftover units go one each to the largest remainders; equal remainders are served in "
        "recipient id order (A to Z).",
        "  unit 1: a - remainder 1/3 (0.333333…), tied with 2 other(s), earlier id first",
        "  next in line, received none: b - remainder 1/3 (0.333333…)",
        "Check: parts add up to 10 = amount 10.",
    ]


def test_the_next_in_line_has_the_largest_remainder_of_those_passed_over() -> None:
    # 4 x 1/7, 4 x 2/7, 4 x 4/7: floors 0, 1, 2; remainders 4/7, 1/7, 2/7.
    text = explain_allocation(4, {"c": 4, "b": 2, "a": 1}, label="next").to_text(yuan=False)
    assert text.splitlines() == [
        "== next ==",
        "Amount to split: 4 units",
        "Total weight: 7; each quota is 4 x weight / 7.",
        "  recipient  weight  exact quota  quota (decimal)  floor  remainder  extra  amount",
        "  a               1          4/7        0.571428…      0        4/7     +1       1",
        "  b               2          8/7        1.142857…      1        1/7              1",
        "  c               4         16/7        2.285714…      2        2/7              2",
        "Sum of floors: 3; leftover units: 1.",
        "Leftover units go one each to the largest remainders; equal remainders are served in "
        "recipient id order (A to Z).",
        "  unit 1: a - remainder 4/7 (0.571428…)",
        "  next in line, received none: c - remainder 2/7 (0.285714…)",
        "Check: parts add up to 4 = amount 4.",
    ]


def test_a_negative_amount_is_worked_on_its_magnitude_and_every_part_negated() -> None:
    text = explain_allocation(-7, {"x": 2, "y": 1}, label="refund").to_text(yuan=False)
    assert text.splitlines() == [
        "== refund ==",
        "Amount to split: -7 units",
        "The amount is negative: it is split as 7 and every part is then negated, so refunds "
        "mirror payments exactly.",
        "Total weight: 3; each quota is 7 x weight / 3.",
        "  recipient  weight  exact quota  quota (decimal)  floor  remainder  extra  amount",
        "  x               2         14/3        4.666666…      4        2/3     +1      -5",
        "  y               1          7/3        2.333333…      2        1/3             -2",
        "Sum of floors: 6; leftover units: 1.",
        "Leftover units go one each to the largest remainders; equal remainders are served in "
        "recipient id order (A to Z).",
        "  unit 1: x - remainder 2/3 (0.666666…)",
        "  next in line, received none: y - remainder 1/3 (0.333333…)",
        "Check: parts add up to -7 = amount -7.",
    ]


def test_the_working_keeps_no_per_object_dict() -> None:
    # Up to a million lines per step: each line and step is a slotted, frozen record.
    step = explain_allocation(3, {"a": 1, "b": 2})
    for record in (step, step.lines[0]):
        assert not hasattr(record, "__dict__")
        assert record.__slots__


def test_leftover_units_are_listed_in_the_order_they_were_given() -> None:
    # Remainders 5/7 (a), 3/7 (b), 6/7 (c): c takes the first unit, a the second.
    step = explain_allocation(5, {"c": 4, "b": 2, "a": 1})
    assert [line.leftover_rank for line in step.lines] == [2, None, 1]
    lines = step.to_text(yuan=False).splitlines()
    assert lines[-4:-1] == [
        "  unit 1: c - remainder 6/7 (0.857142…)",
        "  unit 2: a - remainder 5/7 (0.714285…)",
        "  next in line, received none: b - remainder 3/7 (0.428571…)",
    ]


def test_the_working_cannot_be_changed_after_the_fact() -> None:
    step = explain_allocation(3, {"a": 1, "b": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.leftover = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.lines[0].amount = 3  # type: ignore[misc]


def test_an_exact_split_says_there_is_no_leftover() -> None:
    text = explain_allocation(150, {"a": 1, "b": 2}).to_text()
    assert text.splitlines() == [
        "== allocation ==",
        "Amount to split: 1.50 yuan (150 fen)",
        "Total weight: 3; each quota is 150 x weight / 3.",
        "  recipient  weight  exact quota  quota (decimal)  floor  remainder  extra  amount",
        "  a               1           50               50     50          0             50",
        "  b               2          100              100    100          0            100",
        "Sum of floors: 150; leftover units: 0.",
        "No leftover units: every quota's floor already adds up to the amount.",
        "Check: parts add up to 150 = amount 150.",
    ]
