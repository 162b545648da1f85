"""A village year on a real ledger file: policy, roster, revenue, distributions, refusals.

The figures are the hand-checked ones of tests/unit/test_split.py (same roster ids, same
shares), now paid through signed ledger entries.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TypedDict

import pytest

from points_ledger import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
    AuthorizationError,
    Distribute,
    Event,
    Holding,
    InvalidEventError,
    InvestorTerms,
    Ledger,
    LedgerError,
    LimitExceededError,
    NotFoundError,
    OpenAccount,
    OverdraftError,
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
    Signer,
    SplitError,
    UnknownAccountError,
)
from points_ledger.domain.revenue import distribution_postings
from points_ledger.models import KeySpec
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, distribute

DAY = dt.date(2026, 1, 5)
NOW = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
"""Ledger time: every business date of these tests lies within the backdating window."""
SHAREHOLDERS = {f"sh{i:03d}": 1 if i <= 60 else 2 if i <= 100 else 5 for i in range(1, 121)}
VILLAGERS = [f"v{i:03d}" for i in range(1, 481)]
SEVENTY_TO_TEN = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)
FUNDS = {"public_welfare_fund": "fund:welfare", "project_reserve_fund": "fund:reserve"}
REVENUE = "fund:revenue"
INVESTOR = "inv:partner"


class Rosters(TypedDict):
    """The roster keyword arguments of ``distribute`` and ``SplitPolicy.apply``."""

    shares: Mapping[str, Mapping[str, int | Fraction]]
    members: Mapping[str, Sequence[str]]


ROSTERS: Rosters = {"shares": {"shareholders": SHAREHOLDERS}, "members": {"villagers": VILLAGERS}}


ADMIN = Signer.from_seed(bytes([1]) * 32)
LOG_KEY = Signer.from_seed(bytes([2]) * 32)
COMMITTEE = [Signer.from_seed(bytes([10 + i]) * 32) for i in range(3)]
QUORUM = COMMITTEE[:2]


def build_village(path: Path) -> Ledger:
    """Create a ledger with the village accounts and a committee of three."""
    ledger = Ledger.create(
        path,
        origin="chongzhou.example/quanxing",
        log_key=LOG_KEY,
        admins=[ADMIN],
        threshold=1,
        effective_at=DAY,
        clock=lambda: NOW,
    )
    opens = [
        (REVENUE, AccountKind.FUND),
        *((account, AccountKind.FUND) for account in FUNDS.values()),
        (INVESTOR, AccountKind.INVESTOR),
        ("fund:other", AccountKind.FUND),
        ("vol:0001", AccountKind.MEMBER),
        *((f"cm:{number}", AccountKind.MEMBER) for number in range(len(COMMITTEE))),
        *((account, AccountKind.SHAREHOLDER) for account in SHAREHOLDERS),
        *((account, AccountKind.MEMBER) for account in VILLAGERS),
    ]
    ledger.append_many(
        [
            (OpenAccount(id=f"open-{a}", effective_at=DAY, account=a, account_kind=k), [ADMIN])
            for a, k in opens
        ]
    )
    for number, signer in enumerate(COMMITTEE):
        key = KeySpec(
            public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=f"cm:{number}"
        )
        # The admin seats the first quorum; once seated, the committee agrees to each member.
        seated = QUORUM if number >= len(QUORUM) else []
        event = RegisterKey(id=f"key-committee-{number}", effective_at=DAY, key=key)
        ledger.append(event, [ADMIN, *seated])
    return ledger


def adopt(**overrides: object) -> AdoptSplitPolicy:
    fields: dict[str, object] = {
        "id": "adopt-3331-v1",
        "effective_at": DAY,
        "policy_id": "quanxing-3331",
        "version": 1,
        "effective_from": dt.date(2026, 1, 1),
        "policy": THREE_THREE_THREE_ONE,
        "accounts": FUNDS,
        "investor": InvestorTerms(
            account=INVESTOR, schedule=SEVENTY_TO_TEN, contract_start_year=2026
        ),
    }
    fields.update(overrides)
    return AdoptSplitPolicy(**fields)  # type: ignore[arg-type]


def roster(**overrides: object) -> RecordRoster:
    fields: dict[str, object] = {
        "id": "roster-2026",
        "effective_at": DAY,
        "roster_id": "roster-2026",
        "as_of": DAY,
        "shareholders": tuple(Holding(account=a, shares=n) for a, n in SHAREHOLDERS.items()),
        "villagers": tuple(VILLAGERS),
    }
    fields.update(overrides)
    return RecordRoster(**fields)  # type: ignore[arg-type]


def revenue(amount: int, period: str, fiscal_year: int, **overrides: object) -> RecordRevenue:
    fields: dict[str, object] = {
        "id": f"revenue-{period}-{amount}",
        "effective_at": DAY,
        "account": REVENUE,
        "period": period,
        "fiscal_year": fiscal_year,
        "amount": amount,
    }
    fields.update(overrides)
    return RecordRevenue(**fields)  # type: ignore[arg-type]


def distribution(amount: int, period: str, **overrides: object) -> Distribute:
    fields: dict[str, object] = {
        "id": f"distribute-{period}-{amount}",
        "effective_at": DAY,
        "period": period,
        "policy_id": "quanxing-3331",
        "roster_id": "roster-2026",
        "amount": amount,
    }
    fields.update(overrides)
    return Distribute(**fields)  # type: ignore[arg-type]


def dump(ledger: Ledger) -> list[str]:
    conn = sqlite3.connect(ledger.path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger file with accounts, the 3331 policy and the roster, copied for each test."""
    path = tmp_path_factory.mktemp("village") / "base.db"
    with build_village(path) as ledger:
        ledger.append(adopt(), QUORUM)
        ledger.append(roster(), QUORUM)
    return path


