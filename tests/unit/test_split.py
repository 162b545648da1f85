"""Worked examples of the split package, with the figures checked by hand in comments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TypedDict

import pytest

from points_ledger.errors import LedgerError, SplitError
from points_ledger.split import (
    COMMUNITY_FUND_FIVE_PERCENT,
    MICRO_FUND_THIRTY_PERCENT,
    PROPERTY_MANAGER_FIFTEEN_PERCENT,
    THREE_THREE_THREE_ONE,
    Bucket,
    InvestorSchedule,
    SplitPolicy,
    allocate,
    distribute,
    explain,
    explain_allocation,
    format_decimal,
    format_fen,
    format_trace,
    percentage_split,
)

# 120 shareholders: sh001-sh060 hold 1 share, sh061-sh100 hold 2, sh101-sh120 hold 5.
# Total = 60*1 + 40*2 + 20*5 = 60 + 80 + 100 = 240 shares.
SHAREHOLDERS = {f"sh{i:03d}": 1 if i <= 60 else 2 if i <= 100 else 5 for i in range(1, 121)}
VILLAGERS = [f"v{i:03d}" for i in range(1, 481)]


class Rosters(TypedDict):
    """The roster keyword arguments of ``distribute`` and ``SplitPolicy.apply``."""

    shares: Mapping[str, Mapping[str, int | Fraction]]
    members: Mapping[str, Sequence[str]]


ROSTERS: Rosters = {"shares": {"shareholders": SHAREHOLDERS}, "members": {"villagers": VILLAGERS}}
SEVENTY_TO_TEN = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)


def test_rosters_are_as_described() -> None:
    assert sum(SHAREHOLDERS.values()) == 240
    assert len(VILLAGERS) == 480


# --- allocate ------------------------------------------------------------------------------


def test_allocate_ties_broken_by_id_and_keys_sorted() -> None:
    # 100,000,001 fen by 3:3:3:1 -> quotas 30,000,000.3 x3 and 10,000,000.1.
    # Floors add to 100,000,000, one unit left; the three .3 remainders tie and the
    # smallest id, project_reserve_fund, takes it.
    weights = {
        "shareholders": 3,
        "villagers": 1,
        "public_welfare_fund": 3,
        "project_reserve_fund": 3,
    }
    result = allocate(100_000_001, weights)
    assert result == {
        "project_reserve_fund": 30_000_001,
        "public_welfare_fund": 30_000_000,
        "shareholders": 30_000_000,
        "villagers": 10_000_000,
    }
    assert list(result) == sorted(result)


def test_allocate_largest_remainder_beats_id_order() -> None:
    # 10 among a:1, b:1, c:1, d:7 (total 10)... exact: 1,1,1,7. Make it awkward:
    # 11 among a:1, b:2 -> quotas 11/3 = 3.67, 22/3 = 7.33 -> floors 3 + 7 = 10, leftover 1
    # goes to a (remainder 2/3 > 1/3) even though b's quota is larger.
    assert allocate(11, {"b": 2, "a": 1}) == {"a": 4, "b": 7}


def test_allocate_fraction_weights_and_zero_weight() -> None:
    # 7 among a:1/2, b:1/3, z:0 -> total 5/6; quotas 21/5=4.2, 14/5=2.8 -> floors 4+2,
    # leftover 1 to b (0.8 > 0.2).
    assert allocate(7, {"a": Fraction(1, 2), "b": Fraction(1, 3), "z": 0}) == {
        "a": 4,
        "b": 3,
        "z": 0,
    }


def test_allocate_negative_is_mirror_of_positive() -> None:
    weights: dict[str, int | Fraction] = {"a": 1, "b": 1, "c": Fraction(1, 2)}
    # 7 among 1:1:1/2 -> quotas 2.8, 2.8, 1.4 -> floors 2+2+1 = 5, leftover 2 to a, b.
    assert allocate(7, weights) == {"a": 3, "b": 3, "c": 1}
    assert allocate(-7, weights) == {"a": -3, "b": -3, "c": -1}


def test_allocate_zero_amount() -> None:
    assert allocate(0, {"a": 1, "b": 2}) == {"a": 0, "b": 0}


def test_explain_allocation_matches_allocate_and_reads_well() -> None:
    step = explain_allocation(11, {"b": 2, "a": 1}, label="example")
    assert step.amounts == allocate(11, {"b": 2, "a": 1})
    line_a, line_b = step.lines
    assert (line_a.quota, line_a.floor, line_a.remainder, line_a.leftover_rank) == (
        Fraction(11, 3),
        3,
        Fraction(2, 3),
        1,
    )
    assert line_b.leftover_rank is None
    text = step.to_text(yuan=False)
    assert "unit 1: a - remainder 2/3 (0.666666…)" in text
    assert "next in line, received none: b" in text
    assert "Check: parts add up to 11 = amount 11." in text


def test_explain_negative_amount_says_so() -> None:
    step = explain_allocation(-5, {"a": 1, "b": 1})
    assert step.negated
    assert step.amounts == {"a": -3, "b": -2}
    assert "negated" in step.to_text()


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "named"),
    [
        (1.0, "1.0 (float)"),
        (True, "True (bool)"),
        (Decimal("1"), "Decimal('1')"),
        (Fraction(1, 2), "Fraction(1, 2)"),
        ("100", "'100' (str)"),
        (None, "None"),
    ],
)
def test_allocate_refuses_bad_amount_types(amount: object, named: str) -> None:
    with pytest.raises(SplitError, match="amount must be a whole number") as info:
        allocate(amount, {"a": 1})  # type: ignore[arg-type]
    assert named in info.value.message
    assert info.value.code == "split_invalid"
    assert isinstance(info.value, LedgerError)


def test_allocate_refuses_amount_beyond_limit() -> None:
    allocate(10**15, {"a": 1})
    allocate(-(10**15), {"a": 1})
    with pytest.raises(SplitError, match="beyond the limit"):
        allocate(10**15 + 1, {"a": 1})


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (0.5, r"weight for 'a' must be an int or fractions.Fraction, got 0.5 \(float\)"),
        (True, r"weight for 'a' must be .* got True \(bool\)"),
        ("1", r"got '1' \(str\)"),
        (-1, r"weight for 'a' is negative \(-1\)"),
        (Fraction(-1, 3), r"weight for 'a' is negative \(-1/3\)"),
        (10**19, r"beyond 1000000000000000000"),
    ],
)
def test_allocate_refuses_bad_weights(weight: object, message: str) -> None:
    with pytest.raises(SplitError, match=message):
        allocate(10, {"a": weight, "b": 1})  # type: ignore[dict-item]


def test_allocate_refuses_empty_all_zero_and_non_mapping() -> None:
    with pytest.raises(SplitError, match="weights is empty"):
        allocate(10, {})
    with pytest.raises(SplitError, match="all 2 weights are zero"):
        allocate(10, {"a": 0, "b": Fraction(0)})
    with pytest.raises(SplitError, match="must be a mapping"):
        allocate(10, [("a", 1)])  # type: ignore[arg-type]


def test_allocate_refuses_bad_recipient_ids() -> None:
    with pytest.raises(SplitError, match="recipient id must be a string, got 1 \\(int\\)"):
        allocate(10, {1: 1})  # type: ignore[dict-item]
    with pytest.raises(SplitError, match="must have 1 to 200 characters"):
        allocate(10, {"": 1})


def test_allocate_refuses_too_many_recipients() -> None:
    too_many = dict.fromkeys((f"r{i}" for i in range(1_000_001)), 1)
    with pytest.raises(SplitError, match="1000001 recipients is beyond the limit of 1000000"):
        allocate(10, too_many)


# --- investor schedule -------------------------------------------------------------------------


def test_linear_schedule_year_1_11_20() -> None:
    # Step per year = (1/10 - 7/10) / 19 = -6/190 = -3/95.
    # Year 11 = 7/10 - 10 * (6/10) / 19 = 7/10 - 6/19 = (133 - 60) / 190 = 73/190 (~38.42%).
    assert SEVENTY_TO_TEN.share(1) == Fraction(7, 10)
    assert SEVENTY_TO_TEN.share(11) == Fraction(73, 190)
    assert SEVENTY_TO_TEN.share(20) == Fraction(1, 10)
    assert SEVENTY_TO_TEN.years == 20


@pytest.mark.parametrize("year", [0, 21, -1, True, 1.0, "1", None])
def test_schedule_refuses_years_outside_contract(year: object) -> None:
    with pytest.raises(SplitError, match="contract year"):
        SEVENTY_TO_TEN.share(year)  # type: ignore[arg-type]


def test_schedule_table_and_json_round_trip() -> None:
    schedule = InvestorSchedule.table({2: Fraction(1, 2), 1: Fraction(2, 3), 3: 0})
    assert [schedule.share(y) for y in (1, 2, 3)] == [Fraction(2, 3), Fraction(1, 2), 0]
    data = json.loads(json.dumps(schedule.to_dict()))
    assert data["shares_by_year"] == ["2/3", "1/2", "0/1"]
    assert InvestorSchedule.from_dict(data) == schedule


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({}, "non-empty mapping"),
        ({1: Fraction(1, 2), 3: Fraction(1, 3)}, "no gaps"),
        ({0: Fraction(1, 2)}, "no gaps"),
        ({1: 0.5}, r"0.5 \(float\)"),
        ({1: Fraction(3, 2)}, r"outside \[0, 1\]"),
        ({1: -1}, r"outside \[0, 1\]"),
        ({True: Fraction(1, 2)}, r"True \(bool\)"),
    ],
)
def test_schedule_table_refusals(shares: dict[int, object], message: str) -> None:
    with pytest.raises(SplitError, match=message):
        InvestorSchedule.table(shares)  # type: ignore[arg-type]


def test_schedule_linear_refusals() -> None:
    with pytest.raises(SplitError, match="float"):
        InvestorSchedule.linear(start=0.7, end=Fraction(1, 10), years=20)  # type: ignore[arg-type]
    with pytest.raises(SplitError, match="years 0 must be from 1 to 100"):
        InvestorSchedule.linear(start=1, end=0, years=0)
    with pytest.raises(SplitError, match="years 101"):
        InvestorSchedule.linear(start=1, end=0, years=101)
    with pytest.raises(SplitError, match="1-year schedule"):
        InvestorSchedule.linear(start=1, end=0, years=1)
    assert InvestorSchedule.linear(start=Fraction(1, 2), end=Fraction(1, 2), years=1).years == 1


def test_schedule_from_dict_refusals() -> None:
    with pytest.raises(SplitError, match="not a fraction"):
        InvestorSchedule.from_dict({"shares_by_year": ["seven tenths"]})
    with pytest.raises(SplitError, match="invalid InvestorSchedule"):
        InvestorSchedule.from_dict({"shares_by_year": [], "extra": 1})


# --- the village distribution ----------------------------------------------------------------


def test_year_1_one_million_yuan() -> None:
    # 1,000,000.00 CNY = 100,000,000 fen. Year 1 share 7/10 -> investor 70,000,000 exactly,
    # village 30,000,000. 3331 of 30,000,000: 9,000,000 x3 and 3,000,000, all exact.
    # Shareholders: 9,000,000 / 240 shares = 37,500 per share -> 37,500 / 75,000 / 187,500.
    # Villagers: 3,000,000 / 480 = 6,250 each.
    d = distribute(
        100_000_000,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=1,
        **ROSTERS,
    )
    assert d.investor_amount == 70_000_000
    assert dict(d.bucket_totals) == {
        "shareholders": 9_000_000,
        "public_welfare_fund": 9_000_000,
        "project_reserve_fund": 9_000_000,
        "villagers": 3_000_000,
    }
    assert d.amounts["investor"] == 70_000_000
    assert d.amounts["sh001"] == 37_500
    assert d.amounts["sh061"] == 75_000
    assert d.amounts["sh120"] == 187_500
    assert {d.amounts[v] for v in VILLAGERS} == {6_250}
    assert sum(d.amounts.values()) == 100_000_000
    assert list(d.amounts) == sorted(d.amounts)


def test_year_11_one_million_yuan() -> None:
    # Year 11 share 73/190. Investor quota 100,000,000 * 73/190 = 38,421,052 + 12/19;
    # village quota 61,578,947 + 7/19. One leftover unit -> investor (12/19 > 7/19).
    # Investor 38,421,053; village 61,578,947.
    # 3331 of 61,578,947: quotas 18,473,684.1 x3 and 6,157,894.7; floors sum 61,578,946,
    # one leftover -> villagers (.7). Buckets 18,473,684 x3, villagers 6,157,895.
    # Shareholders: 18,473,684 / 240 per share. Quotas:
    #   1 share: 76,973 + 164/240 (41/60 = .683)    60 holders
    #   2 shares: 153,947 + 88/240 (11/30 = .367)   40 holders
    #   5 shares: 384,868 + 100/240 (5/12 = .417)   20 holders
    # Floors: 60*76,973 + 40*153,947 + 20*384,868 = 4,618,380 + 6,157,880 + 7,697,360
    #       = 18,473,620 -> 64 leftover units (check: (60*164 + 40*88 + 20*100)/240 = 64).
    # Largest remainders first: all 60 one-share holders (+1 -> 76,974), then 4 of the
    # five-share holders (.417 > .367) by id: sh101-sh104 -> 384,869; sh105-sh120 384,868;
    # two-share holders stay at 153,947.
    # Villagers: 6,157,895 / 480 = 12,828 rem 455 -> v001-v455 get 12,829, v456-v480 12,828.
    d = distribute(
        100_000_000,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=11,
        **ROSTERS,
    )
    assert d.investor_amount == 38_421_053
    assert dict(d.bucket_totals) == {
        "shareholders": 18_473_684,
        "public_welfare_fund": 18_473_684,
        "project_reserve_fund": 18_473_684,
        "villagers": 6_157_895,
    }
    a = d.amounts
    assert {a[f"sh{i:03d}"] for i in range(1, 61)} == {76_974}
    assert {a[f"sh{i:03d}"] for i in range(61, 101)} == {153_947}
    assert {a[f"sh{i:03d}"] for i in range(101, 105)} == {384_869}
    assert {a[f"sh{i:03d}"] for i in range(105, 121)} == {384_868}
    assert {a[v] for v in VILLAGERS[:455]} == {12_829}
    assert {a[v] for v in VILLAGERS[455:]} == {12_828}
    assert a["public_welfare_fund"] == a["project_reserve_fund"] == 18_473_684
    assert sum(a.values()) == 100_000_000
    for name, parts in d.by_bucket.items():
        assert sum(parts.values()) == d.bucket_totals[name]


def test_awkward_one_million_and_one_fen() -> None:
    # 1,000,000.01 CNY = 100,000,001 fen, year 1 (7/10): investor quota 70,000,000.7,
    # village 30,000,000.3 -> leftover unit to the investor: 70,000,001 / 30,000,000.
    d = distribute(
        100_000_001,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=1,
        **ROSTERS,
    )
    assert d.investor_amount == 70_000_001
    assert sum(d.bucket_totals.values()) == 30_000_000
    # Without an investor: 30,000,000.3 x3 and 10,000,000.1; the tie on .3 goes to the
    # first id among the three buckets, project_reserve_fund.
    plain = THREE_THREE_THREE_ONE.apply(100_000_001, **ROSTERS)
    assert dict(plain.bucket_totals) == {
        "shareholders": 30_000_000,
        "public_welfare_fund": 30_000_000,
        "project_reserve_fund": 30_000_001,
        "villagers": 10_000_000,
    }
    # 30,000,000 / 240 = 125,000 per share; 10,000,000 / 480 = 20,833 rem 160 -> v001-v160
    # get 20,834.
    assert plain.amounts["sh001"] == 125_000
    assert plain.amounts["v160"] == 20_834
    assert plain.amounts["v161"] == 20_833
    assert sum(plain.amounts.values()) == 100_000_001
    assert format_fen(plain.amount) == "1,000,000.01"


def test_amount_smaller_than_number_of_villagers() -> None:
    # 100 fen by 3331: 30/30/30/10. Villagers: 10 fen among 480 -> quota 1/48 each, all
    # floors 0, 10 leftover units to the 10 smallest ids v001-v010 (equal remainders).
    # Shareholders: 30 fen over 240 shares -> 1 share quota 1/8, 2 shares 1/4, 5 shares 5/8;
    # the 20 five-share holders have the largest remainder: sh101-sh120 each get 1 -> 20,
    # then 10 left for the 40 two-share holders: sh061-sh070.
    d = THREE_THREE_THREE_ONE.apply(100, **ROSTERS)
    assert dict(d.bucket_totals) == {
        "shareholders": 30,
        "public_welfare_fund": 30,
        "project_reserve_fund": 30,
        "villagers": 10,
    }
    assert [v for v in VILLAGERS if d.amounts[v] == 1] == VILLAGERS[:10]
    assert sum(d.amounts[v] for v in VILLAGERS) == 10
    paid = sorted(k for k in SHAREHOLDERS if d.amounts[k])
    assert paid == [f"sh{i:03d}" for i in range(61, 71)] + [f"sh{i:03d}" for i in range(101, 121)]


def test_negative_distribution_mirrors_positive() -> None:
    pos = distribute(
        100_000_001,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=11,
        **ROSTERS,
    )
    neg = distribute(
        -100_000_001,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=11,
        **ROSTERS,
    )
    assert dict(neg.amounts) == {k: -v for k, v in pos.amounts.items()}


def test_account_in_two_buckets_gets_the_sum() -> None:
    d = THREE_THREE_THREE_ONE.apply(
        1000, shares={"shareholders": {"v001": 1}}, members={"villagers": ["v001", "v002"]}
    )
    # 1000 -> 300/300/300/100; v001 gets all 300 shares plus 50 per capita.
    assert d.amounts["v001"] == 350
    assert d.by_bucket["villagers"] == {"v001": 50, "v002": 50}


def test_trace_text_for_the_accountant() -> None:
    trace = explain(
        100_000_000,
        THREE_THREE_THREE_ONE,
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=11,
        **ROSTERS,
    )
    assert [step.label for step in trace.steps] == [
        "investor share for contract year 11",
        "policy 3331: amount among buckets",
        "bucket shareholders (pro rata by shares)",
        "bucket villagers (per capita, equal weights)",
    ]
    text = format_trace(trace)
    assert text == trace.to_text()
    assert "Amount distributed: 1,000,000.00 yuan (100,000,000 fen)" in text
    assert "takes 73/190 = 38.4210…% of the profit" in text
    assert (
        "investor    73/190   730000000/19  38,421,052.631578…  38,421,052"
        "      12/19     +1  38,421,053" in text
    )
    assert "unit 1: villagers - remainder 7/10 (0.7)" in text
    assert "unit 64: sh104 - remainder 5/12 (0.416666…), tied with 19 other(s)" in text
    assert "rounding happens at each level" in text
    assert "  total" in text and "1,000,000.00 yuan (100,000,000 fen)" in text.splitlines()[-1]


def test_distribute_refusals() -> None:
    with pytest.raises(SplitError, match="needs the contract_year"):
        distribute(100, THREE_THREE_THREE_ONE, investor_schedule=SEVENTY_TO_TEN, **ROSTERS)
    with pytest.raises(SplitError, match="without an investor_schedule"):
        distribute(100, THREE_THREE_THREE_ONE, contract_year=3, **ROSTERS)
    with pytest.raises(SplitError, match="contract year 21 is outside the contract"):
        distribute(
            100,
            THREE_THREE_THREE_ONE,
            investor_schedule=SEVENTY_TO_TEN,
            contract_year=21,
            **ROSTERS,
        )
    with pytest.raises(SplitError, match="contract year must be an int, got True"):
        distribute(
            100,
            THREE_THREE_THREE_ONE,
            investor_schedule=SEVENTY_TO_TEN,
            contract_year=True,
            **ROSTERS,
        )
    with pytest.raises(SplitError, match=r"amount must be a whole number .* 1.5 \(float\)"):
        distribute(1.5, THREE_THREE_THREE_ONE, **ROSTERS)  # type: ignore[arg-type]
    with pytest.raises(SplitError, match="must be a SplitPolicy"):
        distribute(100, {"a": 1})  # type: ignore[arg-type]


def test_policy_roster_refusals() -> None:
    with pytest.raises(
        SplitError, match="bucket 'shareholders' is 'pro_rata': pass its roster in shares="
    ):
        THREE_THREE_THREE_ONE.apply(100, members={"villagers": VILLAGERS})
    with pytest.raises(SplitError, match="bucket 'villagers' is 'per_capita'"):
        THREE_THREE_THREE_ONE.apply(100, shares={"shareholders": SHAREHOLDERS})
    with pytest.raises(SplitError, match="names bucket 'villagers', which is not a 'pro_rata'"):
        THREE_THREE_THREE_ONE.apply(100, shares={"villagers": {}}, members={"villagers": VILLAGERS})
    with pytest.raises(SplitError, match="'v001' appears twice"):
        THREE_THREE_THREE_ONE.apply(
            100, shares={"shareholders": SHAREHOLDERS}, members={"villagers": ["v001", "v001"]}
        )
    with pytest.raises(SplitError, match="must be a list or tuple"):
        THREE_THREE_THREE_ONE.apply(
            100, shares={"shareholders": SHAREHOLDERS}, members={"villagers": "v001"}
        )
    with pytest.raises(SplitError, match="bucket 'villagers': weights is empty"):
        THREE_THREE_THREE_ONE.apply(
            100, shares={"shareholders": SHAREHOLDERS}, members={"villagers": []}
        )
    with pytest.raises(SplitError, match="bucket 'shareholders': all 1 weights are zero"):
        THREE_THREE_THREE_ONE.apply(
            100, shares={"shareholders": {"a": 0}}, members={"villagers": ["v"]}
        )
    with pytest.raises(SplitError, match=r"weight for 'a' must be .* 2.5 \(float\)"):
        THREE_THREE_THREE_ONE.apply(
            100,
            shares={"shareholders": {"a": 2.5}},  # type: ignore[dict-item]
            members={"villagers": ["v"]},
        )
    with pytest.raises(SplitError, match="weight for 'a' is negative"):
        THREE_THREE_THREE_ONE.apply(
            100, shares={"shareholders": {"a": -2}}, members={"villagers": ["v"]}
        )


# --- policies as data -----------------------------------------------------------------------


def test_policy_json_round_trip_and_immutability() -> None:
    data = json.loads(json.dumps(THREE_THREE_THREE_ONE.to_dict()))
    again = SplitPolicy.from_dict(data)
    assert again == THREE_THREE_THREE_ONE
    assert again.to_dict() == data
    with pytest.raises(Exception, match="frozen"):
        THREE_THREE_THREE_ONE.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x", "weight": 0, "mode": "account", "account": "a"}, "weight"),
        ({"name": "x", "weight": True, "mode": "account", "account": "a"}, "weight"),
        ({"name": "x", "weight": 1.0, "mode": "account", "account": "a"}, "weight"),
        ({"name": "x", "weight": 1, "mode": "lottery"}, "mode"),
        ({"name": "x", "weight": 1, "mode": "account"}, "names no account"),
        ({"name": "x", "weight": 1, "mode": "per_capita", "account": "a"}, "remove the account"),
        ({"name": "", "weight": 1, "mode": "per_capita"}, "name"),
    ],
)
def test_bucket_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SplitError, match=message):
        Bucket(**kwargs)  # type: ignore[arg-type]


def test_policy_refusals() -> None:
    bucket = Bucket(name="a", weight=1, mode="account", account="acct")
    with pytest.raises(SplitError, match="two buckets named 'a'"):
        SplitPolicy(name="p", buckets=(bucket, bucket))
    with pytest.raises(SplitError, match="buckets"):
        SplitPolicy(name="p", buckets=())
    with pytest.raises(SplitError, match="invalid SplitPolicy"):
        SplitPolicy.from_dict({"name": "p", "buckets": [], "surprise": True})
    with pytest.raises(SplitError, match="must be a mapping"):
        SplitPolicy.from_dict([])  # type: ignore[arg-type]


def test_with_accounts_points_buckets_at_real_accounts() -> None:
    policy = THREE_THREE_THREE_ONE.with_accounts({"public_welfare_fund": "quanxing:welfare"})
    assert policy.bucket("public_welfare_fund").account == "quanxing:welfare"
    assert THREE_THREE_THREE_ONE.bucket("public_welfare_fund").account == "public_welfare_fund"
    d = policy.apply(10, shares={"shareholders": {"a": 1}}, members={"villagers": ["v"]})
    assert d.amounts["quanxing:welfare"] == 3
    with pytest.raises(SplitError, match="not an 'account' bucket"):
        THREE_THREE_THREE_ONE.with_accounts({"villagers": "x"})
    with pytest.raises(SplitError, match="no bucket 'nope'"):
        THREE_THREE_THREE_ONE.with_accounts({"nope": "x"})


# --- percentage rules from the articles ----------------------------------------------------------


def test_community_fund_five_percent() -> None:
    # 12,345.67 yuan of shared-space proceeds = 1,234,567 fen; 5% = 61,728.35 -> floor
    # 61,728 rem .35; 95% = 1,172,838.65 -> rem .65 wins the leftover unit.
    d = COMMUNITY_FUND_FIVE_PERCENT.apply(1_234_567)
    assert dict(d.amounts) == {"community_fund": 61_728, "shared_space_operator": 1_172_839}


def test_property_manager_then_micro_fund_donation() -> None:
    # 80,000.00 yuan of fees = 8,000,000 fen; manager keeps 15% = 1,200,000 exactly,
    # and donates 30% of it = 360,000 to the micro-fund, keeping 840,000.
    fees = PROPERTY_MANAGER_FIFTEEN_PERCENT.apply(8_000_000)
    assert dict(fees.amounts) == {"property_manager": 1_200_000, "property_service_fund": 6_800_000}
    donation = MICRO_FUND_THIRTY_PERCENT.apply(fees.amounts["property_manager"])
    assert dict(donation.amounts) == {"community_micro_fund": 360_000, "property_manager": 840_000}
    # An awkward 333 fen: 30% = 99.9 -> 100 (rem .9 beats .1), manager 233.
    assert dict(MICRO_FUND_THIRTY_PERCENT.apply(333).amounts) == {
        "community_micro_fund": 100,
        "property_manager": 233,
    }


def test_percentage_split_helper() -> None:
    policy = percentage_split("12.5%", Fraction(25, 2), to_account="a", rest_account="b")
    assert [b.weight for b in policy.buckets] == [25, 175]
    assert dict(policy.apply(800).amounts) == {"a": 100, "b": 700}
    for bad, message in [
        (0, "strictly between"),
        (100, "strictly between"),
        (5.0, "float"),
        (True, "bool"),
    ]:
        with pytest.raises(SplitError, match=message):
            percentage_split("x", bad, to_account="a", rest_account="b")  # type: ignore[arg-type]


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (100_000_001, "1,000,000.01"),
        (123_456_789_012, "1,234,567,890.12"),
    ],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_format_fen_refuses_float_and_bool() -> None:
    with pytest.raises(SplitError, match="float"):
        format_fen(1.5)  # type: ignore[arg-type]
    with pytest.raises(SplitError, match="bool"):
        format_fen(True)


def test_format_decimal_is_an_exact_prefix() -> None:
    assert format_decimal(Fraction(1, 4)) == "0.25"
    assert format_decimal(Fraction(2, 3)) == "0.666666…"
    assert format_decimal(Fraction(-7, 2)) == "-3.5"
    assert format_decimal(Fraction(1_234_567, 1)) == "1,234,567"


def test_policy_from_dict_refuses_lax_values() -> None:
    data = THREE_THREE_THREE_ONE.to_dict()
    data["buckets"][0]["weight"] = "3"
    with pytest.raises(
        SplitError, match=r"invalid Bucket: weight: Input should be a valid integer \(got '3'\)"
    ):
        SplitPolicy.from_dict(data)


def test_every_public_name_is_documented() -> None:
    import inspect

    import points_ledger.split as split

    for name in split.__all__:
        obj = getattr(split, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
            for member_name, member in vars(obj).items():
                if not member_name.startswith("_") and callable(member):
                    assert inspect.getdoc(member), f"{name}.{member_name}"
