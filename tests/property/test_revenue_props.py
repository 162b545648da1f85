"""Distributions through a real ledger conserve the amount and match ``split.distribute``."""

from __future__ import annotations

import datetime as dt
import tempfile
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_ledger import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
    Distribute,
    Event,
    Holding,
    InvestorTerms,
    KeySpec,
    Ledger,
    OpenAccount,
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
    Signer,
)
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, distribute

DAY = dt.date(2030, 3, 1)
NOW = dt.datetime(2030, 3, 1, 2, 0, tzinfo=dt.UTC)
ADMIN = Signer.from_seed(bytes([3]) * 32)
COMMITTEE = [Signer.from_seed(bytes([30 + i]) * 32) for i in range(2)]
FUNDS = {"public_welfare_fund": "fund:welfare", "project_reserve_fund": "fund:reserve"}
SCHEDULE = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)


@st.composite
def villages(draw: st.DrawFn) -> tuple[dict[str, int], list[str]]:
    shares = draw(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6))
    holders = {f"sh{i}": n for i, n in enumerate(shares)}
    villagers = [f"v{i}" for i in range(draw(st.integers(min_value=1, max_value=9)))]
    # Some shareholders are villagers too: they are paid in both buckets, in one posting.
    villagers += draw(st.lists(st.sampled_from(sorted(holders)), unique=True, max_size=3))
    return holders, villagers


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    village=villages(),
    amount=st.integers(min_value=1, max_value=10**12),
    year=st.one_of(st.none(), st.integers(min_value=1, max_value=20)),
)
def test_ledger_distribution_matches_split(
    village: tuple[dict[str, int], list[str]], amount: int, year: int | None
) -> None:
    holders, villagers = village
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger.create(
            Path(folder) / "p.db",
            origin="example.org/prop",
            log_key=Signer.from_seed(bytes([4]) * 32),
            admins=[ADMIN],
            threshold=1,
            effective_at=DAY,
            clock=lambda: NOW,
        )
        with ledger:
            accounts = {"fund:revenue": AccountKind.FUND, "inv": AccountKind.INVESTOR}
            accounts |= dict.fromkeys(FUNDS.values(), AccountKind.FUND)
            accounts |= dict.fromkeys(holders, AccountKind.SHAREHOLDER)
            accounts |= {v: AccountKind.MEMBER for v in villagers if v not in holders}
            accounts |= {f"cm:{i}": AccountKind.MEMBER for i in range(len(COMMITTEE))}
            batch: list[tuple[Event, list[Signer]]] = [
                (OpenAccount(id=f"o-{a}", effective_at=DAY, account=a, account_kind=k), [ADMIN])
                for a, k in accounts.items()
            ]
            batch += [
                (
                    RegisterKey(
                        id=f"k{i}",
                        effective_at=DAY,
                        key=KeySpec(
                            public_key=s.public_key_b64, roles=(Role.COMMITTEE,), owner=f"cm:{i}"
                        ),
                    ),
                    [ADMIN],
                )
                for i, s in enumerate(COMMITTEE)
            ]
            ledger.append_many(batch)
            investor = None
            if year is not None:
                investor = InvestorTerms(account="inv", schedule=SCHEDULE, contract_start_year=2030)
            fiscal_year = 2030 if year is None else 2029 + year
            events = [
                AdoptSplitPolicy(
                    id="adopt",
                    effective_at=DAY,
                    policy_id="p",
                    version=1,
                    effective_from=DAY,
                    policy=THREE_THREE_THREE_ONE,
                    accounts=FUNDS,
                    investor=investor,
                ),
                RecordRoster(
                    id="roster",
                    effective_at=DAY,
                    roster_id="r",
                    as_of=DAY,
                    shareholders=tuple(Holding(account=a, shares=n) for a, n in holders.items()),
                    villagers=tuple(villagers),
                ),
                RecordRevenue(
                    id="rev",
                    effective_at=DAY,
                    account="fund:revenue",
                    period="p1",
                    fiscal_year=fiscal_year,
                    amount=amount,
                ),
            ]
            ledger.append_many([(event, COMMITTEE) for event in events])
            event = Distribute(
                id="d", effective_at=DAY, period="p1", policy_id="p", roster_id="r", amount=amount
            )
            entry = ledger.append(event, COMMITTEE).entry

            expected = distribute(
                amount,
                THREE_THREE_THREE_ONE.with_accounts(FUNDS),
                investor_schedule=None if year is None else SCHEDULE,
                contract_year=year,
                investor_account="inv",
                shares={"shareholders": holders},
                members={"villagers": villagers},
            )
            assert sum(p.amount for p in entry.postings) == 0
            assert entry.postings[0].account == "fund:revenue"
            assert entry.postings[0].amount == -amount
            credits = {p.account: p.amount for p in entry.postings[1:]}
            assert credits == {k: v for k, v in expected.amounts.items() if v}
            assert all(p.amount > 0 for p in entry.postings[1:])
            assert ledger.balance("fund:revenue", Asset.CNY).posted == 0
            assert sum(ledger.balance(a, Asset.CNY).posted for a in credits) == amount
            assert ledger.audit().ok