@pytest.fixture
def ledger(base: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "village.db"
    source, target = sqlite3.connect(base), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    with Ledger.open(path, clock=lambda: NOW) as opened:
        yield opened


def pay(ledger: Ledger, event: Distribute) -> dict[str, int]:
    """Preview then append a distribution; check the preview is exactly what was posted."""
    preview = ledger.preview_distribution(event)
    entry = ledger.append(event, QUORUM).entry
    assert entry.postings == distribution_postings(REVENUE, preview)
    assert sum(p.amount for p in entry.postings) == 0
    credits = {p.account: p.amount for p in entry.postings if p.amount > 0}
    assert credits == {k: v for k, v in preview.amounts.items() if v}
    debits = [(p.account, p.amount) for p in entry.postings if p.amount < 0]
    assert debits == [(REVENUE, -event.amount)]
    return dict(preview.amounts)


def cny(ledger: Ledger, account: str) -> int:
    return ledger.balance(account, Asset.CNY).posted


def assert_books_balance(ledger: Ledger) -> None:
    report = ledger.audit()
    assert report.ok, report.to_text()
    totals: defaultdict[str, int] = defaultdict(int)
    for entry in ledger.entries():
        for posting in entry.postings:
            totals[posting.asset.value] += posting.amount
    assert all(total == 0 for total in totals.values())


# --- a village year --------------------------------------------------------------------------


def test_contract_year_1_one_million_yuan(ledger: Ledger) -> None:
    ledger.append(revenue(100_000_000, "2026", 2026), QUORUM)
    assert cny(ledger, REVENUE) == 100_000_000
    assert cny(ledger, "external") == -100_000_000
    paid = pay(ledger, distribution(100_000_000, "2026"))
    # Year 1, 7/10: investor 70,000,000; 3331 of 30,000,000 = 9,000,000 x3 and 3,000,000;
    # 37,500 per share; 6,250 per villager.
    assert paid[INVESTOR] == 70_000_000
    assert paid["fund:welfare"] == paid["fund:reserve"] == 9_000_000
    assert (paid["sh001"], paid["sh061"], paid["sh120"]) == (37_500, 75_000, 187_500)
    assert {paid[v] for v in VILLAGERS} == {6_250}
    assert cny(ledger, REVENUE) == 0
    assert cny(ledger, INVESTOR) == 70_000_000
    assert cny(ledger, "sh120") == 187_500
    assert_books_balance(ledger)


def test_contract_year_11_one_million_yuan(ledger: Ledger) -> None:
    ledger.append(revenue(100_000_000, "2036", 2036), QUORUM)
    event = distribution(100_000_000, "2036")
    trace = ledger.preview_distribution(event).trace
    assert "contract year 11" in trace.title
    assert "Contract year 11 of 20" in trace.to_text()
    paid = pay(ledger, event)
    # Year 11, 73/190: investor 38,421,053; buckets 18,473,684 x3 and villagers 6,157,895.
    assert paid[INVESTOR] == 38_421_053
    assert paid["fund:welfare"] == paid["fund:reserve"] == 18_473_684
    assert {paid[f"sh{i:03d}"] for i in range(1, 61)} == {76_974}
    assert {paid[f"sh{i:03d}"] for i in range(61, 101)} == {153_947}
    assert {paid[f"sh{i:03d}"] for i in range(101, 105)} == {384_869}
    assert {paid[f"sh{i:03d}"] for i in range(105, 121)} == {384_868}
    assert {paid[v] for v in VILLAGERS[:455]} == {12_829}
    assert {paid[v] for v in VILLAGERS[455:]} == {12_828}
    # The ledger pays exactly what the pure split package computes.
    expected = distribute(
        100_000_000,
        THREE_THREE_THREE_ONE.with_accounts(FUNDS),
        investor_schedule=SEVENTY_TO_TEN,
        contract_year=11,
        investor_account=INVESTOR,
        **ROSTERS,
    )
    assert paid == dict(expected.amounts)
    assert_books_balance(ledger)


def test_awkward_one_million_and_one_fen(ledger: Ledger) -> None:
    ledger.append(revenue(100_000_001, "2026", 2026), QUORUM)
    paid = pay(ledger, distribution(100_000_001, "2026"))
    # 70,000,000.7 / 30,000,000.3: the leftover fen goes to the investor.
    assert paid[INVESTOR] == 70_000_001
    assert sum(paid.values()) - paid[INVESTOR] == 30_000_000
    assert cny(ledger, REVENUE) == 0
    assert_books_balance(ledger)


def test_amount_smaller_than_number_of_villagers(ledger: Ledger) -> None:
    plain = adopt(id="adopt-plain", policy_id="plain-3331", investor=None)
    ledger.append(plain, QUORUM)
    ledger.append(revenue(100, "fees", 2026), QUORUM)
    paid = pay(ledger, distribution(100, "fees", policy_id="plain-3331"))
    # 30/30/30/10: ten villagers v001-v010 get 1 fen; shareholders sh061-sh070 and
    # sh101-sh120 get 1 fen; everyone else gets nothing and has no posting.
    assert [v for v in VILLAGERS if paid[v]] == VILLAGERS[:10]
    winners = sorted(k for k in SHAREHOLDERS if paid[k])
    assert winners == [f"sh{i:03d}" for i in range(61, 71)] + [
        f"sh{i:03d}" for i in range(101, 121)
    ]
    entry = ledger.entry(ledger.size() - 1)
    assert len(entry.postings) == 1 + 2 + 10 + 30
    assert_books_balance(ledger)


def test_part_of_a_period_then_the_rest(ledger: Ledger) -> None:
    ledger.append(revenue(60_000_000, "2026", 2026), QUORUM)
    ledger.append(revenue(40_000_000, "2026", 2026), QUORUM)
    pay(ledger, distribution(30_000_000, "2026"))
    pay(ledger, distribution(70_000_000, "2026"))
    assert cny(ledger, REVENUE) == 0
    with pytest.raises(OverdraftError):
        ledger.preview_distribution(distribution(1, "2026"))
    assert_books_balance(ledger)


def test_later_version_supersedes_from_its_date(ledger: Ledger) -> None:
    v2 = adopt(
        id="adopt-3331-v2",
        version=2,
        effective_from=dt.date(2026, 7, 1),
        investor=None,
    )
    ledger.append(v2, QUORUM)
    ledger.append(revenue(1_000, "2026", 2026), QUORUM)
    before = ledger.preview_distribution(distribution(1_000, "2026"))
    after = ledger.preview_distribution(
        distribution(1_000, "2026", effective_at=dt.date(2026, 7, 1))
    )
    assert before.investor_amount == 700
    assert after.investor_amount == 0
    assert INVESTOR not in after.amounts


def test_retry_is_idempotent(ledger: Ledger) -> None:
    ledger.append(revenue(1_000, "2026", 2026), QUORUM)
    event = distribution(1_000, "2026")
    first = ledger.append(event, QUORUM)
    again = ledger.append(event, QUORUM)
    assert again.status == "exists"
    assert again.entry.seq == first.entry.seq


# --- refusals: each a specific error, nothing written -----------------------------------------


def refused(
    ledger: Ledger,
    event: Event,
    error: type[LedgerError],
    match: str,
    signers: Sequence[Signer] = QUORUM,
) -> None:
    before = dump(ledger)
    with pytest.raises(error, match=match):
        ledger.append(event, signers)
    assert dump(ledger) == before


def test_distribution_refusals(ledger: Ledger) -> None:
    ledger.append(revenue(100_000_000, "2026", 2026), QUORUM)
    ledger.append(revenue(100_000_000, "2027", 2027), QUORUM)
    ledger.append(revenue(1_000, "2046", 2046), QUORUM)
    cases = [
        (distribution(100, "2026", policy_id="nope"), NotFoundError, "has not been adopted"),
        (
            distribution(100, "2026", effective_at=dt.date(2025, 12, 31)),
            NotFoundError,
            "no version of split policy 'quanxing-3331' is in force on 2025-12-31",
        ),
        (distribution(100, "2026", roster_id="nope"), NotFoundError, "roster 'nope'"),
        (distribution(100, "2026", roster_id=None), NotFoundError, "names no roster"),
        (distribution(100, "1999"), NotFoundError, "no revenue has been recorded"),
        (distribution(200_001_001, "2026"), OverdraftError, "has 2,000,010.00 CNY available"),
        (distribution(150_000_000, "2026"), LimitExceededError, "left to distribute"),
        (distribution(1_000, "2046"), SplitError, "contract year 21 is outside the contract"),
    ]
    for event, error, match in cases:
        refused(ledger, event, error, match)
        before = dump(ledger)
        with pytest.raises(error, match=match):
            ledger.preview_distribution(event)
        assert dump(ledger) == before
    good = distribution(100, "2026")
    refused(ledger, good, AuthorizationError, "2 different people", signers=COMMITTEE[:1])
    # Two keys of one person are one signature; an admin is not a committee member.
    refused(ledger, good, AuthorizationError, "got 1", signers=[COMMITTEE[0], ADMIN])
    ledger.append(good, QUORUM)
    assert_books_balance(ledger)


def test_policy_refusals(ledger: Ledger) -> None:
    cases = [
        (adopt(id="a1", version=1), InvalidEventError, "next one must be version 2"),
        (adopt(id="a2", version=3), InvalidEventError, "next one must be version 2"),
        (
            adopt(id="a3", version=2, effective_from=dt.date(2025, 12, 1)),
            InvalidEventError,
            "before version 1",
        ),
        (
            adopt(id="a4", policy_id="p2", accounts={**FUNDS, "project_reserve_fund": "nope"}),
            UnknownAccountError,
            "'nope' has not been opened",
        ),
        (
            adopt(id="a5", policy_id="p2", accounts={**FUNDS, "project_reserve_fund": "vol:0001"}),
            InvalidEventError,
            "bucket 'project_reserve_fund' must be an account of kind fund or partner",
        ),
        (
            adopt(
                id="a6",
                policy_id="p2",
                investor=InvestorTerms(
                    account="fund:other", schedule=SEVENTY_TO_TEN, contract_start_year=2026
                ),
            ),
            InvalidEventError,
            "the investor must be an account of kind investor",
        ),
        (
            adopt(id="a7", policy_id="p2", accounts={}),
            UnknownAccountError,
            "'public_welfare_fund' has not been opened",
        ),
    ]
    for event, error, match in cases:
        refused(ledger, event, error, match)
    refused(ledger, adopt(id="a8", policy_id="p2"), AuthorizationError, "committee", [COMMITTEE[0]])
    with pytest.raises(SplitError, match="'villagers' is not an 'account' bucket"):
        adopt(accounts={"villagers": "fund:other"})


def test_roster_refusals(ledger: Ledger) -> None:
    holdings = (Holding(account="sh001", shares=1),)
    cases = [
        (roster(id="r1"), InvalidEventError, "already recorded"),
        (
            roster(id="r2", roster_id="r2", villagers=("v001", "nobody")),
            UnknownAccountError,
            "'nobody' has not been opened",
        ),
        (
            roster(id="r3", roster_id="r3", villagers=("fund:other",)),
            InvalidEventError,
            "a villager must be an account of kind member or shareholder",
        ),
        (
            roster(id="r4", roster_id="r4", shareholders=(Holding(account="v001", shares=1),)),
            InvalidEventError,
            "a shareholder must be an account of kind shareholder",
        ),
    ]
    for event, error, match in cases:
        refused(ledger, event, error, match)
    refused(
        ledger,
        roster(id="r5", roster_id="r5", shareholders=holdings),
        AuthorizationError,
        "committee",
        [COMMITTEE[2]],
    )
    for shares in (0, -3):
        with pytest.raises(SplitError, match=f"holds {shares} shares"):
            Holding(account="sh001", shares=shares)
    with pytest.raises(InvalidEventError, match="valid integer"):
        Holding(account="sh001", shares=True)
    with pytest.raises(SplitError, match="'sh001' is listed twice"):
        roster(shareholders=holdings * 2)
    with pytest.raises(SplitError, match="'v001' is listed twice"):
        roster(villagers=("v001", "v002", "v001"))
    with pytest.raises(InvalidEventError, match="at most 4000"):
        roster(villagers=tuple(f"x{i}" for i in range(4_001)))


def test_revenue_refusals(ledger: Ledger) -> None:
    ledger.append(revenue(1_000, "2026", 2026), QUORUM)
    cases = [
        (revenue(5, "2027", 2027, account="vol:0001"), InvalidEventError, "kind fund"),
        (revenue(5, "2027", 2027, account="fund:none"), UnknownAccountError, "fund:none"),
        (revenue(5, "2026", 2027), InvalidEventError, "belongs to account 'fund:revenue', fiscal"),
        (revenue(5, "2026", 2026, account="fund:other"), InvalidEventError, "belongs to account"),
    ]
    for event, error, match in cases:
        refused(ledger, event, error, match)
    refused(ledger, revenue(5, "2027", 2027), AuthorizationError, "committee", [ADMIN])
    for bad in (0, -5, True):
        with pytest.raises(InvalidEventError):
            revenue(bad, "2027", 2027)


def test_preview_refuses_other_events(ledger: Ledger) -> None:
    with pytest.raises(InvalidEventError, match="expected a Distribute event"):
        ledger.preview_distribution(revenue(5, "2026", 2026))  # type: ignore[arg-type]


def test_audit_catches_a_distribution_that_does_not_follow_its_policy(ledger: Ledger) -> None:
    ledger.append(revenue(100_000_000, "2026", 2026), QUORUM)
    seq = ledger.append(distribution(100_000_000, "2026"), QUORUM).entry.seq
    path = ledger.path
    ledger.close()
    # Someone with the file moves one fen from one villager to another: still zero-sum.
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER postings_no_update")
    for account, delta in (("v001", -1), ("v002", 1)):
        conn.execute(
            "UPDATE postings SET amount = amount + ? WHERE seq = ? AND account = ?",
            (delta, seq, account),
        )
    conn.commit()
    conn.close()
    with Ledger.open(path) as tampered:
        report = tampered.audit()
    assert not report.ok
    assert any(problem.seq == seq for problem in report.problems)
