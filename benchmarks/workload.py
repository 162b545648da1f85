"""Build ledgers of a given size from the everyday mix of a district's events.

The mix follows the benchmark issue: awards 70%, redemptions (hold then confirm) 15%,
donations 5%, grants 2%, plain transfers 6%, and a revenue record plus a 3:3:3:1
distribution now and then; partners are settled when their unsettled redemptions pile
up. Every event is signed the way it is in real use (grid workers sign awards, members
sign holds and donations, partners confirm, two committee members sign grants).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from points_ledger import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    Distribute,
    Donate,
    Event,
    Grant,
    Holding,
    HoldRedemption,
    InvestorTerms,
    JoinAlliance,
    KeySpec,
    Ledger,
    ListOffer,
    OpenAccount,
    Posting,
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Signature,
    Signer,
    Transfer,
    UpdateOffer,
)
from points_ledger.domain.alliance import voucher_code
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule

DAY = dt.date(2026, 11, 2)
ORIGIN = "bench.example/district"
SETTLE_EVERY = 1500

Item = tuple[Event, list[Signer]]


@dataclass
class Community:
    """Accounts, keys and running counters of a benchmark ledger."""

    admin: Signer
    log_key: Signer
    rng: random.Random
    members: list[str]
    keys: dict[str, Signer] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    workers: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    committee: list[Signer] = field(default_factory=list)
    beneficiaries: list[str] = field(default_factory=list)
    treasurer: Signer | None = None
    pool: int = 0
    unsettled: dict[str, int] = field(default_factory=dict)
    counter: int = 0
    periods: int = 0


def fixed_clock() -> dt.datetime:
    """A clock that stands still (the ledger keeps recorded_at non-decreasing)."""
    return dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _key(community: Community, name: str, roles: tuple[Role, ...], owner: str | None) -> Item:
    signer = Signer.from_seed(community.rng.randbytes(32))
    community.keys[name] = signer
    spec = KeySpec(public_key=signer.public_key_b64, roles=roles, owner=owner)
    return RegisterKey(id=f"key-{name}", effective_at=DAY, key=spec), [community.admin]


def _open(
    community: Community, account: str, kind: AccountKind, grid: tuple[str, ...] = ()
) -> Item:
    event = OpenAccount(
        id=f"open-{account}", effective_at=DAY, account=account, account_kind=kind, grid=grid
    )
    return event, [community.admin]


def create(path: Path | str, members: int = 200, seed: int = 7) -> tuple[Ledger, Community]:
    """Create a district ledger: members, grid workers, partners, pool, committee, village.

    ``path`` is a new SQLite file or a ``postgresql://…?schema=NAME`` URL.
    """
    rng = random.Random(seed)
    admin = Signer.from_seed(rng.randbytes(32))
    log_key = Signer.from_seed(rng.randbytes(32))
    ledger = Ledger.create(
        path, origin=ORIGIN, log_key=log_key, admins=[admin], threshold=1, clock=fixed_clock
    )
    names = [f"vol:{i:06d}" for i in range(members)]
    c = Community(admin=admin, log_key=log_key, rng=rng, members=names)
    setup: list[Item] = [
        _open(c, "pool", AccountKind.POOL),
        _open(c, "fund:settle", AccountKind.FUND),
        _open(c, "fund:revenue", AccountKind.FUND),
        _open(c, "fund:welfare", AccountKind.FUND),
        _open(c, "fund:reserve", AccountKind.FUND),
        _open(c, "inv:partner", AccountKind.INVESTOR),
    ]
    for name in names:
        c.balances[name] = 0
        setup.append(_open(c, name, AccountKind.MEMBER, ("bench", f"grid-{int(name[4:]) % 8}")))
        setup.append(_key(c, name, (Role.MEMBER,), name))
    for n in range(20):
        worker = f"worker:{n:03d}"
        c.workers.append(worker)
        setup.append(_open(c, worker, AccountKind.MEMBER, ("bench", f"grid-{n % 8}")))
        setup.append(_key(c, worker, (Role.ISSUER, Role.MEMBER), worker))
    for n in range(20):
        setup.append(_open(c, f"sh:{n:03d}", AccountKind.SHAREHOLDER))
    for n in range(10):
        beneficiary = f"hh:{n:03d}"
        c.beneficiaries.append(beneficiary)
        setup.append(_open(c, beneficiary, AccountKind.BENEFICIARY))
    for n in range(3):
        person = f"cm:{n}"
        setup.append(_open(c, person, AccountKind.MEMBER))
        event, signers = _key(c, person, (Role.COMMITTEE,), person)
        # Once two people (the committee threshold) hold committee keys, the committee
        # agrees to each further member.
        seated = c.committee[:2] if len(c.committee) >= 2 else []
        setup.append((event, [*signers, *seated]))
        c.committee.append(c.keys[person])
    seated = c.committee[:2]
    # The committee is seated: it agrees with the admin to the treasurer, the catalogue and
    # the settlement rate.
    setup.append(_open(c, "staff:treasurer", AccountKind.MEMBER))
    event, signers = _key(c, "treasurer", (Role.TREASURER,), "staff:treasurer")
    setup.append((event, [*signers, *seated]))
    c.treasurer = c.keys["treasurer"]
    for n in range(5):
        partner = f"partner:{n}"
        c.partners.append(partner)
        c.unsettled[partner] = 0
        c.keys[partner] = Signer.from_seed(rng.randbytes(32))
        setup.append(_open(c, partner, AccountKind.PARTNER))
        setup.append(
            (
                JoinAlliance(
                    id=f"join-{partner}",
                    effective_at=DAY,
                    partner=partner,
                    name=f"Partner {n}",
                    public_key=c.keys[partner].public_key_b64,
                ),
                [admin],
            )
        )
    for code, points in (("gas-check", 10), ("elder-visit", 20)):
        setup.append(
            (
                DefineService(
                    id=f"service-{code}",
                    effective_at=DAY,
                    code=code,
                    name=code,
                    points_per_unit=points,
                    unit=ServiceUnit.VISIT,
                    active_from=dt.date(2026, 1, 1),
                ),
                [admin, *seated],
            )
        )
    rate = SetSettlementRate(id="rate", effective_at=DAY, fen_per_point=5)
    setup.append((rate, [admin, *seated]))
    setup.append(
        (
            Transfer(
                id="fund-settle",
                effective_at=DAY,
                postings=(
                    Posting(account="external", asset=Asset.CNY, amount=-(10**13)),
                    Posting(account="fund:settle", asset=Asset.CNY, amount=10**13),
                ),
            ),
            [admin, *seated],  # money brought in: the committee agrees
        )
    )
    for start in range(0, len(setup), 1000):
        ledger.append_many(setup[start : start + 1000])
    quorum = c.committee[:2]
    offers = [
        (
            ListOffer(
                id=f"list-{p}",
                effective_at=DAY,
                offer=f"offer-{p}",
                partner=p,
                item="haircut",
                price_points=10,
                stock=100_000,
            ),
            [c.keys[p]],
        )
        for p in c.partners
    ]
    shareholders = [f"sh:{n:03d}" for n in range(20)]
    village: list[Item] = [
        (
            AdoptSplitPolicy(
                id="adopt-3331",
                effective_at=DAY,
                policy_id="village-3331",
                version=1,
                effective_from=dt.date(2026, 1, 1),
                policy=THREE_THREE_THREE_ONE,
                accounts={
                    "public_welfare_fund": "fund:welfare",
                    "project_reserve_fund": "fund:reserve",
                },
                investor=InvestorTerms(
                    account="inv:partner",
                    schedule=InvestorSchedule.linear(
                        start=Fraction(7, 10), end=Fraction(1, 10), years=20
                    ),
                    contract_start_year=2026,
                ),
            ),
            quorum,
        ),
        (
            RecordRoster(
                id="roster",
                effective_at=DAY,
                roster_id="roster",
                as_of=DAY,
                shareholders=tuple(
                    Holding(account=a, shares=1 + i % 3) for i, a in enumerate(shareholders)
                ),
                villagers=(*shareholders, *c.members[:40]),
            ),
            quorum,
        ),
    ]
    ledger.append_many([*offers, *village])
    return ledger, c


def _award(c: Community, n: int) -> Item:
    member = c.rng.choice(c.members)
    worker = c.rng.choice(c.workers)
    service, points = c.rng.choice((("gas-check", 10), ("elder-visit", 20)))
    c.balances[member] += points
    event = AwardPoints(
        id=f"award-{n}",
        effective_at=DAY,
        volunteer=member,
        service=service,
        quantity=1,
        grid_cell="grid",
        task_ref=f"task-{n}",
    )
    return event, [c.keys[worker]]


def events(c: Community, count: int, first_seq: int) -> Iterator[Item]:
    """Yield about ``count`` events of the mix, for entries starting at ``first_seq``."""
    seq = first_seq
    produced = 0
    while produced < count:
        c.counter += 1
        n = c.counter
        roll = c.rng.random()
        member = c.rng.choice(c.members)
        partner = c.rng.choice(c.partners)
        batch: list[Item]
        if roll < 0.70 or c.balances[member] < 40:
            batch = [_award(c, n)]
        elif roll < 0.85 and produced + 2 <= count:
            c.balances[member] -= 10
            c.unsettled[partner] += 1
            hold = HoldRedemption(
                id=f"hold-{n}", effective_at=DAY, member=member, offer=f"offer-{partner}", points=10
            )
            confirm = ConfirmRedemption(
                id=f"confirm-{n}", effective_at=DAY, voucher=voucher_code(seq)
            )
            batch = [(hold, [c.keys[member]]), (confirm, [c.keys[partner]])]
            if c.unsettled[partner] >= SETTLE_EVERY:
                c.unsettled[partner] = 0
                settle = SettlePartner(
                    id=f"settle-{n}",
                    effective_at=DAY,
                    partner=partner,
                    fund="fund:settle",
                    period_from=DAY,
                    period_to=DAY,
                )
                assert c.treasurer is not None
                batch.append((settle, [c.treasurer]))
                refill = UpdateOffer(
                    id=f"refill-{n}", effective_at=DAY, offer=f"offer-{partner}", stock=100_000
                )
                batch.append((refill, [c.keys[partner]]))
        elif roll < 0.90:
            points = c.rng.randint(1, 30)
            c.balances[member] -= points
            c.pool += points
            batch = [
                (
                    Donate(
                        id=f"donate-{n}", effective_at=DAY, donor=member, pool="pool", points=points
                    ),
                    [c.keys[member]],
                )
            ]
        elif roll < 0.92 and c.pool >= 10:
            c.pool -= 10
            grant = Grant(
                id=f"grant-{n}",
                effective_at=DAY,
                pool="pool",
                beneficiary=c.rng.choice(c.beneficiaries),
                points=10,
                purpose="care visit",
            )
            batch = [(grant, c.committee[:2])]
        elif roll < 0.995:
            other = c.rng.choice([m for m in c.rng.sample(c.members, 2) if m != member])
            amount = c.rng.randint(1, 20)
            c.balances[member] -= amount
            c.balances[other] += amount
            batch = [
                (
                    Transfer(
                        id=f"transfer-{n}",
                        effective_at=DAY,
                        postings=(
                            Posting(account=member, asset=Asset.PTS, amount=-amount),
                            Posting(account=other, asset=Asset.PTS, amount=amount),
                        ),
                    ),
                    [c.keys[member]],
                )
            ]
        elif produced + 2 <= count:
            c.periods += 1
            period = f"p{c.periods}"
            record = RecordRevenue(
                id=f"revenue-{n}",
                effective_at=DAY,
                account="fund:revenue",
                period=period,
                fiscal_year=2026,
                amount=1_000_001,
            )
            payout = Distribute(
                id=f"distribute-{n}",
                effective_at=DAY,
                period=period,
                policy_id="village-3331",
                roster_id="roster",
                amount=1_000_001,
            )
            batch = [(record, c.committee[:2]), (payout, c.committee[:2])]
        else:
            batch = [_award(c, n)]
        for item in batch:
            yield item
            seq += 1
            produced += 1


def presign(
    ledger: Ledger, items: Iterator[Item] | list[Item]
) -> list[tuple[Event, list[Signature]]]:
    """Sign events ahead of time, as clients do, so timings measure the ledger alone."""
    return [(event, [ledger.sign(event, s) for s in signers]) for event, signers in items]


def grow(ledger: Ledger, c: Community, count: int, batch: int = 1000) -> None:
    """Append about ``count`` events of the mix in batches."""
    while count > 0:
        size = min(batch, count)
        items = list(events(c, size, ledger.size()))
        ledger.append_many(items)
        count -= len(items)
