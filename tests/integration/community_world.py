"""A small community ledger for the community tests: accounts, keys, a clock."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from points_ledger import (
    AccountKind,
    AppendResult,
    Asset,
    DefineService,
    Event,
    JoinAlliance,
    KeySpec,
    Ledger,
    OpenAccount,
    Posting,
    RegisterKey,
    Role,
    ServiceUnit,
    Signer,
    Transfer,
)
from points_ledger.store import Store

START = dt.datetime(2023, 6, 1, 9, 0, tzinfo=dt.UTC)
EventT = TypeVar("EventT", bound=Event)


@dataclass
class Clock:
    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def seeded(name: str) -> Signer:
    return Signer.from_seed(name.encode().ljust(32, b".")[:32])


@dataclass
class World:
    ledger: Ledger
    clock: Clock
    keys: dict[str, Signer] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    _today: dt.date = field(default_factory=START.date)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    committee_people: set[str] = field(default_factory=set)

    @property
    def today(self) -> dt.date:
        """The business date new events carry."""
        return self._today

    @today.setter
    def today(self, day: dt.date) -> None:
        # Entries may be dated at most a day ahead of when they are recorded: the office
        # records a day's work on that day, so the ledger clock moves to it.
        self._today = day
        morning = dt.datetime.combine(day, START.timetz())
        self.clock.now = max(self.clock.now, morning)

    def event(self, cls: type[EventT], **fields: Any) -> EventT:
        fields.setdefault("effective_at", self.today)
        return cls(id=f"ev-{next(self._ids):05d}", **fields)

    def add(self, cls: type[Event], *signers: str, **fields: Any) -> AppendResult:
        return self.ledger.append(self.event(cls, **fields), [self.keys[s] for s in signers])

    def pts(self, account: str) -> int:
        return self.ledger.balance(account, Asset.PTS).posted

    @property
    def committee_seated(self) -> bool:
        """Whether ``COMMITTEE_THRESHOLD`` people have held committee keys (recorded once)."""
        return len(self.committee_people) >= COMMITTEE_THRESHOLD

    def agreed(self, *signers: str) -> list[str]:
        """``signers`` plus the committee quorum once the committee is seated.

        Once seated, the committee agrees with the admins to the service catalogue, the
        settlement rate, treasurer keys and further committee keys.
        """
        names = list(signers)
        if self.committee_seated:
            names += [s for s in COMMITTEE if s not in names]
        return names

    def key(self, name: str, roles: tuple[Role, ...], owner: str | None) -> None:
        """Register a key; a further key for an account is signed by its first key too."""
        self.keys[name] = seeded(name)
        signers = ["admin"]
        if owner is not None:
            first = self.owners.setdefault(owner, name)
            if first != name:
                signers.append(first)
        if Role.COMMITTEE in roles or Role.TREASURER in roles:
            # A seated committee agrees to each further committee key and to treasurers.
            signers = self.agreed(*signers)
        if Role.COMMITTEE in roles:
            assert owner is not None, "committee keys belong to a person's account"
            self.committee_people.add(owner)
        self.add(
            RegisterKey,
            *signers,
            key=KeySpec(public_key=self.keys[name].public_key_b64, roles=roles, owner=owner),
        )


ACCOUNTS = {
    "worker.g1": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1")),
    "worker.g2": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g2")),
    "vol.li": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1", "g1-03")),
    "vol.wang": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1", "g1-07")),
    "vol.zhao": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g2", "g2-01")),
    "cm.chen": (AccountKind.MEMBER, ()),
    "cm.liu": (AccountKind.MEMBER, ()),
    "cm.sun": (AccountKind.MEMBER, ()),
    "staff.zhou": (AccountKind.MEMBER, ()),
    "hh.0042": (AccountKind.BENEFICIARY, ("chenghua", "zhiqiang", "g2")),
    "barber": (AccountKind.PARTNER, ("chenghua", "zhiqiang", "g1")),
    "teahouse": (AccountKind.PARTNER, ("chenghua", "zhiqiang", "g2")),
    "pool.charity": (AccountKind.POOL, ()),
    "fund.community": (AccountKind.FUND, ()),
}


COMMITTEE = ("cm.chen", "cm.liu")
"""Committee keys that sign where the committee quorum must agree (minting, new members,
and once seated the catalogue, the settlement rate and treasurer keys)."""
COMMITTEE_THRESHOLD = 2
"""The ledger's committee threshold (the default)."""


def build_world(
    tmp: Path,
    *,
    fund_fen: int = 100_000,
    store: Store | None = None,
    nonce: str | None = None,
) -> World:
    """Genesis, accounts, keys, the catalogue, two alliance partners, a funded fund.

    The ledger is ``tmp / "community.db"``, or lives in ``store`` when one is given.
    """
    clock = Clock()
    admin = seeded("admin")
    ledger = Ledger.create(
        tmp / "community.db" if store is None else store,
        nonce=nonce,
        origin="chengdu.example/chenghua/zhiqiang",
        log_key=seeded("log"),
        admins=[admin],
        threshold=1,
        effective_at=START.date(),
        clock=clock,
    )
    world = World(ledger=ledger, clock=clock, keys={"admin": admin})
    for account, (kind, grid) in ACCOUNTS.items():
        world.add(OpenAccount, "admin", account=account, account_kind=kind, grid=grid)
    world.key("worker.g1", (Role.ISSUER, Role.MEMBER), "worker.g1")
    world.key("worker.g2", (Role.ISSUER, Role.MEMBER), "worker.g2")
    for member in ("vol.li", "vol.wang", "vol.zhao", "hh.0042"):
        world.key(member, (Role.MEMBER,), member)
    for person in ("cm.chen", "cm.liu", "cm.sun"):
        world.key(person, (Role.COMMITTEE,), person)
    world.key("cm.chen.2", (Role.COMMITTEE,), "cm.chen")
    world.key("treasurer", (Role.TREASURER,), "staff.zhou")
    # The committee is seated by now: the admins and the committee define the catalogue.
    world.add(
        DefineService,
        "admin",
        *COMMITTEE,
        code="gas-check",
        name="Gas safety check",
        points_per_unit=10,
        unit=ServiceUnit.HOUSEHOLD,
        points_per_day_max=50,
        points_per_month_max=300,
        active_from=dt.date(2023, 1, 1),
    )
    world.add(
        DefineService,
        "admin",
        *COMMITTEE,
        code="elder-visit",
        name="Visit to an elderly resident",
        points_per_unit=20,
        unit=ServiceUnit.VISIT,
        points_per_day_max=60,
        active_from=dt.date(2023, 1, 1),
        active_to=dt.date(2023, 12, 31),
    )
    for partner, name in (("barber", "Zhiqiang barber"), ("teahouse", "Corner teahouse")):
        world.keys[partner] = seeded(partner)
        world.add(
            JoinAlliance,
            "admin",
            partner=partner,
            name=name,
            public_key=world.keys[partner].public_key_b64,
        )
    world.add(
        Transfer,
        "admin",
        *COMMITTEE,
        postings=(
            Posting(account="external", asset=Asset.CNY, amount=-fund_fen),
            Posting(account="fund.community", asset=Asset.CNY, amount=fund_fen),
        ),
        memo="street office grant to the community fund",
    )
    return world
