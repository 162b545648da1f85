"""Rules of collective income that a single changed line of ``domain/revenue.py`` must not
get past unnoticed, on a small village ledger in memory.

The village has a revenue fund, the two funds and the investor of the 3:3:3:1 policy,
three shareholders, four villagers and a committee of two. The tests are quick enough for
a mutation run to repeat them for every mutant of the module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pytest

from conftest import FixedClock, seeded_signer
from points_ledger import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
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
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
)
from points_ledger.domain.revenue import DerivedDistribution, distribution_postings
from points_ledger.models import KeySpec
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, distribute
from points_ledger.store.memory import MemoryStore

DAY = dt.date(2024, 5, 1)
ADMIN = seeded_signer("village/admin")
COMMITTEE = [seeded_signer(f"village/committee/{i}") for i in range(2)]
FUNDS = {"public_welfare_fund": "fund:welfare", "project_reserve_fund": "fund:reserve"}
REVENUE = "fund:revenue"
INVESTOR = "inv:partner"
SHAREHOLDERS = {"sh1": 1, "sh2": 2, "sh3": 3}
VILLAGERS = ("v1", "v2", "v3", "v4")
SCHEDULE = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)


class Village:
    """The ledger and a counter for event ids."""

    def __init__(self) -> None:
        self.ledger = Ledger.create(
            MemoryStore(),
            origin="village.example/pins",
            log_key=seeded_signer("village/log"),
            admins=[ADMIN],
            threshold=1,
            effective_at=DAY,
            clock=FixedClock(),
        )
        self.count = 0
        opens = [
            (REVENUE, AccountKind.FUND),
            *((account, AccountKind.FUND) for account in FUNDS.values()),
            (INVESTOR, AccountKind.INVESTOR),
            *((account, AccountKind.SHAREHOLDER) for account in SHAREHOLDERS),
            *((account, AccountKind.MEMBER) for account in VILLAGERS),
            *((f"cm:{i}", AccountKind.MEMBER) for i in range(len(COMMITTEE))),
        ]
        for account, kind in opens:
            self.admin(OpenAccount, account=account, account_kind=kind)
        for i, signer in enumerate(COMMITTEE):
            spec = KeySpec(
                public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=f"cm:{i}"
            )
            self.admin(RegisterKey, key=spec)

    def _event(self, cls: type[Event], fields: dict[str, object]) -> Event:
        self.count += 1
        return cls(id=f"ev-{self.count}", effective_at=DAY, **fields)  # type: ignore[arg-type]

    def admin(self, cls: type[Event], **fields: object) -> None:
        self.ledger.append(self._event(cls, fields), [ADMIN])

    def committee(self, cls: type[Event], **fields: object) -> int:
        """Append with the committee's signatures; return the entry's seq."""
        return self.ledger.append(self._event(cls, fields), COMMITTEE).entry.seq

    def refused(self, error: type[LedgerError], cls: type[Event], **fields: object) -> LedgerError:
        """Append with the committee's signatures, expecting exactly ``error``, nothing written."""
        size = self.ledger.size()
        with pytest.raises(error) as info:
            self.committee(cls, **fields)
        assert type(info.value) is error, info.value
        assert self.ledger.size() == size
        return info.value

    def adopt(self, version: int, effective_from: dt.date) -> int:
        return self.committee(
            AdoptSplitPolicy,
            policy_id="3331",
            version=version,
            effective_from=effective_from,
            policy=THREE_THREE_THREE_ONE,
            accounts=FUNDS,
            investor=InvestorTerms(account=INVESTOR, schedule=SCHEDULE, contract_start_year=2024),
        )

    def roster(self) -> int:
        return self.committee(
            RecordRoster,
            roster_id="r1",
            as_of=DAY,
            shareholders=tuple(Holding(account=a, shares=n) for a, n in SHAREHOLDERS.items()),
            villagers=VILLAGERS,
        )

    def revenue(self, period: str, amount: int) -> int:
        return self.committee(
            RecordRevenue, account=REVENUE, period=period, fiscal_year=2024, amount=amount
        )

    def cny(self, account: str) -> int:
        return self.ledger.balance(account, Asset.CNY).posted


