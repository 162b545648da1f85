"""Properties of largest-remainder apportionment, policies and investor schedules."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from itertools import pairwise
from typing import TypedDict, cast

from hypothesis import given
from hypothesis import strategies as st

from points_ledger.split import (
    THREE_THREE_THREE_ONE,
    InvestorSchedule,
    allocate,
    distribute,
    explain_allocation,
)

amounts = st.integers(min_value=-(10**12), max_value=10**12)
small_amounts = st.integers(min_value=-50, max_value=50)
ids = st.text(alphabet="abcdefghijkl0123456789_", min_size=1, max_size=6)
int_weights = st.integers(min_value=0, max_value=10**6)
fraction_weights = st.fractions(min_value=0, max_value=1000, max_denominator=1000)
any_weight = st.one_of(int_weights, fraction_weights)


@st.composite
def weight_maps(
    draw: st.DrawFn,
    weight: st.SearchStrategy[int | Fraction] = any_weight,
    max_size: int = 30,
) -> dict[str, int | Fraction]:
    weights = draw(st.dictionaries(ids, weight, min_size=1, max_size=max_size))
    if not any(weights.values()):
        weights[draw(ids.filter(lambda k: k not in weights) | st.just("zz_last"))] = 1
    return weights


shares_fraction = st.fractions(min_value=0, max_value=1, max_denominator=10_000)


def quota(amount: int, weights: dict[str, int | Fraction], key: str) -> Fraction:
    return amount * Fraction(weights[key]) / sum(Fraction(w) for w in weights.values())


@given(amounts, weight_maps())
def test_parts_sum_exactly(amount: int, weights: dict[str, int | Fraction]) -> None:
    assert sum(allocate(amount, weights).values()) == amount


@given(amounts, weight_maps())
def test_each_part_is_floor_or_ceiling_of_quota(
    amount: int, weights: dict[str, int | Fraction]
) -> None:
    for key, part in allocate(amount, weights).items():
        exact = quota(amount, weights, key)
        assert part in (math.floor(exact), math.ceil(exact))
        assert abs(part - exact) < 1


@given(amounts, weight_maps(), st.randoms(use_true_random=False))
def test_order_of_mapping_never_matters(
    amount: int, weights: dict[str, int | Fraction], rnd: random.Random
) -> None:
    items = list(weights.items())
    rnd.shuffle(items)
    result = allocate(amount, weights)
    shuffled = allocate(amount, dict(items))
    assert shuffled == result
    assert list(shuffled) == sorted(weights)


@given(amounts, weight_maps())
def test_sign_symmetry(amount: int, weights: dict[str, int | Fraction]) -> None:
    assert allocate(-amount, weights) == {k: -v for k, v in allocate(amount, weights).items()}


@given(amounts, weight_maps(weight=st.one_of(st.just(0), any_weight)))
def test_zero_weights_get_zero(amount: int, weights: dict[str, int | Fraction]) -> None:
    result = allocate(amount, weights)
    for key, weight in weights.items():
        if weight == 0:
            assert result[key] == 0


@given(amounts, weight_maps(max_size=15), st.integers(1, 1000), st.integers(1, 1000))
def test_scaling_weights_changes_nothing(
    amount: int, weights: dict[str, int | Fraction], numerator: int, denominator: int
) -> None:
    factor = Fraction(numerator, denominator)
    scaled = {k: Fraction(w) * factor for k, w in weights.items()}
    assert allocate(amount, scaled) == allocate(amount, weights)


@given(small_amounts, weight_maps(weight=st.integers(1, 5), max_size=200))
def test_amounts_smaller_than_recipients(amount: int, weights: dict[str, int | Fraction]) -> None:
    result = allocate(amount, weights)
    assert sum(result.values()) == amount
    assert all(abs(part) <= abs(amount) for part in result.values())


@given(amounts, weight_maps(max_size=15))
def test_explained_allocation_agrees_and_ranks_largest_remainders(
    amount: int, weights: dict[str, int | Fraction]
) -> None:
    step = explain_allocation(amount, weights)
    assert step.amounts == allocate(amount, weights)
    rank = {key: i for i, key in enumerate(sorted(weights))}
    got = [line for line in step.lines if line.leftover_rank is not None]
    missed = [line for line in step.lines if line.leftover_rank is None]
    assert len(got) == step.leftover
    if got and missed:
        # Everyone who got a unit beats everyone who did not: larger remainder, or equal
        # remainder and an earlier id.
        worst_got = min((line.remainder, -rank[line.recipient]) for line in got)
        best_missed = max((line.remainder, -rank[line.recipient]) for line in missed)
        assert worst_got > best_missed


@given(amounts, weight_maps(max_size=15))
def test_leftover_units_go_to_largest_remainders_then_smallest_ids(
    amount: int, weights: dict[str, int | Fraction]
) -> None:
    step = explain_allocation(amount, weights)
    order = sorted(step.lines, key=lambda line: (-line.remainder, line.recipient))
    receivers = [line.recipient for line in order[: step.leftover]]
    assert sorted(receivers) == sorted(
        line.recipient for line in step.lines if line.leftover_rank is not None
    )
    assert [line.leftover_rank for line in order[: step.leftover]] == list(
        range(1, step.leftover + 1)
    )


class Rosters(TypedDict):
    """The roster keyword arguments of ``distribute`` and ``SplitPolicy.apply``."""

    shares: Mapping[str, Mapping[str, int | Fraction]]
    members: Mapping[str, Sequence[str]]


# fixed_dictionaries draws exactly these two keys, so every example is a Rosters.
rosters = cast(
    "st.SearchStrategy[Rosters]",
    st.fixed_dictionaries(
        {
            "shares": st.fixed_dictionaries(
                {
                    "shareholders": st.dictionaries(
                        ids, st.integers(1, 10_000), min_size=1, max_size=40
                    )
                }
            ),
            "members": st.fixed_dictionaries(
                {"villagers": st.lists(ids, min_size=1, max_size=60, unique=True)}
            ),
        }
    ),
)


@st.composite
def schedules(draw: st.DrawFn) -> InvestorSchedule:
    years = draw(st.integers(1, 40))
    start = draw(shares_fraction)
    end = start if years == 1 else draw(shares_fraction)
    return InvestorSchedule.linear(start=start, end=end, years=years)


@given(amounts, rosters, st.one_of(st.none(), schedules()), st.data())
def test_every_level_conserves_the_amount(
    amount: int, roster: Rosters, schedule: InvestorSchedule | None, data: st.DataObject
) -> None:
    year = None if schedule is None else data.draw(st.integers(1, schedule.years))
    d = distribute(
        amount, THREE_THREE_THREE_ONE, investor_schedule=schedule, contract_year=year, **roster
    )
    assert sum(d.amounts.values()) == amount
    assert d.investor_amount + sum(d.bucket_totals.values()) == amount
    for name, parts in d.by_bucket.items():
        assert sum(parts.values()) == d.bucket_totals[name]
    for step in d.trace.steps:
        assert sum(step.amounts.values()) == step.amount
    if schedule is not None:
        assert year is not None
        share = schedule.share(year)
        assert abs(d.investor_amount - amount * share) < 1


@given(st.integers(-(10**13), 10**13), rosters)
def test_3331_of_a_multiple_of_ten_is_exact(tenth: int, roster: Rosters) -> None:
    amount = tenth * 10
    d = THREE_THREE_THREE_ONE.apply(amount, **roster)
    assert dict(d.bucket_totals) == {
        "shareholders": 3 * tenth,
        "public_welfare_fund": 3 * tenth,
        "project_reserve_fund": 3 * tenth,
        "villagers": tenth,
    }


@given(shares_fraction, shares_fraction, st.integers(2, 100))
def test_declining_schedule_is_monotone_and_hits_both_ends(
    a: Fraction, b: Fraction, years: int
) -> None:
    start, end = max(a, b), min(a, b)
    schedule = InvestorSchedule.linear(start=start, end=end, years=years)
    shares = [schedule.share(year) for year in range(1, years + 1)]
    assert shares[0] == start
    assert shares[-1] == end
    assert all(later <= earlier for earlier, later in pairwise(shares))
    assert all(0 <= share <= 1 for share in shares)
    assert InvestorSchedule.from_dict(schedule.to_dict()) == schedule
