"""A village year: record collective income, pay the investor, split the rest 3:3:3:1.

Quanxing village shares its collective income 3:3:3:1 among shareholding villagers, the
public-welfare fund, the project reserve fund and all villagers, after an outside investor
takes its share (70% in contract year 1, falling to 10% by year 20).

Contents:
    1. Generate keys: a log key, an admin and three village committee members.
    2. Create the ledger; open the revenue account, two funds, the investor, shareholders
       and villagers; register the committee keys.
    3. The committee adopts the 3331 policy with the investor's 20-year schedule.
    4. The committee records the roster: shareholders with their shares, and villagers.
    5. The committee records the year's income: 1,000,000.01 CNY from outside.
    6. Preview the distribution and print its step-by-step working (the explain trace).
    7. One committee signature is not enough: the ledger refuses and writes nothing.
    8. Two committee members sign: the investor and all villagers are paid in one entry.
    9. Read balances and audit the whole file.

Run it with ``python examples/village_year.py``; it works in a temporary folder, offline.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from fractions import Fraction
from pathlib import Path

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
    LedgerError,
    OpenAccount,
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
    Signer,
)
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, format_fen, format_trace

DAY = dt.date(2027, 1, 15)
NOW = dt.datetime(2027, 1, 15, 2, 0, tzinfo=dt.UTC)  # ledger time: 10:00 in Chengdu that day
REVENUE = "fund:revenue"
FUNDS = {"public_welfare_fund": "fund:welfare", "project_reserve_fund": "fund:reserve"}
INVESTOR = "inv:agri-partner"
# Six shareholding households with unequal shares; twelve villagers (the shareholders too).
SHARES = {"hh:01": 1, "hh:02": 1, "hh:03": 2, "hh:04": 2, "hh:05": 3, "hh:06": 5}
VILLAGERS = [*SHARES, *(f"hh:{n:02d}" for n in range(7, 13))]


def main(folder: Path) -> None:
    """Play the steps listed in the module docstring inside ``folder``."""
    # 1. Keys. The committee signs policies, rosters, revenue and distributions (2 of 3).
    log_key, admin = Signer.generate(), Signer.generate()
    committee = [Signer.generate() for _ in range(3)]

    # 2. The ledger, its accounts and the committee's keys.
    ledger = Ledger.create(
        folder / "quanxing.db",
        origin="chongzhou.example/quanxing",
        log_key=log_key,
        admins=[admin],
        threshold=1,  # one admin acting alone, chosen knowingly; audit() lists it
        committee_threshold=2,
        effective_at=DAY,
        clock=lambda: NOW,
    )
    with ledger:
        kinds = {REVENUE: AccountKind.FUND, INVESTOR: AccountKind.INVESTOR}
        kinds |= dict.fromkeys(FUNDS.values(), AccountKind.FUND)
        kinds |= {v: AccountKind.MEMBER for v in VILLAGERS}
        kinds |= dict.fromkeys(SHARES, AccountKind.SHAREHOLDER)
        setup: list[tuple[Event, list[Signer]]] = [
            (OpenAccount(id=f"open-{a}", effective_at=DAY, account=a, account_kind=k), [admin])
            for a, k in kinds.items()
        ]
        setup += [
            (
                RegisterKey(
                    id=f"key-committee-{n}",
                    effective_at=DAY,
                    # Each committee key names its holder's own account (a villager).
                    key=KeySpec(
                        public_key=s.public_key_b64, roles=(Role.COMMITTEE,), owner=VILLAGERS[n]
                    ),
                ),
                # The admin seats the first two; then the committee agrees to the third.
                [admin] if n < 2 else [admin, *committee[:2]],
            )
            for n, s in enumerate(committee)
        ]
        ledger.append_many(setup)
        quorum = committee[:2]

        # 3. The policy: investor first (70% falling to 10% over 20 years from 2026), then
        #    3:3:3:1; the two fund buckets point at the village's real fund accounts.
        schedule = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)
        adoption = AdoptSplitPolicy(
            id="adopt-3331-v1",
            effective_at=DAY,
            policy_id="quanxing-3331",
            version=1,
            effective_from=dt.date(2026, 1, 1),
            policy=THREE_THREE_THREE_ONE,
            accounts=FUNDS,
            investor=InvestorTerms(account=INVESTOR, schedule=schedule, contract_start_year=2026),
        )
        ledger.append(adoption, quorum)

        # 4. The roster: who holds how many shares, and who counts per capita.
        roster = RecordRoster(
            id="roster-2026",
            effective_at=DAY,
            roster_id="roster-2026",
            as_of=dt.date(2026, 12, 31),
            shareholders=tuple(Holding(account=a, shares=n) for a, n in SHARES.items()),
            villagers=tuple(VILLAGERS),
        )
        ledger.append(roster, quorum)

        # 5. The year's income arrives from outside into the revenue account.
        income = RecordRevenue(
            id="revenue-2026",
            effective_at=DAY,
            account=REVENUE,
            period="2026",
            fiscal_year=2026,
            amount=100_000_001,
        )
        ledger.append(income, quorum)
        print(f"revenue account holds {format_fen(ledger.balance(REVENUE, Asset.CNY).posted)} CNY")

        # 6. The committee reads exactly what will be paid, and why, before signing.
        payout = Distribute(
            id="distribute-2026",
            effective_at=DAY,
            period="2026",
            policy_id="quanxing-3331",
            roster_id="roster-2026",
            amount=100_000_001,
        )
        preview = ledger.preview_distribution(payout)
        print(format_trace(preview.trace))

        # 7. A single committee member cannot pay out the village's money.
        try:
            ledger.append(payout, committee[:1])
        except LedgerError as error:
            print(f"refused: [{error.code}] {error}")

        # 8. Two members sign; the ledger re-derives the same postings and stores them.
        entry = ledger.append(payout, quorum).entry
        print(f"distribution stored as entry {entry.seq} with {len(entry.postings)} postings")

        # 9. Balances and an audit that replays every entry, re-deriving every posting.
        for account in (INVESTOR, *FUNDS.values(), "hh:06", "hh:12", REVENUE):
            cny = ledger.balance(account, Asset.CNY).posted
            print(f"  {account:<18} {format_fen(cny):>14} CNY")
        print(ledger.audit().to_text())


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