@pytest.fixture
def village() -> Village:
    """The village with version 1 of the policy (from 2024-01-01) and roster r1."""
    village = Village()
    village.adopt(1, dt.date(2024, 1, 1))
    village.roster()
    return village


def _distribute(amount: int, period: str = "2024-H1") -> dict[str, object]:
    return {"period": period, "policy_id": "3331", "roster_id": "r1", "amount": amount}


def test_a_new_version_takes_effect_no_earlier_than_the_last_one(village: Village) -> None:
    # Compared with the last version, not the first: version 3 may not come before 2.
    village.adopt(2, dt.date(2024, 3, 1))
    error = village.refused(
        InvalidEventError,
        AdoptSplitPolicy,
        policy_id="3331",
        version=3,
        effective_from=dt.date(2024, 2, 1),
        policy=THREE_THREE_THREE_ONE,
        accounts=FUNDS,
    )
    assert "before version 2 (2024-03-01)" in str(error)
    village.adopt(3, dt.date(2024, 3, 1))


def test_a_period_pays_out_no_more_than_it_recorded(village: Village) -> None:
    # The revenue account holds 1,500 yuan, but period H1 only recorded 1,000.
    village.revenue("2024-H1", 100_000)
    village.revenue("2024-H2", 50_000)
    error = village.refused(LimitExceededError, Distribute, **_distribute(100_001))
    assert error.details == {"period": "2024-H1", "left": 100_000, "needed": 100_001}
    village.committee(Distribute, **_distribute(100_000))
    assert village.cny(REVENUE) == 50_000


def test_the_derived_distribution_is_frozen() -> None:
    result = distribute(
        1_000,
        THREE_THREE_THREE_ONE,
        investor_schedule=SCHEDULE,
        contract_year=1,
        shares={"shareholders": SHAREHOLDERS},
        members={"villagers": list(VILLAGERS)},
    )
    derived = DerivedDistribution(
        distribution=result,
        source_account=REVENUE,
        policy_version=1,
        contract_year=1,
        postings=distribution_postings(REVENUE, result),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        derived.policy_version = 2  # type: ignore[misc]


def test_what_is_left_of_a_period_is_what_it_recorded_less_what_it_paid(village: Village) -> None:
    village.revenue("2024-H1", 100_000)
    village.revenue("2024-H2", 50_000)
    village.committee(Distribute, **_distribute(60_000))
    error = village.refused(LimitExceededError, Distribute, **_distribute(40_001))
    assert error.details == {"period": "2024-H1", "left": 40_000, "needed": 40_001}
    village.committee(Distribute, **_distribute(40_000))
    assert village.cny(REVENUE) == 50_000


def test_a_distribution_without_a_roster_names_the_buckets_paid_by_roster(
    village: Village,
) -> None:
    village.revenue("2024-H1", 100_000)
    fields = {**_distribute(1_000), "roster_id": None}
    error = village.refused(NotFoundError, Distribute, **fields)
    assert "pays bucket(s) shareholders, villagers by roster" in str(error)


def test_a_past_distribution_is_explained_by_the_version_then_in_force(village: Village) -> None:
    village.revenue("2024-H1", 100_000)
    seq = village.committee(Distribute, **_distribute(10_000))
    # Version 2, in force on the same day but adopted later, pays no investor.
    village.committee(
        AdoptSplitPolicy,
        policy_id="3331",
        version=2,
        effective_from=DAY,
        policy=THREE_THREE_THREE_ONE,
        accounts=FUNDS,
    )
    explained = village.ledger.explain_distribution(seq)
    paid = {p.account: p.amount for p in village.ledger.entry(seq).postings if p.amount > 0}
    assert {a: n for a, n in explained.amounts.items() if n} == paid
    assert paid[INVESTOR] > 0
    now = village.ledger.preview_distribution(
        Distribute(id="preview", effective_at=DAY, **_distribute(10_000))  # type: ignore[arg-type]
    )
    assert now.amounts.get(INVESTOR, 0) == 0
